// A certified OpenID provider (oidc-provider) with DPoP (RFC 9449) turned on, in front of
// an MCP server built on the official TypeScript SDK that accepts only DPoP-bound tokens,
// for mcpauth's DPoP tests (SEP-1932) against a real authorization server and a resource
// server that checks every part of a proof, rather than the conformance suite's, which
// records a bad proof and serves the request anyway.
//
//   node dpop.mjs [--access-ttl SECONDS] [--rs-nonce-every N]
//
// Both listen on 127.0.0.1 on free ports. Once ready it prints one JSON line on stdout:
// {"issuer": ..., "mcp": ..., "stats": ..., "control": ..., "scopes_supported": [...]}.
// It runs until stdin closes.
//
// The provider is set up as in oidc.mjs (dynamic registration open to anyone, RFC 8707
// resource indicators issuing JWT access tokens for the MCP resource with `mcp:tools`,
// refresh tokens for `offline_access` with `prompt=consent`, its built-in login and
// consent pages), plus DPoP: every token request must carry a proof (registered clients
// default to `dpop_bound_access_tokens`), and every proof must carry the provider's
// nonce, so a client first meets `400 use_dpop_nonce` with a `DPoP-Nonce` header. The
// provider derives its nonces from a secret and the minute; they roll over once a minute
// and it accepts those of the last two and next two minutes. That schedule is fixed in
// oidc-provider, so a test cannot make it faster. Access tokens carry `cnf.jkt`; a public
// client's refresh token is bound to the same key, and the provider then hands the same
// one back on refresh instead of rotating it (until 70% of its life has gone).
//
// The MCP server accepts a request only with `Authorization: DPoP <token>` and a proof in
// the `DPoP` header that passes every check of RFC 9449 §4.3 and §7.1: typ `dpop+jwt`,
// alg ES256, a public jwk that verifies the signature, `htm` the request's method, `htu`
// the request's URL with no query or fragment, `iat` within 60 s, `ath` the hash of the
// token, a jti it has not seen, and its own current nonce. The token must be the
// provider's JWT for this resource with `mcp:tools` and `cnf.jkt` the thumbprint of the
// proof's key. The nonce changes after every N served requests (default 5); each answer
// carries the current one in `DPoP-Nonce`, and a missing or stale one gets `401
// use_dpop_nonce` with the fresh one, so a client has to keep up.
//
// On the MCP port:
//   GET  /stats                  what the two servers saw (see `stats` below)
//   POST /control/replay-next    the next proof that would pass is refused as replayed,
//                                once, so a test can show the client sends a fresh one

import crypto from 'node:crypto';
import http from 'node:http';
import * as jose from 'jose';
import { listen, publicKeySet, serveEcho, signingKeys } from './common.mjs';
import Provider from 'oidc-provider';

function flag(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}
const accessTtl = flag('--access-ttl', 3600);
const nonceEvery = flag('--rs-nonce-every', 5);
if (!Number.isInteger(nonceEvery) || nonceEvery < 1) {
  console.error('dpop.mjs: --rs-nonce-every needs a whole number of at least 1');
  process.exit(2);
}
const SCOPE = 'mcp:tools';
const ALG = 'ES256';
// RFC 9449 §11.1 leaves the window to the server; a minute keeps the replay cache small.
const IAT_WINDOW = 60;

const asServer = http.createServer();
const mcpServer = http.createServer();
const asPort = await listen(asServer);
const mcpPort = await listen(mcpServer);
const issuer = `http://127.0.0.1:${asPort}`;
const mcpOrigin = `http://127.0.0.1:${mcpPort}`;
const resource = `${mcpOrigin}/mcp`;
const prmUrl = `${mcpOrigin}/.well-known/oauth-protected-resource/mcp`;
const jwks = { keys: await signingKeys() };

// What both servers saw, for GET /stats. `refused` counts the MCP server's refusals by
// reason; `token_endpoint` is the provider's side.
const stats = {
  verified: 0,
  refused: {},
  nonces_issued: 0,
  seen_jkts: [],
  token_endpoint: { requests: 0, proofs: 0, nonce_challenges: 0, errors: {}, error_details: {}, issued: {} },
};
const count = (into, key) => { into[key] = (into[key] ?? 0) + 1; };

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
  // A client that registers without saying otherwise gets tokens only with a proof, as a
  // DPoP-only deployment would have it; without this the provider quietly issues Bearer.
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    dpop_bound_access_tokens: true,
  },
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
        return resourceServerInfo;
      },
    },
    // The provider makes nonces only when it has a secret; asking for one on every proof
    // is what makes the client handle use_dpop_nonce at the token endpoint.
    dPoP: {
      enabled: true,
      nonceSecret: crypto.randomBytes(32),
      requireNonce: () => true,
    },
  },
  enabledJWA: { dPoPSigningAlgValues: [ALG] },
  ttl: { AccessToken: accessTtl },
});

// Counts what the token endpoint was sent and what it answered. Runs around the whole
// provider, so the error body is still an object when it comes back here.
provider.use(async (ctx, next) => {
  const token = ctx.method === 'POST' && ctx.path === '/token';
  if (token) {
    stats.token_endpoint.requests += 1;
    if (ctx.get('dpop')) stats.token_endpoint.proofs += 1;
  }
  await next();
  if (!token) return;
  const error = ctx.body?.error;
  if (error === 'use_dpop_nonce') stats.token_endpoint.nonce_challenges += 1;
  if (error) {
    count(stats.token_endpoint.errors, error);
  } else if (ctx.status === 200 && ctx.body?.token_type) {
    count(stats.token_endpoint.issued, ctx.body.token_type);
  }
});
// The provider answers most refusals with a bare "grant request is invalid"; the reason
// it keeps to itself ("failed jkt verification", "DPoP proof JWT Replay detected") is
// what a failing test needs to see.
provider.on('grant.error', (_ctx, err) => {
  const detail = `${err.error}: ${err.error_detail ?? err.error_description}`;
  count(stats.token_endpoint.error_details, detail);
  console.error(`dpop.mjs: token endpoint refused: ${detail}`);
});
asServer.on('request', provider.callback());

const publicKeys = publicKeySet(jwks);

// The resource server's own nonce, changed after every `nonceEvery` served requests.
let nonce;
let servedOnNonce = 0;
function rotateNonce() {
  nonce = crypto.randomBytes(16).toString('base64url');
  servedOnNonce = 0;
  stats.nonces_issued += 1;
}
rotateNonce();

// Spent jtis until their proof would be too old anyway.
const seenJtis = new Map();
let replayNext = false;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const sha256 = (s) => crypto.createHash('sha256').update(s, 'ascii').digest('base64url');
const quote = (s) => `"${String(s).replace(/["\\]/g, '\\$&')}"`;

// A refusal: the reason for /stats, the status, the challenge and whether it carries the
// fresh nonce.
class Refusal {
  constructor(reason, status, error, description, withNonce = false) {
    Object.assign(this, { reason, status, error, description, withNonce });
  }
}

// The challenge names the metadata in both schemes: RFC 9728 §5.1 lets any scheme carry
// `resource_metadata`, and a client that knows only Bearer still finds its way.
function challenges(refusal) {
  const dpop = [];
  if (refusal?.error) dpop.push(`error=${quote(refusal.error)}`);
  if (refusal?.description) dpop.push(`error_description=${quote(refusal.description)}`);
  dpop.push(`algs="${ALG}"`, `resource_metadata="${prmUrl}"`, `scope="${SCOPE}"`);
  const out = [`DPoP ${dpop.join(', ')}`];
  // Nonce and proof errors are DPoP's own; only a missing or wrong-scheme token also
  // gets a Bearer challenge.
  if (!refusal || refusal.reason === 'bearer_scheme') {
    const bearer = [`resource_metadata="${prmUrl}"`, `scope="${SCOPE}"`];
    if (refusal) bearer.unshift(`error="invalid_token"`, `error_description=${quote(refusal.description)}`);
    out.push(`Bearer ${bearer.join(', ')}`);
  }
  // One header line: some clients read only the first.
  return out.join(', ');
}

// RFC 9449 §4.3 and §7.1, in an order that names the first thing wrong.
async function check(req, url) {
  const header = req.headers.authorization ?? '';
  const space = header.indexOf(' ');
  const scheme = space > 0 ? header.slice(0, space) : header;
  const token = space > 0 ? header.slice(space + 1).trim() : '';
  if (!header) return new Refusal('no_token', 401);
  if (scheme.toLowerCase() === 'bearer') {
    return new Refusal('bearer_scheme', 401, 'invalid_token', 'this resource accepts only DPoP-bound tokens with the DPoP scheme');
  }
  if (scheme.toLowerCase() !== 'dpop' || !token) {
    return new Refusal('bad_scheme', 401, 'invalid_token', 'the Authorization header is not DPoP <token>');
  }
  const proof = req.headers.dpop;
  if (!proof) return new Refusal('no_proof', 401, 'invalid_dpop_proof', 'no DPoP proof');
  // Node joins repeated headers with a comma, which a compact JWT never holds.
  if (proof.includes(',')) return new Refusal('multiple_proofs', 401, 'invalid_dpop_proof', 'more than one DPoP proof');

  const bad = (reason, description) => new Refusal(reason, 401, 'invalid_dpop_proof', description);
  let head;
  try {
    head = jose.decodeProtectedHeader(proof);
  } catch {
    return bad('malformed_proof', 'the proof is not a JWT');
  }
  if (head.typ !== 'dpop+jwt') return bad('bad_typ', 'typ must be dpop+jwt');
  if (head.alg !== ALG) return bad('bad_alg', `alg must be ${ALG}`);
  const { jwk } = head;
  if (!jwk || typeof jwk !== 'object') return bad('no_jwk', 'no jwk in the proof header');
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) return bad('private_jwk', 'the jwk holds private key material');
  let claims;
  try {
    const key = await jose.importJWK(jwk, ALG);
    ({ payload: claims } = await jose.jwtVerify(proof, key, { algorithms: [ALG], typ: 'dpop+jwt' }));
  } catch {
    return bad('bad_signature', 'the proof does not verify with its jwk');
  }
  if (typeof claims.jti !== 'string' || !claims.jti) return bad('no_jti', 'no jti');
  if (claims.htm !== req.method) return bad('htm_mismatch', `htm must be ${req.method}`);
  const expectedHtu = `${mcpOrigin}${url.pathname}`;
  if (typeof claims.htu !== 'string') return bad('htu_mismatch', `htu must be ${expectedHtu}`);
  if (/[?#]/.test(claims.htu)) return bad('htu_query', 'htu must have no query or fragment');
  // Syntax-based normalisation only (RFC 9449 §4.3 step 9): case of scheme and host, and
  // a default port.
  const htu = URL.parse(claims.htu);
  if (!htu || `${htu.protocol}//${htu.host}${htu.pathname}` !== expectedHtu) {
    return bad('htu_mismatch', `htu must be ${expectedHtu}`);
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.iat !== 'number' || Math.abs(now - claims.iat) > IAT_WINDOW) {
    return bad('iat_window', `iat must be within ${IAT_WINDOW} s of now`);
  }
  if (claims.ath !== sha256(token)) return bad('ath_mismatch', 'ath is not the hash of the access token');

  let access;
  try {
    ({ payload: access } = await jose.jwtVerify(token, publicKeys, { issuer, audience: resource, typ: 'at+jwt' }));
  } catch {
    return new Refusal('bad_token', 401, 'invalid_token', 'the access token is not one of the provider\'s for this resource');
  }
  if (!String(access.scope ?? '').split(' ').includes(SCOPE)) {
    return new Refusal('insufficient_scope', 403, 'insufficient_scope', `the token lacks ${SCOPE}`);
  }
  const jkt = await jose.calculateJwkThumbprint(jwk, 'sha256');
  if (!access.cnf?.jkt) return new Refusal('not_bound', 401, 'invalid_token', 'the access token is not DPoP-bound');
  if (access.cnf.jkt !== jkt) return new Refusal('jkt_mismatch', 401, 'invalid_token', 'the proof key is not the one the token is bound to');

  // A signed, well-formed proof is spent from here on, whatever follows.
  for (const [seen, expires] of seenJtis) if (expires < now) seenJtis.delete(seen);
  if (seenJtis.has(claims.jti)) return bad('replayed', 'replayed');
  seenJtis.set(claims.jti, claims.iat + IAT_WINDOW);
  if (replayNext) {
    replayNext = false;
    return bad('replay_forced', 'replayed');
  }
  // Last, so a client sees use_dpop_nonce only when nothing else is wrong.
  if (claims.nonce !== nonce) {
    const description = claims.nonce === undefined ? 'a DPoP nonce is required' : 'the DPoP nonce is stale';
    return new Refusal(claims.nonce === undefined ? 'nonce_missing' : 'nonce_stale', 401, 'use_dpop_nonce', description, true);
  }
  return { jkt };
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

mcpServer.on('request', async (req, res) => {
  const url = new URL(req.url, mcpOrigin);
  if (url.pathname === '/.well-known/oauth-protected-resource/mcp') {
    json(res, 200, {
      resource,
      authorization_servers: [issuer],
      scopes_supported: [SCOPE],
      bearer_methods_supported: ['header'],
      // RFC 9728 §2: what a proof must be signed with, and that Bearer will not do.
      dpop_signing_alg_values_supported: [ALG],
      dpop_bound_access_tokens_required: true,
    });
    return;
  }
  if (url.pathname === '/stats' && req.method === 'GET') {
    json(res, 200, stats);
    return;
  }
  if (url.pathname === '/control/replay-next' && req.method === 'POST') {
    replayNext = true;
    json(res, 200, { replay_next: true });
    return;
  }
  if (url.pathname !== '/mcp') {
    res.writeHead(404).end();
    return;
  }
  const outcome = await check(req, url);
  if (outcome instanceof Refusal) {
    count(stats.refused, outcome.reason);
    const headers = { 'www-authenticate': challenges(outcome.error ? outcome : undefined) };
    if (outcome.withNonce) headers['dpop-nonce'] = nonce;
    const body = outcome.error ? { error: outcome.error, error_description: outcome.description } : { error: 'unauthorized' };
    json(res, outcome.status, body, headers);
    return;
  }
  stats.verified += 1;
  if (!stats.seen_jkts.includes(outcome.jkt)) stats.seen_jkts.push(outcome.jkt);
  servedOnNonce += 1;
  if (servedOnNonce >= nonceEvery) rotateNonce();
  // The nonce the next request needs, on every answer (RFC 9449 §9).
  res.setHeader('DPoP-Nonce', nonce);
  // Stateless: a fresh server and transport per request.
  await serveEcho('mcpauth-dpop-test-server', req, res);
});

const discovery = await fetch(`${issuer}/.well-known/openid-configuration`).then((r) => r.json());
process.stdout.write(`${JSON.stringify({
  issuer,
  mcp: resource,
  stats: `${mcpOrigin}/stats`,
  control: `${mcpOrigin}/control`,
  scopes_supported: discovery.scopes_supported,
})}\n`);

// Until the test closes our stdin.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
