// Enterprise-managed authorization (MCP's ext-auth extension SEP-990, the Identity
// Assertion JWT Authorization Grant, "ID-JAG", of draft-ietf-oauth-identity-assertion-
// authz-grant), played by real software, for mcpauth's tests of the flow in which a
// company's identity provider, not the person, decides which MCP servers may be used.
//
//   node enterprise.mjs [--id-token-ttl SECONDS] [--access-ttl SECONDS]
//
// Everything listens on 127.0.0.1 on free ports. Once ready it prints one JSON line on
// stdout: {"idp": ..., "as": ..., "mcp": {"a": ..., "b": ..., "denied": ...},
// "idp_client_id": ..., "client_id": ..., "client_secret": ..., "idp_stats": ...,
// "as_stats": ...}. It runs until stdin closes.
//
// Three roles, as in a company that has bought two MCP servers and forbids a third:
//
// The enterprise IdP is a certified OpenID provider (oidc-provider) with its built-in
// login and consent pages (any name and password sign in), the scopes `openid
// offline_access email profile`, and one pre-registered native public client,
// `mcpauth-idp`, redirecting to the loopback on any port. It issues a refresh token with
// every sign-in of that client (enterprise IdPs do for their own native apps; the
// provider's default would want `prompt=consent` as well), ID tokens that live
// --id-token-ttl seconds (default 3600) so tests can make them stale, and runs an
// RFC 8693 token exchange that turns its own ID token into an ID-JAG for one MCP server,
// but only for servers `a` and `b`: the company's policy refuses `denied` with
// `access_denied`. `GET <idp>/stats` tells what it exchanged, refused and refreshed.
//
// The MCP servers' authorization server is a second oidc-provider with one confidential
// client, `mcpauth-enterprise` (the id the IdP writes into the ID-JAGs it makes for this
// server), and an RFC 7523 jwt-bearer grant that accepts only ID-JAGs signed by the IdP,
// found through its discovery, and answers with a JWT access token for the MCP server the
// ID-JAG names, with the scope `mcp:tools` and no refresh token. Its access tokens live
// --access-ttl seconds (default 3600). `GET <as>/stats` tells what it granted and refused.
//
// The MCP servers `a`, `b` and `denied` share one HTTP server, at `/<name>/mcp`, on the
// official TypeScript SDK. Each accepts a bearer token only when it is a JWT signed by the
// authorization server for that server exactly, with `mcp:tools`; otherwise it answers
// 401 with a challenge naming its protected resource metadata.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { listen, publicKeySet, serveEcho, signingKeys } from './common.mjs';
import Provider from 'oidc-provider';

function flag(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}
const idTokenTtl = flag('--id-token-ttl', 3600);
const accessTtl = flag('--access-ttl', 3600);

const SCOPE = 'mcp:tools';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const ID_JAG_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
const ID_JAG_TYP = 'oauth-id-jag+jwt';
const ID_JAG_PROFILE = 'urn:ietf:params:oauth:grant-profile:id-jag';
const ID_JAG_TTL = 300;
const IDP_CLIENT_ID = 'mcpauth-idp';
const CLIENT_ID = 'mcpauth-enterprise';
const CLIENT_SECRET = 'enterprise-secret';
const SERVERS = ['a', 'b', 'denied'];
const FORBIDDEN = new Set(['denied']);

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

// A grant handler's refusal: an RFC 6749 §5.2 error body, remembered for the stats.
function refuser(ctx, refused) {
  return (error, description) => {
    refused.push(description);
    ctx.status = 400;
    ctx.body = { error, error_description: description };
  };
}

const idpServer = http.createServer();
const asServer = http.createServer();
const mcpServer = http.createServer();
const idpPort = await listen(idpServer);
const asPort = await listen(asServer);
const mcpPort = await listen(mcpServer);
const idpIssuer = `http://127.0.0.1:${idpPort}`;
const asIssuer = `http://127.0.0.1:${asPort}`;
const mcpBase = `http://127.0.0.1:${mcpPort}`;
const resourceOf = Object.fromEntries(SERVERS.map((name) => [name, `${mcpBase}/${name}/mcp`]));
const nameOf = Object.fromEntries(SERVERS.map((name) => [resourceOf[name], name]));

// ---- The enterprise IdP ----

const idpJwks = { keys: await signingKeys() };
const idpPublicKeys = publicKeySet(idpJwks);
const jagSigningKey = await jose.importJWK(idpJwks.keys.find((k) => k.kid === 'es'), 'ES256');
const idpStats = { exchanges: {}, refused: [], refreshes: 0, sign_ins: 0 };

const idp = new Provider(idpIssuer, {
  jwks: idpJwks,
  cookies: { keys: ['mcpauth-test-idp-cookie-key'] },
  scopes: ['openid', 'offline_access', 'email', 'profile'],
  // Only the code flow, so that the metadata does not advertise implicit.
  responseTypes: ['code'],
  claims: { email: ['email', 'email_verified'], profile: ['name'] },
  // Whoever signs in is an employee with a company address.
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, email: `${id}@corp.example`, email_verified: true, name: id }),
  }),
  clients: [{
    client_id: IDP_CLIENT_ID,
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', TOKEN_EXCHANGE],
    response_types: ['code'],
    // A native client's loopback redirect matches on any port (RFC 8252 §7.3).
    redirect_uris: ['http://127.0.0.1/callback'],
  }],
  issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    // The IdP's own access tokens are only for its userinfo; MCP servers are reached
    // through ID-JAGs, not through resource indicators here.
    resourceIndicators: { enabled: false },
  },
  ttl: { IdToken: idTokenTtl, AccessToken: 3600 },
});
idp.on('grant.success', (ctx) => {
  const grant = ctx.oidc.params.grant_type;
  if (grant === 'refresh_token') idpStats.refreshes += 1;
  if (grant === 'authorization_code') idpStats.sign_ins += 1;
});

// RFC 8693 with the ID-JAG profile: an ID token of ours in, an ID-JAG for one MCP
// server out, if the company allows that server.
idp.registerGrantType(TOKEN_EXCHANGE, async (ctx) => {
  const refuse = refuser(ctx, idpStats.refused);
  const p = ctx.oidc.params;
  if (!p.subject_token) return refuse('invalid_request', 'subject_token is missing');
  if (p.subject_token_type !== ID_TOKEN_TYPE) {
    return refuse('invalid_request', `subject_token_type must be ${ID_TOKEN_TYPE}`);
  }
  if (p.requested_token_type !== ID_JAG_TYPE) {
    return refuse('invalid_request', `requested_token_type must be ${ID_JAG_TYPE}`);
  }
  let idToken;
  try {
    // Only RS256: our ID tokens use it, so one of our ES256 ID-JAGs cannot pass as one.
    ({ payload: idToken } = await jose.jwtVerify(p.subject_token, idpPublicKeys, {
      issuer: idpIssuer,
      audience: ctx.oidc.client.clientId,
      algorithms: ['RS256'],
    }));
  } catch (e) {
    const why = e.code === 'ERR_JWT_EXPIRED'
      ? 'the ID token has expired'
      : e.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
        ? `the ID token's ${e.claim} is not for this exchange`
        : `the subject token is not an ID token of this IdP (${e.code ?? 'malformed'})`;
    return refuse('invalid_grant', why);
  }
  if (!p.audience) return refuse('invalid_request', 'audience is missing');
  if (p.audience !== asIssuer) {
    return refuse('invalid_target', `no authorization server ${p.audience} is known to this IdP`);
  }
  if (!p.resource) return refuse('invalid_request', 'resource is missing: this IdP grants per MCP server');
  const name = nameOf[p.resource];
  if (!name) return refuse('invalid_target', `no MCP server ${p.resource} is known to this IdP`);
  if (FORBIDDEN.has(name)) {
    return refuse('access_denied', `company policy does not allow the MCP server ${p.resource}`);
  }
  const claims = {
    resource: p.resource,
    // The client's id at that authorization server, which the IdP knows, not its own.
    client_id: CLIENT_ID,
    ...(p.scope ? { scope: p.scope } : {}),
    ...(idToken.auth_time ? { auth_time: idToken.auth_time } : {}),
  };
  const jag = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'es', typ: ID_JAG_TYP })
    .setIssuer(idpIssuer)
    .setSubject(idToken.sub)
    .setAudience(asIssuer)
    .setIssuedAt()
    .setExpirationTime(`${ID_JAG_TTL}s`)
    .setJti(randomUUID())
    .sign(jagSigningKey);
  idpStats.exchanges[p.resource] = (idpStats.exchanges[p.resource] ?? 0) + 1;
  ctx.body = {
    access_token: jag,
    issued_token_type: ID_JAG_TYPE,
    token_type: 'N_A',
    expires_in: ID_JAG_TTL,
    ...(p.scope ? { scope: p.scope } : {}),
  };
}, ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'resource', 'scope']);

const idpCallback = idp.callback();
idpServer.on('request', (req, res) => {
  if (new URL(req.url, idpIssuer).pathname === '/stats') return json(res, 200, idpStats);
  return idpCallback(req, res);
});

// ---- The MCP servers' authorization server ----

const asJwks = { keys: await signingKeys() };
const asPublicKeys = publicKeySet(asJwks);
const asStats = { grants: {}, refused: [] };
const resourceServerInfo = (resource) => ({
  scope: SCOPE,
  audience: resource,
  accessTokenTTL: accessTtl,
  accessTokenFormat: 'jwt',
  jwt: { sign: { alg: 'ES256', kid: 'es' } },
});

const as = new Provider(asIssuer, {
  jwks: asJwks,
  cookies: { keys: ['mcpauth-test-as-cookie-key'] },
  scopes: ['openid'],
  // No front channel at all: its metadata then lists jwt-bearer alone as a grant.
  responseTypes: ['none'],
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [JWT_BEARER],
    response_types: [],
    redirect_uris: [],
  }],
  // Tells clients that this server takes ID-JAGs (the draft's metadata).
  discovery: { authorization_grant_profiles_supported: [ID_JAG_PROFILE] },
  features: {
    // Nobody signs in here: every token comes from an ID-JAG.
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (!nameOf[indicator]) throw new Error(`unknown resource ${indicator}`);
        return resourceServerInfo(indicator);
      },
    },
  },
  ttl: { AccessToken: accessTtl },
});

// The IdP's keys, found the way a real server finds a trusted issuer's: its discovery.
let idpKeys;
async function trustedKeys() {
  if (!idpKeys) {
    const config = await fetch(`${idpIssuer}/.well-known/openid-configuration`).then((r) => r.json());
    idpKeys = jose.createRemoteJWKSet(new URL(config.jwks_uri));
  }
  return idpKeys;
}

// RFC 7523 §2.1, taking only ID-JAGs.
as.registerGrantType(JWT_BEARER, async (ctx) => {
  const refuse = refuser(ctx, asStats.refused);
  const { assertion, resource } = ctx.oidc.params;
  if (!assertion) return refuse('invalid_request', 'the assertion is missing');
  let payload;
  try {
    const { typ } = jose.decodeProtectedHeader(assertion);
    if (typ !== ID_JAG_TYP) return refuse('invalid_grant', `the assertion is not an ID-JAG (typ ${typ})`);
    const { iss } = jose.decodeJwt(assertion);
    if (iss !== idpIssuer) return refuse('invalid_grant', 'the ID-JAG is from an issuer this server does not trust');
    ({ payload } = await jose.jwtVerify(assertion, await trustedKeys(), {
      issuer: idpIssuer,
      audience: asIssuer,
      typ: ID_JAG_TYP,
    }));
  } catch (e) {
    const why = e.code === 'ERR_JWT_EXPIRED'
      ? 'the ID-JAG has expired'
      : `the ID-JAG does not verify (${e.code ?? 'malformed'}${e.claim ? `: ${e.claim}` : ''})`;
    return refuse('invalid_grant', why);
  }
  if (payload.client_id !== ctx.oidc.client.clientId) {
    return refuse('invalid_grant', 'the ID-JAG was issued for another client');
  }
  if (!nameOf[payload.resource]) return refuse('invalid_target', 'the ID-JAG names no MCP server of this server');
  if (resource !== undefined && resource !== payload.resource) {
    return refuse('invalid_target', 'the resource is not the one the ID-JAG names');
  }
  // The user's token: `sub` is the employee the IdP vouched for, not the client.
  const token = new as.AccessToken({
    accountId: payload.sub,
    client: ctx.oidc.client,
    scope: SCOPE,
    gty: JWT_BEARER,
  });
  token.resourceServer = new as.ResourceServer(payload.resource, resourceServerInfo(payload.resource));
  const value = await token.save();
  asStats.grants[payload.resource] = (asStats.grants[payload.resource] ?? 0) + 1;
  ctx.body = {
    access_token: value,
    token_type: 'Bearer',
    expires_in: token.expiration,
    scope: SCOPE,
  };
}, ['assertion', 'scope', 'resource']);

const asCallback = as.callback();
asServer.on('request', (req, res) => {
  if (new URL(req.url, asIssuer).pathname === '/stats') return json(res, 200, asStats);
  return asCallback(req, res);
});

// ---- The MCP servers ----

async function authorized(req, resource) {
  const header = req.headers.authorization ?? '';
  const [kind, token] = header.split(' ');
  if (kind?.toLowerCase() !== 'bearer' || !token) return false;
  try {
    const { payload } = await jose.jwtVerify(token, asPublicKeys, { issuer: asIssuer, audience: resource });
    return String(payload.scope ?? '').split(' ').includes(SCOPE);
  } catch {
    return false;
  }
}

mcpServer.on('request', async (req, res) => {
  const { pathname } = new URL(req.url, mcpBase);
  const prm = pathname.match(/^\/\.well-known\/oauth-protected-resource\/([^/]+)\/mcp$/);
  if (prm && resourceOf[prm[1]]) {
    return json(res, 200, {
      resource: resourceOf[prm[1]],
      authorization_servers: [asIssuer],
      scopes_supported: [SCOPE],
      bearer_methods_supported: ['header'],
    });
  }
  const name = pathname.match(/^\/([^/]+)\/mcp$/)?.[1];
  const resource = resourceOf[name];
  if (!resource) {
    res.writeHead(404).end();
    return;
  }
  if (!(await authorized(req, resource))) {
    res.writeHead(401, {
      'www-authenticate': `Bearer resource_metadata="${mcpBase}/.well-known/oauth-protected-resource/${name}/mcp", scope="${SCOPE}"`,
      'content-type': 'application/json',
    });
    res.end(JSON.stringify({ error: 'invalid_token' }));
    return;
  }
  // Stateless: a fresh server and transport per request.
  await serveEcho(`mcpauth-enterprise-test-server-${name}`, req, res);
});

process.stdout.write(`${JSON.stringify({
  idp: idpIssuer,
  as: asIssuer,
  mcp: resourceOf,
  idp_client_id: IDP_CLIENT_ID,
  client_id: CLIENT_ID,
  client_secret: CLIENT_SECRET,
  idp_stats: `${idpIssuer}/stats`,
  as_stats: `${asIssuer}/stats`,
})}\n`);

// Until the test closes our stdin.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
