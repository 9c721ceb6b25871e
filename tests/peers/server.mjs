// A real MCP server built on the official TypeScript SDK, for mcpauth's proxy tests.
//
//   node server.mjs [--json] [--legacy] [--bearer TOKEN]
//
// Listens on 127.0.0.1 on a free port and prints `PORT <n>` on stdout once ready.
// Streamable HTTP (stateful sessions, resumable with an in-memory event store) at /mcp;
// with --json, answers are plain JSON instead of SSE; with --legacy, it speaks the
// 2024-11-05 HTTP+SSE transport instead (GET /mcp for events, POST /messages).
// No authentication unless --bearer is given: then every request to /mcp must carry
// `Authorization: Bearer TOKEN`, and gets 401 with a challenge otherwise (benchmarks use
// it to put the proxy's token path on every message). The proxy's OAuth handling is
// tested with scripted servers and with oidc.mjs.
//
// Tools: `echo` (returns its `text`), `ask` (elicits a name, then greets it), `big`
// (returns `size` bytes of text), `notify` (sends a log notification before answering),
// `touch` (logs and reports the resource `test://note` updated to its subscribers, on
// the session's own stream rather than the call's), `roots` (asks the client for its
// roots, also on the session's stream, and returns their URIs).

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import {
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

const json = process.argv.includes('--json');
const legacy = process.argv.includes('--legacy');
const bearerAt = process.argv.indexOf('--bearer');
const bearer = bearerAt > 0 ? process.argv[bearerAt + 1] : null;

function build() {
  const server = new McpServer(
    { name: 'mcpauth-test-server', version: '1.0.0' },
    { capabilities: { logging: {}, resources: { subscribe: true } } },
  );
  const subscribed = new Set();
  server.registerResource(
    'note',
    'test://note',
    { description: 'A note that `touch` changes', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, text: 'a note' }] }),
  );
  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    subscribed.add(req.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    subscribed.delete(req.params.uri);
    return {};
  });
  server.registerTool(
    'touch',
    { description: 'Logs and updates test://note, on the session stream', inputSchema: {} },
    async () => {
      await server.server.sendLoggingMessage({ level: 'info', data: 'touched' });
      for (const uri of subscribed) await server.server.sendResourceUpdated({ uri });
      return { content: [{ type: 'text', text: 'touched' }] };
    },
  );
  server.registerTool(
    'roots',
    { description: "Returns the client's roots, asked on the session stream", inputSchema: {} },
    async () => {
      const { roots } = await server.server.listRoots();
      return { content: [{ type: 'text', text: roots.map((r) => r.uri).join(' ') }] };
    },
  );
  server.registerTool(
    'echo',
    { description: 'Returns its text', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerTool(
    'ask',
    { description: 'Asks the person for a name, then greets it', inputSchema: {} },
    async () => {
      const answer = await server.server.elicitInput({
        mode: 'form',
        message: 'Who are you?',
        requestedSchema: {
          type: 'object',
          properties: { name: { type: 'string', title: 'Name', default: 'nobody' } },
          required: ['name'],
        },
      });
      const name = answer.action === 'accept' ? answer.content?.name : `(${answer.action})`;
      return { content: [{ type: 'text', text: `hello ${name}` }] };
    },
  );
  server.registerTool(
    'big',
    { description: 'Returns size bytes of text', inputSchema: { size: z.number().int() } },
    async ({ size }) => ({ content: [{ type: 'text', text: 'x'.repeat(size) }] }),
  );
  server.registerTool(
    'notify',
    { description: 'Logs a message, then answers', inputSchema: {} },
    async (_args, extra) => {
      await extra.sendNotification({
        method: 'notifications/message',
        params: { level: 'info', data: 'working' },
      });
      return { content: [{ type: 'text', text: 'done' }] };
    },
  );
  return server;
}

const sessions = new Map();

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

async function streamable(req, res) {
  const id = req.headers['mcp-session-id'];
  if (id) {
    const transport = sessions.get(id);
    if (!transport) {
      res.writeHead(404).end();
      return;
    }
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    await transport.handleRequest(req, res, body);
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(400).end();
    return;
  }
  const body = await readBody(req);
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    enableJsonResponse: json,
    eventStore: new InMemoryEventStore(),
    onsessioninitialized: (sid) => sessions.set(sid, transport),
  });
  transport.onclose = () => {
    if (transport.sessionId) sessions.delete(transport.sessionId);
  };
  await build().connect(transport);
  await transport.handleRequest(req, res, body);
}

async function legacySse(req, res, url) {
  if (req.method === 'GET' && url.pathname === '/mcp') {
    const transport = new SSEServerTransport('/messages', res);
    sessions.set(transport.sessionId, transport);
    res.on('close', () => sessions.delete(transport.sessionId));
    await build().connect(transport);
    return;
  }
  if (req.method === 'POST' && url.pathname === '/messages') {
    const transport = sessions.get(url.searchParams.get('sessionId'));
    if (!transport) {
      res.writeHead(404).end();
      return;
    }
    await transport.handlePostMessage(req, res);
    return;
  }
  res.writeHead(405).end();
}

const httpServer = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (bearer && req.headers.authorization !== `Bearer ${bearer}`) {
    res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
    return;
  }
  const handle = legacy ? legacySse(req, res, url) : url.pathname === '/mcp' ? streamable(req, res) : null;
  if (!handle) {
    res.writeHead(404).end();
    return;
  }
  handle.catch((e) => {
    process.stderr.write(`server error: ${e?.stack ?? e}\n`);
    if (!res.headersSent) res.writeHead(500).end();
  });
});

httpServer.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${httpServer.address().port}\n`);
});

// The test harness kills us; also leave when our stdin closes (the parent went away).
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
