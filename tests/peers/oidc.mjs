// A certified OpenID provider (oidc-provider) in front of an MCP server built on the
// official TypeScript SDK, for mcpauth's sign-in tests against a real authorization
// server rather than the project's own fake.
//
//   node oidc.mjs [--access-ttl SECONDS]
//
// The provider, the MCP server and the workload platform (below) listen on 127.0.0.1 on
// free ports. Once ready it prints one JSON line on stdout:
// {"issuer": ..., "mcp": ..., "platform": ..., "scopes_supported": [...]}. It runs until
// stdin closes.
//
// The provider is configured as MCP servers commonly are: dynamic client registration
// open to anyone, resource indicators (RFC 8707) issuing JWT access tokens for the MCP
// resource with the scope `mcp:tools`, refresh tokens for `offline_access` (which the
// provider honours only with `prompt=consent`), RFC 9207 `iss` in the redirect, the
// device authorization grant (RFC 8628, its page at `/device`), and its built-in login
// and consent pages (any name and password sign in). Its own scope list is only `openid
// offline_access`.
//
// Two confidential clients are registered in advance, as an organisation's provider has
// them: `mcpauth-basic` (secret `mcpauth-basic-secret`, sent in the Authorization header)
// and `mcpauth-post` (secret `mcpauth-post-secret`, sent in the form). Both are native
// applications whose redirect is 127.0.0.1 on any port (RFC 8252). The provider takes
// the secret either way from either of them, so the test asks how it came (below).
//
// The MCP server accepts a bearer token only when it is a JWT signed by the provider,
// for this resource, with `mcp:tools`; otherwise it answers 401 with a challenge naming
// its protected resource metadata.
//
// Workload identity federation (SEP-1933): a third server plays the workload's platform
// (a Kubernetes API server, a CI system's OIDC issuer). It publishes OpenID discovery and
// its keys, and hands out a fresh workload JWT for the provider on `GET /token` (as a CI
// job's token request does). The provider trusts that issuer alone: its RFC 7523
// jwt-bearer grant finds the issuer's keys through discovery, verifies the JWT's
// signature, issuer, audience (the provider) and expiry, and issues an access token for
// the MCP resource with no refresh token to the pre-registered public client
// `workload-client`.
//
// The same server tells the tests what the provider did:
//   GET /stats           how many workload JWTs it minted and which the provider was shown
//   GET /grants          each token grant: its client, grant type, and how the client
//                        authenticated (`basic`, `post` or `none`)
//   GET /refresh-tokens  each refresh token issued, `{active}` as the provider's RFC 7662
//                        introspection endpoint answers for it (asked as the
//                        pre-registered confidential client `introspector`)

import http from 'node:http';
import * as jose from 'jose';
import { listen, publicKeySet, serveEcho, signingKeys } from './common.mjs';
import Provider from 'oidc-provider';

const ttlAt = process.argv.indexOf('--access-ttl');
const accessTtl = ttlAt > 0 ? Number(process.argv[ttlAt + 1]) : 3600;
const SCOPE = 'mcp:tools';

const asServer = http.createServer();
const mcpServer = http.createServer();
const asPort = await listen(asServer);
const mcpPort = await listen(mcpServer);
const issuer = `http://127.0.0.1:${asPort}`;
const resource = `http://127.0.0.1:${mcpPort}/mcp`;
const prmUrl = `http://127.0.0.1:${mcpPort}/.well-known/oauth-protected-resource/mcp`;
const jwks = { keys: await signingKeys() };

const platformServer = http.createServer();
const platformPort = await listen(platformServer);
const platformIssuer = `http://127.0.0.1:${platformPort}`;
const platformKey = await jose.generateKeyPair('ES256', { extractable: true });
const platformJwks = {
  keys: [{ ...(await jose.exportJWK(platformKey.publicKey)), alg: 'ES256', use: 'sig', kid: 'platform' }],
};
const platform = { minted: 0, presented: [], refused: [] };
const WORKLOAD_SUBJECT = 'system:serviceaccount:ci:deployer';
platformServer.on('request', async (req, res) => {
  const url = new URL(req.url, platformIssuer);
  const json = (body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === '/.well-known/openid-configuration') {
    json({ issuer: platformIssuer, jwks_uri: `${platformIssuer}/jwks`, id_token_signing_alg_values_supported: ['ES256'] });
  } else if (url.pathname === '/jwks') {
    json(platformJwks);
  } else if (url.pathname === '/token') {
    platform.minted += 1;
    const jwt = await new jose.SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'platform', typ: 'JWT' })
      .setIssuer(platformIssuer)
      .setSubject(WORKLOAD_SUBJECT)
      .setAudience(issuer)
      .setIssuedAt()
      .setExpirationTime('10m')
      .setJti(`workload-${platform.minted}`)
      .sign(platformKey.privateKey);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${jwt}\n`);
  } else if (url.pathname === '/stats') {
    json(platform);
  } else if (url.pathname === '/grants') {
    json(grants);
  } else if (url.pathname === '/refresh-tokens') {
    try {
      json(await introspectRefreshTokens());
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e.message));
    }
  } else {
    res.writeHead(404).end();
  }
});

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const resourceServerInfo = {
  scope: SCOPE,
  audience: resource,
  accessTokenTTL: accessTtl,
  accessTokenFormat: 'jwt',
  jwt: { sign: { alg: 'ES256', kid: 'es' } },
};

const provider = new Provider(issuer, {
  jwks,
  cookies: { keys: ['mcpauth-test-cookie-key'] },
  scopes: ['openid', 'offline_access'],
  clientDefaults: { grant_types: ['authorization_code', 'refresh_token'] },
  clients: [...['basic', 'post'].map((how) => ({
    client_id: `mcpauth-${how}`,
    client_secret: `mcpauth-${how}-secret`,
    token_endpoint_auth_method: `client_secret_${how}`,
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/callback'],
  })), {
    // The MCP server's own client, for RFC 7662 introspection only.
    client_id: 'introspector',
    client_secret: 'introspector-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [],
    response_types: [],
    redirect_uris: [],
  }, {
    client_id: 'workload-client',
    token_endpoint_auth_method: 'none',
    grant_types: [JWT_BEARER],
    response_types: [],
    redirect_uris: [],
  }],
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    registration: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource) {
          throw new Error(`unknown resource ${indicator}`);
        }
        return resourceServerInfo;
      },
    },
  },
  ttl: { AccessToken: accessTtl },
});
asServer.on('request', provider.callback());

// How each client authenticated on each token grant it got, for `GET /grants`: `basic`
// (the Authorization header), `post` (the secret in the form) or `none`.
const grants = [];
provider.on('grant.success', (ctx) => {
  const sent = ctx.headers.authorization ? 'basic' : ctx.oidc.params.client_secret ? 'post' : 'none';
  grants.push({ client: ctx.oidc.client.clientId, grant_type: ctx.oidc.params.grant_type, sent });
});

// Every refresh token issued (an opaque token's value is its jti), for `GET /refresh-tokens`.
const refreshTokens = [];
provider.on('refresh_token.saved', (token) => refreshTokens.push(token.jti));

// Whether each refresh token is still active, asked of the provider's own introspection
// endpoint (RFC 7662) as the MCP server's client.
async function introspectRefreshTokens() {
  const basic = Buffer.from('introspector:introspector-secret').toString('base64');
  return Promise.all(refreshTokens.map(async (token) => {
    const res = await fetch(`${issuer}/token/introspection`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: 'refresh_token' }),
    });
    if (res.status !== 200) throw new Error(`introspection answered ${res.status}: ${await res.text()}`);
    const { active } = await res.json();
    return { active };
  }));
}

// RFC 7523 §2.1 with SEP-1933's issuer discovery.
const trustedIssuers = new Set([platformIssuer]);
provider.registerGrantType(JWT_BEARER, async (ctx) => {
  const refuse = (error, description) => {
    platform.refused.push(description);
    ctx.status = 400;
    ctx.body = { error, error_description: description };
  };
  const { assertion } = ctx.oidc.params;
  if (!assertion) return refuse('invalid_request', 'the assertion is missing');
  let payload;
  try {
    const { iss } = jose.decodeJwt(assertion);
    if (!trustedIssuers.has(iss)) return refuse('invalid_grant', 'the assertion is from an issuer this server does not trust');
    const config = await fetch(`${iss}/.well-known/openid-configuration`).then((r) => r.json());
    const keys = jose.createRemoteJWKSet(new URL(config.jwks_uri));
    ({ payload } = await jose.jwtVerify(assertion, keys, { issuer: iss, audience: issuer }));
  } catch (e) {
    return refuse('invalid_grant', `the assertion does not verify (${e.code ?? 'malformed'})`);
  }
  platform.presented.push(payload.jti);
  if (ctx.oidc.params.resource && ctx.oidc.params.resource !== resource) {
    return refuse('invalid_target', 'unknown resource');
  }
  const token = new provider.ClientCredentials({ client: ctx.oidc.client, scope: SCOPE });
  token.resourceServer = new provider.ResourceServer(resource, resourceServerInfo);
  token.extra = { workload: payload.sub };
  const value = await token.save();
  ctx.body = {
    access_token: value,
    token_type: 'Bearer',
    expires_in: token.expiration,
    scope: SCOPE,
  };
}, ['assertion', 'scope', 'resource']);

const publicKeys = publicKeySet(jwks);

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
  await serveEcho('mcpauth-oidc-test-server', req, res);
});

const discovery = await fetch(`${issuer}/.well-known/openid-configuration`).then((r) => r.json());
process.stdout.write(`${JSON.stringify({
  issuer,
  mcp: resource,
  platform: platformIssuer,
  scopes_supported: discovery.scopes_supported,
})}\n`);

// Until the test closes our stdin.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
