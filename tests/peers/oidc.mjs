// A certified OpenID provider (oidc-provider) in front of an MCP server built on the
// official TypeScript SDK, for mcpauth's sign-in tests against a real authorization
// server rather than the project's own fake.
//
//   node oidc.mjs [--access-ttl SECONDS]
//
// Both listen on 127.0.0.1 on free ports. Once ready it prints one JSON line on stdout:
// {"issuer": ..., "mcp": ..., "scopes_supported": [...]}. It runs until stdin closes.
//
// The provider is configured as MCP servers commonly are: dynamic client registration
// open to anyone, resource indicators (RFC 8707) issuing JWT access tokens for the MCP
// resource with the scope `mcp:tools`, refresh tokens for `offline_access` (which the
// provider honours only with `prompt=consent`), RFC 9207 `iss` in the redirect, and its
// built-in login and consent pages (any name and password sign in). Its own scope list
// is only `openid offline_access`.
//
// The MCP server accepts a bearer token only when it is a JWT signed by the provider,
// for this resource, with `mcp:tools`; otherwise it answers 401 with a challenge naming
// its protected resource metadata.

import http from 'node:http';
import * as jose from 'jose';
import Provider from 'oidc-provider';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

// stdout carries the one ready line; anything the libraries log goes to stderr.
console.log = console.error;
console.info = console.error;

const ttlAt = process.argv.indexOf('--access-ttl');
const accessTtl = ttlAt > 0 ? Number(process.argv[ttlAt + 1]) : 3600;
const SCOPE = 'mcp:tools';

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

// Keys: RS256 for ID tokens (the default algorithm), ES256 for access tokens.
async function keys() {
  const out = [];
  for (const [alg, kid] of [['RS256', 'rs'], ['ES256', 'es']]) {
    const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    out.push({ ...(await jose.exportJWK(privateKey)), alg, use: 'sig', kid });
  }
  return out;
}

const asServer = http.createServer();
const mcpServer = http.createServer();
const asPort = await listen(asServer);
const mcpPort = await listen(mcpServer);
const issuer = `http://127.0.0.1:${asPort}`;
const resource = `http://127.0.0.1:${mcpPort}/mcp`;
const prmUrl = `http://127.0.0.1:${mcpPort}/.well-known/oauth-protected-resource/mcp`;
const jwks = { keys: await keys() };

const provider = new Provider(issuer, {
  jwks,
  cookies: { keys: ['mcpauth-test-cookie-key'] },
  scopes: ['openid', 'offline_access'],
  clientDefaults: { grant_types: ['authorization_code', 'refresh_token'] },
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource) {
          throw new Error(`unknown resource ${indicator}`);
        }
        return {
          scope: SCOPE,
          audience: resource,
          accessTokenTTL: accessTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256', kid: 'es' } },
        };
      },
    },
  },
  ttl: { AccessToken: accessTtl },
});
asServer.on('request', provider.callback());

const publicKeys = jose.createLocalJWKSet({
  keys: jwks.keys.map(({ d, p, q, dp, dq, qi, ...pub }) => pub),
});

async function authorized(req) {
  const header = req.headers.authorization ?? '';
  const [kind, token] = header.split(' ');
  if (kind?.toLowerCase() !== 'bearer' || !token) return false;
  try {
    const { payload } = await jose.jwtVerify(token, publicKeys, { issuer, audience: resource });
    return String(payload.scope ?? '').split(' ').includes(SCOPE);
  } catch {
    return false;
  }
}

function mcp() {
  const server = new McpServer({ name: 'mcpauth-oidc-test-server', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns its text', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

mcpServer.on('request', async (req, res) => {
  const url = new URL(req.url, resource);
  if (url.pathname === '/.well-known/oauth-protected-resource/mcp') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      resource,
      authorization_servers: [issuer],
      scopes_supported: [SCOPE],
      bearer_methods_supported: ['header'],
    }));
    return;
  }
  if (url.pathname !== '/mcp') {
    res.writeHead(404).end();
    return;
  }
  if (!(await authorized(req))) {
    res.writeHead(401, {
      'www-authenticate': `Bearer resource_metadata="${prmUrl}", scope="${SCOPE}"`,
      'content-type': 'application/json',
    });
    res.end(JSON.stringify({ error: 'invalid_token' }));
    return;
  }
  // Stateless: a fresh server and transport per request.
  const server = mcp();
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
});

const discovery = await fetch(`${issuer}/.well-known/openid-configuration`).then((r) => r.json());
process.stdout.write(`${JSON.stringify({
  issuer,
  mcp: resource,
  scopes_supported: discovery.scopes_supported,
})}\n`);

// Until the test closes our stdin.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
