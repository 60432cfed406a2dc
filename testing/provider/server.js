// Local test OpenID Provider for oidc-refresh (panva's oidc-provider 9.11.5).
//
// Usage: node server.js   (env: PORT, AT_TTL, RT_TTL, ID_TTL, LOG, STRICT_CLIENT_AUTH)
//
// On listening it prints exactly one line to stdout:
//   {"issuer":"http://127.0.0.1:PORT","port":PORT}
// and never writes anything else to stdout. Everything else goes to stderr.
// See README.md beside this file.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

// oidc-provider prints some notices with console.info (stdout). Stdout is reserved for
// the single issuer line, so route console.log/console.info to stderr *before* the
// library is loaded (hence the dynamic import below).
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);

const { default: Provider } = await import('oidc-provider');

function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) {
    console.error(`server.js: ${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return Number(raw);
}

const PORT = envInt('PORT', 0);
const AT_TTL = envInt('AT_TTL', 3600);
const RT_TTL = envInt('RT_TTL', 86400);
const ID_TTL = envInt('ID_TTL', 3600);
// LOG=0: silent (only the startup warnings of the library); LOG=1 (default): one line
// per token request; LOG=2: also one line per HTTP request.
const LOG = envInt('LOG', 1);
// STRICT_CLIENT_AUTH=1 (default): refuse a token request whose client authentication
// method (HTTP Basic vs client_secret in the body) is not the one registered for the
// client. Stock oidc-provider treats client_secret_basic and client_secret_post as
// interchangeable, which would hide a client sending the wrong one. 0 = stock behaviour.
const STRICT_CLIENT_AUTH = envInt('STRICT_CLIENT_AUTH', 1) !== 0;
const LONG_TTL = 365 * 24 * 60 * 60; // sessions and grants outlive any refresh chain

const log = (...args) => { if (LOG >= 1) console.error('[provider]', ...args); };

// ---------------------------------------------------------------------------------
// Unbounded in-memory adapter. The stock MemoryAdapter is an LRU of ~1000 entries that
// silently drops old grants on long runs; this one keeps everything until it expires.
// Semantics mirror the stock adapter (same object returned by find, consume sets
// `consumed`, revokeByGrantId removes every artefact of the grant).
// ---------------------------------------------------------------------------------
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

const epochTime = () => Math.floor(Date.now() / 1000);

const STORAGE_GRACE = 300; // seconds

class Store {
  #map = new Map(); // key -> { value, expiresAt (ms) | undefined }

  get(key) {
    const entry = this.#map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.#map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  // Entries are kept STORAGE_GRACE seconds past their expiry: the provider checks `exp`
  // itself (clockTolerance 0), so an expired token is still refused on time, but its
  // log then says "refresh token is expired" instead of "not found".
  set(key, value, expiresIn) {
    const expiresAt = typeof expiresIn === 'number'
      ? Date.now() + (expiresIn + STORAGE_GRACE) * 1000
      : undefined;
    this.#map.set(key, { value, expiresAt });
  }

  delete(key) {
    this.#map.delete(key);
  }

  sweep() {
    const now = Date.now();
    for (const [key, entry] of this.#map) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.#map.delete(key);
    }
  }

  get size() {
    return this.#map.size;
  }
}

const store = new Store();
setInterval(() => store.sweep(), 60_000).unref();

const grantKey = (grantId) => `grant:${grantId}`;
const sessionUidKey = (uid) => `sessionUid:${uid}`;
const userCodeKey = (userCode) => `userCode:${userCode}`;

class UnboundedMemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    if (this.model === 'Session' && payload.uid) {
      store.set(sessionUidKey(payload.uid), id, expiresIn);
    }
    if (GRANTABLE.has(this.model) && payload.grantId) {
      let members = store.get(grantKey(payload.grantId));
      if (!members) {
        members = new Set();
        store.set(grantKey(payload.grantId), members); // no expiry; emptied on revoke
      }
      members.add(key);
    }
    if (payload.userCode) {
      store.set(userCodeKey(payload.userCode), id, expiresIn);
    }
    store.set(key, payload, expiresIn);
  }

  async find(id) {
    if (id === undefined) return undefined;
    return store.get(this.key(id));
  }

  async findByUid(uid) {
    return this.find(store.get(sessionUidKey(uid)));
  }

  async findByUserCode(userCode) {
    return this.find(store.get(userCodeKey(userCode)));
  }

  async consume(id) {
    const payload = store.get(this.key(id));
    if (payload) payload.consumed = epochTime();
  }

  async destroy(id) {
    const key = this.key(id);
    const payload = store.get(key);
    store.delete(key);
    if (payload) {
      if (payload.uid && store.get(sessionUidKey(payload.uid)) === id) {
        store.delete(sessionUidKey(payload.uid));
      }
      if (payload.userCode && store.get(userCodeKey(payload.userCode)) === id) {
        store.delete(userCodeKey(payload.userCode));
      }
      if (payload.grantId) store.get(grantKey(payload.grantId))?.delete(key);
    }
  }

  async revokeByGrantId(grantId) {
    const members = store.get(grantKey(grantId));
    if (members) {
      for (const key of members) store.delete(key);
      store.delete(grantKey(grantId));
    }
  }
}

// ---------------------------------------------------------------------------------
// Signing keys, generated at every start: one RS256 (RSA 2048) and one ES256 (P-256).
// ---------------------------------------------------------------------------------
function genJwk(type, options, alg) {
  // PEM out of the generator, then a fresh KeyObject for the JWK export: exporting the
  // generator's own KeyObject can deadlock Node 20 when a GC runs mid-export (the
  // KeyGenJob's destructor takes the key's mutex that the export holds).
  const { privateKey: pem } = crypto.generateKeyPairSync(type, {
    ...options,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const jwk = crypto.createPrivateKey(pem).export({ format: 'jwk' });
  const kid = `${alg.toLowerCase()}-${crypto.randomBytes(6).toString('hex')}`;
  return { ...jwk, kid, alg, use: 'sig' };
}

const jwks = {
  keys: [
    genJwk('rsa', { modulusLength: 2048 }, 'RS256'),
    genJwk('ec', { namedCurve: 'P-256' }, 'ES256'),
  ],
};

// ---------------------------------------------------------------------------------
// One fixed test account. Any login name is accepted; `sub` is the login name
// (login.js defaults to "user-123").
// ---------------------------------------------------------------------------------
async function findAccount(ctx, sub) {
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        name: 'Test User',
        given_name: 'Test',
        family_name: 'User',
        nickname: 'tester',
        preferred_username: sub,
        locale: 'en-US',
        zoneinfo: 'Europe/Paris',
        updated_at: 1700000000,
        email: `${sub}@example.test`,
        email_verified: true,
      };
    },
  };
}

// ---------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------
const BASIC_SECRET = "s3cr%t:+ ~*'()x";
const common = {
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: ['http://127.0.0.1/cb'],
  application_type: 'native',
  // Always put auth_time in ID tokens (also refreshed ones) so that continuity checks
  // (auth_time unchanged) have something to compare.
  require_auth_time: true,
};
const clients = [
  { ...common, client_id: 'public-client', token_endpoint_auth_method: 'none' },
  {
    ...common,
    client_id: 'basic-client',
    client_secret: BASIC_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    ...common,
    client_id: 'post-client',
    client_secret: 'post-secret-123',
    token_endpoint_auth_method: 'client_secret_post',
  },
  {
    ...common,
    client_id: 'es256-client',
    token_endpoint_auth_method: 'none',
    id_token_signed_response_alg: 'ES256',
  },
];

// ---------------------------------------------------------------------------------
// Start: bind first (PORT may be 0), then build the provider with the real issuer.
// ---------------------------------------------------------------------------------
const stats = { refresh_grants: 0, refresh_errors: 0 };

// ---------------------------------------------------------------------------------
// Strict client authentication method check (see STRICT_CLIENT_AUTH above). Reads the
// token request body itself and hands it on as req.body, which oidc-provider accepts
// (it prints a one-time "already parsed request body" warning on stderr).
// ---------------------------------------------------------------------------------
const registeredAuth = new Map(clients.map((c) => [c.client_id, c.token_endpoint_auth_method]));
const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post']);
const BODY_LIMIT = 56 * 1024; // oidc-provider's own limit

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new Error('request entity too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function basicClientId(header) {
  try {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i === -1) return undefined;
    return decodeURIComponent(decoded.slice(0, i).replace(/\+/g, '%20'));
  } catch {
    return undefined;
  }
}

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

// Returns true when it answered the request itself.
async function strictClientAuth(req, res, issuer) {
  let raw;
  try {
    raw = await readBody(req);
  } catch (err) {
    sendJson(res, 400, { error: 'invalid_request', error_description: 'failed to parse the request body' });
    log(`token rejected before the provider: ${err.message}`);
    return true;
  }
  req.body = raw;
  const isForm = /^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '');
  const form = new URLSearchParams(isForm ? raw.toString('utf8') : '');
  const authorization = req.headers.authorization ?? '';
  const hasBasic = /^basic /i.test(authorization);
  const hasPostSecret = form.has('client_secret');
  if (hasBasic === hasPostSecret) return false; // neither, or both (the provider refuses both)
  const clientId = hasBasic ? basicClientId(authorization) : form.get('client_id');
  const registered = registeredAuth.get(clientId);
  const used = hasBasic ? 'client_secret_basic' : 'client_secret_post';
  if (!SECRET_METHODS.has(registered) || registered === used) return false;

  const grantType = form.get('grant_type');
  if (grantType === 'refresh_token') stats.refresh_errors += 1;
  log(`token grant_type=${grantType} client=${clientId} outcome=401 invalid_client `
    + `(strict: used ${used}, registered ${registered})`);
  const headers = hasBasic
    ? { 'www-authenticate': `Basic realm="${issuer}", error="invalid_client", error_description="client authentication failed"` }
    : {};
  sendJson(res, 401, { error: 'invalid_client', error_description: 'client authentication failed' }, headers);
  return true;
}
let providerHandler;

const server = http.createServer((req, res) => {
  if (LOG >= 2) {
    const started = Date.now();
    res.on('finish', () => log(`${req.method} ${req.url} -> ${res.statusCode} (${Date.now() - started} ms)`));
  }
  const path = req.url.split('?')[0];
  if (path === '/__test/stats') {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    const body = JSON.stringify(stats);
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (STRICT_CLIENT_AUTH && req.method === 'POST' && path === '/token') {
    strictClientAuth(req, res, issuerOf(server)).then((handled) => {
      if (!handled) providerHandler(req, res);
    }, (err) => {
      console.error('[provider] strict client auth check failed', err);
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
    });
    return;
  }
  providerHandler(req, res);
});

const issuerOf = (srv) => `http://127.0.0.1:${srv.address().port}`;

server.listen(PORT, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = issuerOf(server);

  const provider = new Provider(issuer, {
    adapter: UnboundedMemoryAdapter,
    clients,
    jwks,
    findAccount,
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: {
      openid: ['sub'],
      profile: [
        'name', 'given_name', 'family_name', 'middle_name', 'nickname',
        'preferred_username', 'profile', 'picture', 'website', 'gender',
        'birthdate', 'zoneinfo', 'locale', 'updated_at',
      ],
      email: ['email', 'email_verified'],
    },
    conformIdTokenClaims: false,
    // Error pages (authorization endpoint, interactions) as JSON rather than HTML, so
    // that login.js and tests can show the actual error.
    async renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
    clockTolerance: 0,
    responseTypes: ['code'],
    pkce: { required: () => true }, // S256 is the only method oidc-provider 9 supports
    rotateRefreshToken: true,
    issueRefreshToken: async () => true,
    expiresWithSession: async () => false,
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
    },
    ttl: {
      AccessToken: AT_TTL,
      RefreshToken: RT_TTL,
      IdToken: ID_TTL,
      AuthorizationCode: 600,
      Interaction: 3600,
      Session: LONG_TTL,
      Grant: LONG_TTL,
    },
  });

  const grantType = (ctx) => ctx?.oidc?.params?.grant_type;
  const clientId = (ctx) => ctx?.oidc?.client?.clientId ?? ctx?.oidc?.params?.client_id;

  provider.on('grant.success', (ctx) => {
    if (grantType(ctx) === 'refresh_token') stats.refresh_grants += 1;
    log(`token grant_type=${grantType(ctx)} client=${clientId(ctx)} outcome=${ctx.status} ok`);
  });
  provider.on('grant.error', (ctx, err) => {
    if (grantType(ctx) === 'refresh_token') stats.refresh_errors += 1;
    log(`token grant_type=${grantType(ctx)} client=${clientId(ctx)} outcome=${err.statusCode ?? ctx.status} `
      + `${err.error ?? err.message}${err.error_detail ? ` (${err.error_detail})` : ''}`);
  });
  provider.on('server_error', (ctx, err) => {
    if (ctx?.oidc?.route === 'token' && grantType(ctx) === 'refresh_token') stats.refresh_errors += 1;
    console.error('[provider] server_error', ctx?.method, ctx?.path, err);
  });
  provider.on('grant.revoked', (ctx, grantId) => log(`grant revoked grantId=${grantId}`));

  providerHandler = provider.callback();

  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
  log(`listening on ${issuer} (AT_TTL=${AT_TTL} RT_TTL=${RT_TTL} ID_TTL=${ID_TTL} STRICT_CLIENT_AUTH=${Number(STRICT_CLIENT_AUTH)})`);
});

server.on('error', (err) => {
  console.error(`server.js: ${err.message}`);
  process.exit(1);
});

function shutdown(signal) {
  log(`${signal}: closing`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
