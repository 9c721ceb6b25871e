// A minimal stdio MCP host that drives `mcpauth proxy` for the conformance suite.
//
//   conformance-host.mjs <server-url>
//
// The suite starts its own MCP (and authorization) servers and runs a client command
// with the server URL appended. Our client is a stdio proxy, so this host stands in for
// Claude Desktop: it spawns `$MCPAUTH_BIN proxy <server-url>` (the environment passes
// through, MCPAUTH_HOME and MCPAUTH_BROWSER included), then sends initialize,
// notifications/initialized, tools/list and a tools/call of every tool with arguments
// made from the tool's schema. It answers the server's requests the way a patient user
// would: elicitation is accepted with the schema's defaults, sampling gets a canned
// reply, roots an empty list. Then it closes the proxy's stdin and exits with the
// proxy's exit status (1 when the proxy could not be started or timed out).
//
// Intended use:
//   npx --prefix tests/peers conformance client \
//     --command "node tests/peers/conformance-host.mjs" --suite all

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: conformance-host.mjs <server-url>\n');
  process.exit(2);
}
const bin = process.env.MCPAUTH_BIN || 'mcpauth';
const REQUEST_TIMEOUT_MS = Number(process.env.CONFORMANCE_HOST_TIMEOUT_MS || 25000);

// The suite hands each scenario's client configuration (pre-registered credentials, a
// private key) to the client in MCP_CONFORMANCE_CONTEXT. A person would configure
// mcpauth once with `mcpauth login` before adding the proxy to their MCP client; the
// host does the same, feeding secrets on stdin and keys through a 0600 file, never argv.
const env = { ...process.env };
const scenario = env.MCP_CONFORMANCE_SCENARIO || '';
const context = env.MCP_CONFORMANCE_CONTEXT ? JSON.parse(env.MCP_CONFORMANCE_CONTEXT) : {};
if (scenario === 'auth/basic-cimd') {
  // The document URL a deployment of mcpauth would publish; the suite expects this one.
  env.MCPAUTH_CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';
}
if (context.client_id && !scenario.startsWith('auth/cross-app-access')) {
  const args = ['login', url, '--client-id', context.client_id];
  let input = '';
  let keyDir;
  if (scenario.startsWith('auth/client-credentials')) args.push('--client-credentials');
  if (context.private_key_pem) {
    keyDir = mkdtempSync(join(tmpdir(), 'mcpauth-key-'));
    const keyFile = join(keyDir, 'client.pem');
    writeFileSync(keyFile, context.private_key_pem, { mode: 0o600 });
    args.push('--client-key-file', keyFile);
  } else if (context.client_secret) {
    args.push('--client-secret');
    input = `${context.client_secret}\n`;
  }
  const login = spawnSync(bin, args, { input, env, stdio: ['pipe', 'inherit', 'inherit'], timeout: REQUEST_TIMEOUT_MS });
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  if (login.status !== 0) {
    process.stderr.write(`conformance-host: \`mcpauth login\` failed (${login.status ?? login.error})\n`);
    process.exit(1);
  }
}

const proxy = spawn(bin, ['proxy', url], {
  stdio: ['pipe', 'pipe', 'inherit'],
  env,
});
proxy.on('error', (e) => {
  process.stderr.write(`conformance-host: cannot start \`${bin}\`: ${e.message}\n`);
  process.exit(1);
});
const exited = new Promise((resolve) => proxy.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));

const pending = new Map();
let nextId = 1;

function send(message) {
  proxy.stdin.write(`${JSON.stringify(message)}\n`);
}

function request(method, params) {
  const id = nextId++;
  send({ jsonrpc: '2.0', id, method, params });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`no answer to \`${method}\` within ${REQUEST_TIMEOUT_MS} ms`));
    }, REQUEST_TIMEOUT_MS);
    pending.set(id, { resolve, reject, timer, method });
  });
}

// Values a form would be pre-filled with: the schema's defaults.
function defaultsOf(schema) {
  const content = {};
  for (const [name, prop] of Object.entries(schema?.properties ?? {})) {
    if (prop && 'default' in prop) content[name] = prop.default;
  }
  return content;
}

// The smallest arguments a tool's input schema accepts: defaults where given, else a
// plain value of the declared type for each required property.
function argumentsFor(schema) {
  const args = defaultsOf(schema);
  for (const name of schema?.required ?? []) {
    if (name in args) continue;
    const prop = schema.properties?.[name] ?? {};
    args[name] = sample(prop);
  }
  return args;
}

function sample(prop) {
  if (prop.enum?.length) return prop.enum[0];
  if ('const' in prop) return prop.const;
  const type = Array.isArray(prop.type) ? prop.type[0] : prop.type;
  switch (type) {
    case 'integer':
    case 'number':
      return typeof prop.minimum === 'number' ? prop.minimum : 1;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return argumentsFor(prop);
    default:
      return 'test';
  }
}

function answerServerRequest(message) {
  const { id, method, params } = message;
  let result;
  switch (method) {
    case 'elicitation/create':
      result = params?.mode === 'url'
        ? { action: 'decline' }
        : { action: 'accept', content: defaultsOf(params?.requestedSchema) };
      break;
    case 'sampling/createMessage':
      result = { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'conformance-host', stopReason: 'endTurn' };
      break;
    case 'roots/list':
      result = { roots: [] };
      break;
    case 'ping':
      result = {};
      break;
    default:
      send({ jsonrpc: '2.0', id, error: { code: -32601, message: `method not found: ${method}` } });
      return;
  }
  send({ jsonrpc: '2.0', id, result });
}

createInterface({ input: proxy.stdout }).on('line', (line) => {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    process.stderr.write(`conformance-host: proxy wrote a non-JSON line: ${line.slice(0, 200)}\n`);
    return;
  }
  if (message.method && message.id !== undefined) {
    answerServerRequest(message);
    return;
  }
  if (message.method) return; // a notification
  const waiter = pending.get(message.id);
  if (!waiter) return;
  pending.delete(message.id);
  clearTimeout(waiter.timer);
  if (message.error) waiter.reject(new Error(`\`${waiter.method}\` failed: ${message.error.message}`));
  else waiter.resolve(message.result);
});

async function session() {
  await request('initialize', {
    protocolVersion: '2025-11-25',
    capabilities: { elicitation: { form: {} }, sampling: {}, roots: { listChanged: false } },
    clientInfo: { name: 'mcpauth-conformance-host', version: '1.0.0' },
  });
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  const { tools = [] } = await request('tools/list', {});
  for (const tool of tools) {
    try {
      await request('tools/call', { name: tool.name, arguments: argumentsFor(tool.inputSchema) });
    } catch (e) {
      // A tool that fails is the server's business; the suite judges it.
      process.stderr.write(`conformance-host: ${e.message}\n`);
    }
  }
}

let failed = false;
try {
  await session();
} catch (e) {
  failed = true;
  process.stderr.write(`conformance-host: ${e.message}\n`);
}
proxy.stdin.end();
const timer = setTimeout(() => {
  process.stderr.write('conformance-host: the proxy did not exit after stdin closed\n');
  proxy.kill('SIGKILL');
}, 5000);
const code = await exited;
clearTimeout(timer);
process.exit(code !== 0 ? code : failed ? 1 : 0);
