// What the test peers built on oidc-provider (oidc.mjs, dpop.mjs, enterprise.mjs) share:
// loopback listening, signing keys, and the MCP server behind them.
// Importing it also sends console.log and console.info to stderr: a peer's stdout
// carries its one ready line, and the libraries log.

import * as jose from 'jose';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

console.log = console.error;
console.info = console.error;

/** Listens on a free loopback port; resolves to the port. */
export function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

/**
 * A provider's signing keys as private JWKs: RS256 (`rs`, oidc-provider's default ID
 * token algorithm) and ES256 (`es`, for JWT access tokens and anything else it signs).
 */
export async function signingKeys() {
  const out = [];
  for (const [alg, kid] of [['RS256', 'rs'], ['ES256', 'es']]) {
    const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    out.push({ ...(await jose.exportJWK(privateKey)), alg, use: 'sig', kid });
  }
  return out;
}

/** The public half of a JWKS, as a key set `jose.jwtVerify` takes. */
export function publicKeySet(jwks) {
  return jose.createLocalJWKSet({
    keys: jwks.keys.map(({ d, p, q, dp, dq, qi, ...pub }) => pub),
  });
}

/**
 * Answers one MCP request with a fresh stateless server named `name` on the official
 * SDK, whose one tool, `echo`, returns its text.
 */
export async function serveEcho(name, req, res) {
  const server = new McpServer({ name, version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns its text', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res);
}
