// A minimal stdio MCP host that drives `mcpauth proxy` for the conformance suite.
//
//   conformance-host.mjs <server-url>
//
// The suite starts its own MCP (and authorization) servers and runs a client command
// with the server URL appended. Our client is a stdio proxy, so this host stands in for
// Claude Desktop: it spawns `$MCPAUTH_BIN proxy <server-url>` (the environment passes
// through, MCPAUTH_HOME and MCPAUTH_BROWSER included), then sends initialize,
// notifications/initialized, tools/list and a tools/call of every tool with the
// scenario's arguments (or ones made from the tool's schema). It answers the server's requests the way a patient user
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
function runLogin(args, input) {
  const login = spawnSync(bin, args, { input, env, stdio: ['pipe', 'inherit', 'inherit'], timeout: REQUEST_TIMEOUT_MS });
  if (login.status !== 0) {
    process.stderr.write(`conformance-host: \`mcpauth ${args[0]} ${args[1]}\` failed (${login.status ?? login.error})\n`);
    process.exit(1);
  }
}

// Enterprise-managed authorization: the person's sign-in to the company's identity
// provider is the ID token the suite hands over, in a 0600 file that stays for the
// proxy's exchanges (a company's own sign-in tool would print one on demand).
let idTokenDir;
if (context.idp_id_token) {
  idTokenDir = mkdtempSync(join(tmpdir(), 'mcpauth-idp-'));
  const idTokenFile = join(idTokenDir, 'id_token');
  writeFileSync(idTokenFile, context.idp_id_token, { mode: 0o600 });
  runLogin(['idp', 'login', '--issuer', context.idp_issuer, '--client-id', context.idp_client_id, '--id-token', `file:${idTokenFile}`], '');
}

if (context.client_id) {
  const args = ['login', url, '--client-id', context.client_id];
  let input = '';
  let keyDir;
  if (scenario.startsWith('auth/client-credentials')) args.push('--client-credentials');
  if (context.valid_jwt) {
    // Workload identity: the platform's JWT in a 0600 file, as Kubernetes mounts one.
    keyDir = mkdtempSync(join(tmpdir(), 'mcpauth-workload-'));
    const tokenFile = join(keyDir, 'token');
    writeFileSync(tokenFile, context.valid_jwt, { mode: 0o600 });
    args.push('--workload', `file:${tokenFile}`);
  } else if (context.private_key_pem) {
    keyDir = mkdtempSync(join(tmpdir(), 'mcpauth-key-'));
    const keyFile = join(keyDir, 'client.pem');
    writeFileSync(keyFile, context.private_key_pem, { mode: 0o600 });
    args.push('--client-key-file', keyFile);
  } else if (context.client_secret) {
    args.push('--client-secret');
    input = `${context.client_secret}\n`;
  }
  try {
    runLogin(args, input);
  } finally {
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
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
      const error = new Error(`no answer to \`${method}\` within ${REQUEST_TIMEOUT_MS} ms`);
      error.timeout = true;
      reject(error);
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

// What a patient user answers to the server's question `method`; undefined when the
// host has no answer.
function answerFor(method, params) {
  switch (method) {
    case 'elicitation/create':
      return params?.mode === 'url'
        ? { action: 'decline' }
        : { action: 'accept', content: defaultsOf(params?.requestedSchema) };
    case 'sampling/createMessage':
      return { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'conformance-host', stopReason: 'endTurn' };
    case 'roots/list':
      return { roots: [] };
    case 'ping':
      return {};
    default:
      return undefined;
  }
}

function answerServerRequest(message) {
  const { id, method, params } = message;
  const result = answerFor(method, params);
  if (result === undefined) {
    send({ jsonrpc: '2.0', id, error: { code: -32601, message: `method not found: ${method}` } });
  } else {
    send({ jsonrpc: '2.0', id, result });
  }
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
  if (message.error) {
    const error = new Error(`\`${waiter.method}\` failed: ${message.error.message} (${message.error.code})`);
    error.code = message.error.code;
    error.data = message.error.data;
    waiter.reject(error);
  } else waiter.resolve(message.result);
});

// Errors that come from the proxy rather than the server: the transport or the sign-in
// failed. They fail the run even when the suite's own checks pass.
const PROXY_ERRORS = new Set([-32000, -32001]);
let proxyFailed = false;

// The era the suite asks the host to speak. From 2026-07-28 there is no initialize:
// every request carries the version, the client and its capabilities in `_meta`, a
// server may ask for input with an `input_required` result (answered by sending the
// request again with `inputResponses` and the server's `requestState`, under a new id),
// and a version the server does not take is retried with one it names.
// CONFORMANCE_HOST_ERA overrides it: a 2025 host on the 2026 scenarios is what the
// proxy's bridge is for.
const era = env.CONFORMANCE_HOST_ERA || env.MCP_CONFORMANCE_PROTOCOL_VERSION || '2025-11-25';
const modern = era >= '2026-07-28';
const clientInfo = { name: 'mcpauth-conformance-host', version: '1.0.0' };
const capabilities = { elicitation: { form: {} }, sampling: {}, roots: { listChanged: false } };
let version = era;

async function call(method, params) {
  if (!modern) return request(method, params);
  const meta = () => ({
    'io.modelcontextprotocol/protocolVersion': version,
    'io.modelcontextprotocol/clientInfo': clientInfo,
    'io.modelcontextprotocol/clientCapabilities': capabilities,
  });
  let result;
  try {
    result = await request(method, { ...params, _meta: meta() });
  } catch (e) {
    // UnsupportedProtocolVersion: once, with the first version the server names.
    const supported = e.data?.supported;
    if (e.code !== -32022 || !Array.isArray(supported) || supported.length === 0) throw e;
    version = supported[0];
    result = await request(method, { ...params, _meta: meta() });
  }
  for (let round = 0; result?.resultType === 'input_required' && round < 5; round++) {
    const inputResponses = {};
    for (const [key, asked] of Object.entries(result.inputRequests ?? {})) {
      inputResponses[key] = answerFor(asked.method, asked.params) ?? {};
    }
    const again = { ...params, _meta: meta(), inputResponses };
    if (result.requestState !== undefined) again.requestState = result.requestState;
    result = await request(method, again);
  }
  return result;
}

// An argument the tool's schema says is another tool's input schema, passed back
// verbatim (the schema-preservation scenarios ask for this).
function echoedSchemas(tools, tool, args) {
  for (const [name, prop] of Object.entries(tool.inputSchema?.properties ?? {})) {
    if (prop?.type !== 'object' || typeof prop.description !== 'string') continue;
    const other = tools.find((t) => t !== tool && prop.description.includes(t.name));
    if (other) args[name] = other.inputSchema;
  }
  return args;
}

async function session() {
  if (modern) {
    await call('server/discover', {});
  } else {
    await request('initialize', { protocolVersion: era, capabilities, clientInfo });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }
  const { tools = [] } = await call('tools/list', {});
  // The scenario's own arguments where it gives them (the header scenarios do), else
  // the smallest the schema accepts; every tool listed is called.
  const given = new Map();
  for (const call of context.toolCalls ?? []) {
    if (!given.has(call.name)) given.set(call.name, []);
    given.get(call.name).push(call.arguments);
  }
  for (const tool of tools) {
    const made = [echoedSchemas(tools, tool, argumentsFor(tool.inputSchema))];
    for (const args of given.get(tool.name) ?? made) {
      try {
        await call('tools/call', { name: tool.name, arguments: args });
      } catch (e) {
        // A tool that fails is the server's business, and the suite judges it; a
        // timeout or the proxy's own error is not.
        process.stderr.write(`conformance-host: ${e.message}\n`);
        if (e.timeout || PROXY_ERRORS.has(e.code)) proxyFailed = true;
      }
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
if (idTokenDir) rmSync(idTokenDir, { recursive: true, force: true });
clearTimeout(timer);
if (proxyFailed) process.stderr.write('conformance-host: a call failed in the proxy, not the server\n');
process.exit(code !== 0 ? code : failed || proxyFailed ? 1 : 0);
