// The cost of putting a stdio bridge between an MCP client and a local Streamable HTTP
// server: a direct HTTP client, `mcpauth proxy`, and `mcp-remote` 0.15.1, side by side in
// one run against one server (tests/peers/server.mjs on the official SDK, JSON answers).
//
//   node benches/proxy.mjs MCPAUTH_BINARY [CALLS]
//
// Run it through benches/proxy.sh, which builds the release binary and the peers first.
// For each client: per-call latency of `tools/call echo` (p50, p99) after a warm-up,
// calls per second (one call at a time), the bridge's peak RSS (VmHWM) after the calls
// and again after one 10 MB answer, and spawn → initialize answer (median of SPAWNS).
// Prints a Markdown table and the goals of issue 3 as ratios. Machines here are shared
// and noisy: clients take turns in rounds, so a burst of load lands on all of them.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';

const here = dirname(fileURLToPath(import.meta.url));
const peers = join(here, '..', 'tests', 'peers');
const mcpauth = process.argv[2];
const CALLS = Number(process.argv[3] ?? 2000);
const ROUNDS = 4;
const WARMUP = 200;
const SPAWNS = 10;
const BIG = 10 * 1000 * 1000;
if (!mcpauth) {
  console.error('usage: node benches/proxy.mjs MCPAUTH_BINARY [CALLS]');
  process.exit(2);
}

const INIT = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'mcpauth-bench', version: '1' },
};

// ---- the server --------------------------------------------------------------------

function startServer() {
  const child = spawn(process.execPath, [join(peers, 'server.mjs'), '--json'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const port = Number(line.replace('PORT ', ''));
      if (!port) reject(new Error(`server said ${line}`));
      resolve({ child, url: `http://127.0.0.1:${port}/mcp` });
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

// ---- clients ------------------------------------------------------------------------

/** A Streamable HTTP client on a keep-alive connection: the floor the bridges add to. */
class Direct {
  constructor(url) {
    this.url = new URL(url);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    this.session = undefined;
    this.nextId = 1;
    this.pid = undefined;
  }
  post(message) {
    const body = JSON.stringify(message);
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'content-length': Buffer.byteLength(body),
      'mcp-protocol-version': INIT.protocolVersion,
    };
    if (this.session) headers['mcp-session-id'] = this.session;
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.url.hostname, port: this.url.port, path: this.url.pathname, method: 'POST', headers, agent: this.agent },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            if (res.headers['mcp-session-id']) this.session = res.headers['mcp-session-id'];
            const text = Buffer.concat(chunks).toString('utf8');
            if (!text) return resolve(undefined);
            if (res.headers['content-type']?.startsWith('text/event-stream')) {
              const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).join('');
              return resolve(JSON.parse(data));
            }
            resolve(JSON.parse(text));
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
  async request(method, params) {
    return this.post({ jsonrpc: '2.0', id: this.nextId++, method, params });
  }
  async notify(method) {
    await this.post({ jsonrpc: '2.0', method });
  }
  async close() {
    this.agent.destroy();
  }
}

/** An MCP client that starts a stdio bridge, as Claude Desktop or Cursor would. */
class Stdio {
  constructor(command, args, env) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.pid = this.child.pid;
    this.waiting = new Map();
    this.nextId = 1;
    this.stderr = '';
    this.child.stderr.on('data', (d) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    const lines = createInterface({ input: this.child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      const done = this.waiting.get(msg.id);
      if (done) {
        this.waiting.delete(msg.id);
        done(msg);
      }
    });
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
  }
  request(method, params) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${method}; stderr:\n${this.stderr}`)), 60000);
      this.waiting.set(id, (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      this.child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    });
  }
  async notify(method) {
    this.child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method }) + '\n');
  }
  async close() {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

function peakRss(pid) {
  if (!pid) return undefined;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  return kb * 1024;
}

const scratch = mkdtempSync(join(tmpdir(), 'mcpauth-bench-'));
const kinds = {
  direct: (url) => new Direct(url),
  'mcpauth proxy': (url) =>
    new Stdio(mcpauth, ['proxy', url, '--login', 'never'], { MCPAUTH_HOME: join(scratch, 'mcpauth'), MCPAUTH_STORE: 'file' }),
  'mcp-remote 0.15.1': (url) =>
    new Stdio(process.execPath, [join(peers, 'node_modules', 'mcp-remote', 'dist', 'proxy.js'), url], {
      MCP_REMOTE_CONFIG_DIR: join(scratch, 'mcp-remote'),
    }),
};

async function open(kind, url) {
  const client = kinds[kind](url);
  const answer = await client.request('initialize', INIT);
  if (!answer?.result) throw new Error(`${kind}: initialize failed: ${JSON.stringify(answer)}`);
  await client.notify('notifications/initialized');
  return client;
}

async function echo(client, i) {
  const answer = await client.request('tools/call', { name: 'echo', arguments: { text: `call ${i}` } });
  if (answer?.result?.content?.[0]?.text !== `call ${i}`) {
    throw new Error(`wrong answer: ${JSON.stringify(answer).slice(0, 300)}`);
  }
}

// ---- measuring -----------------------------------------------------------------------

const ms = (ns) => Number(ns) / 1e6;
function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function spawnToFirstAnswer(kind, url) {
  const times = [];
  for (let i = 0; i < SPAWNS; i++) {
    const start = process.hrtime.bigint();
    const client = kinds[kind](url);
    const answer = await client.request('initialize', INIT);
    times.push(ms(process.hrtime.bigint() - start));
    if (!answer?.result) throw new Error(`${kind}: initialize failed`);
    await client.close();
  }
  times.sort((a, b) => a - b);
  return quantile(times, 0.5);
}

async function main() {
  const server = await startServer();
  const results = {};
  const clients = {};
  for (const kind of Object.keys(kinds)) {
    clients[kind] = await open(kind, server.url);
    for (let i = 0; i < WARMUP; i++) await echo(clients[kind], i);
    results[kind] = { latencies: [], elapsed: 0 };
  }
  // Rounds: each client makes CALLS/ROUNDS calls in turn, so noise is shared.
  const perRound = Math.ceil(CALLS / ROUNDS);
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of Object.keys(kinds)) {
      const res = results[kind];
      const roundStart = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++) {
        const t = process.hrtime.bigint();
        await echo(clients[kind], i);
        res.latencies.push(ms(process.hrtime.bigint() - t));
      }
      res.elapsed += ms(process.hrtime.bigint() - roundStart);
    }
  }
  for (const kind of Object.keys(kinds)) {
    const res = results[kind];
    res.latencies.sort((a, b) => a - b);
    res.p50 = quantile(res.latencies, 0.5);
    res.p99 = quantile(res.latencies, 0.99);
    res.rate = (res.latencies.length / res.elapsed) * 1000;
    res.rss = peakRss(clients[kind].pid);
    const big = await clients[kind].request('tools/call', { name: 'big', arguments: { size: BIG } });
    if (big?.result?.content?.[0]?.text?.length !== BIG) throw new Error(`${kind}: the 10 MB answer did not arrive whole`);
    res.rssBig = peakRss(clients[kind].pid);
    await clients[kind].close();
    res.spawn = await spawnToFirstAnswer(kind, server.url);
  }
  server.child.kill();
  rmSync(scratch, { recursive: true, force: true });

  const mb = (b) => (b === undefined ? 'n/a' : `${(b / 1024 / 1024).toFixed(1)} MB`);
  const f = (x) => `${x.toFixed(3)} ms`;
  const direct = results.direct;
  console.log(`${CALLS} sequential tools/call per client (after ${WARMUP} warm-up calls), ${ROUNDS} interleaved rounds; spawn time is the median of ${SPAWNS}.\n`);
  console.log('| client | p50 | p99 | added at p50 | calls/s | peak RSS | peak RSS after a 10 MB answer | spawn → initialize answer |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [kind, r] of Object.entries(results)) {
    const added = kind === 'direct' ? '-' : f(r.p50 - direct.p50);
    const spawnCol = kind === 'direct' ? `${f(r.spawn)} (no process)` : f(r.spawn);
    console.log(`| ${kind} | ${f(r.p50)} | ${f(r.p99)} | ${added} | ${r.rate.toFixed(0)} | ${mb(r.rss)} | ${mb(r.rssBig)} | ${spawnCol} |`);
  }
  const ours = results['mcpauth proxy'];
  const theirs = results['mcp-remote 0.15.1'];
  const oursAdded = ours.p50 - direct.p50;
  const theirsAdded = theirs.p50 - direct.p50;
  const goals = [
    [`adds under 0.3 ms at p50 over direct (adds ${f(oursAdded)})`, oursAdded < 0.3],
    [
      oursAdded <= 0.01
        ? `adds at least 5x less latency than mcp-remote (mcp-remote adds ${f(theirsAdded)}; mcpauth nothing measurable)`
        : `adds at least 5x less latency than mcp-remote (${(theirsAdded / oursAdded).toFixed(1)}x less)`,
      theirsAdded >= 5 * Math.max(oursAdded, 0),
    ],
    [`uses at least 5x less memory than mcp-remote (${(theirs.rss / ours.rss).toFixed(1)}x less)`, theirs.rss >= 5 * ours.rss],
    [`answers initialize within 50 ms of spawn (${f(ours.spawn)})`, ours.spawn < 50],
    [`a 10 MB answer costs a small multiple of itself (peak RSS grew ${mb(ours.rssBig - ours.rss)})`, ours.rssBig - ours.rss < 5 * BIG],
  ];
  console.log('\nGoals (mcpauth proxy):\n');
  for (const [what, met] of goals) console.log(`- ${met ? 'MET ' : 'MISSED'} ${what}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
