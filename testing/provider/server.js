// Local test OpenID Provider for oidc-refresh (panva's oidc-provider 9.11.5).
//
// Usage: node server.js   (env: PORT, AT_TTL, RT_TTL, ID_TTL, LOG, STRICT_CLIENT_AUTH,
//                           KEYS_FILE, ROTATE, STATE_FILE)
//
// On listening it prints exactly one line to stdout:
//   {"issuer":"http://127.0.0.1:PORT","port":PORT}
// and never writes anything else to stdout. Everything else goes to stderr.
// See README.md beside this file.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { promisify } from 'node:util';

// oidc-provider prints some notices with console.info (stdout). Stdout is reserved for
// the single issuer line, so route console.log/console.info to stderr *before* the
// library is loaded (hence the dynamic import below, awaited once the signing keys are
// generated: both go on at once).
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);

const providerModule = import('oidc-provider');

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
// KEYS_FILE=path: the private signing keys (and the cookie keys) are read from this file
// when it exists, else generated and written there (mode 0600). ROTATE=add|drop (needs an
// existing KEYS_FILE): add a new generation of signing keys that signs from now on, the
// old ones staying published; or drop every generation but the newest. STATE_FILE=path:
// the adapter's store (grants, refresh tokens, sessions...) and the stats are loaded from
// this file at start when it exists and written to it on SIGTERM / SIGINT.
const KEYS_FILE = process.env.KEYS_FILE || undefined;
const ROTATE = process.env.ROTATE || undefined;
const STATE_FILE = process.env.STATE_FILE || undefined;
if (ROTATE !== undefined && ROTATE !== 'add' && ROTATE !== 'drop') {
  console.error(`server.js: ROTATE must be add or drop, got ${JSON.stringify(ROTATE)}`);
  process.exit(2);
}
if (ROTATE !== undefined && (KEYS_FILE === undefined || !fs.existsSync(KEYS_FILE))) {
  console.error(`server.js: ROTATE=${ROTATE} needs KEYS_FILE naming an existing key file`
    + ` (got ${JSON.stringify(KEYS_FILE ?? null)})`);
  process.exit(2);
}

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

  // For STATE_FILE: every live entry; a Set (the members of a grant) as an array.
  toJSON() {
    const now = Date.now();
    const entries = [];
    for (const [key, { value, expiresAt }] of this.#map) {
      if (expiresAt !== undefined && expiresAt <= now) continue;
      entries.push(value instanceof Set
        ? { key, set: [...value], expiresAt }
        : { key, value, expiresAt });
    }
    return entries;
  }

  load(entries) {
    for (const { key, value, set, expiresAt } of entries) {
      this.#map.set(key, { value: set ? new Set(set) : value, expiresAt: expiresAt ?? undefined });
    }
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
// Signing keys: one generation = RS256 (RSA 2048), PS256 (RSA 2048), ES256 (P-256) and
// EdDSA (Ed25519), each with kid/alg/use. Generated at every start, or kept in KEYS_FILE.
// ---------------------------------------------------------------------------------
const generateKeyPair = promisify(crypto.generateKeyPair);

async function genJwk(type, options, alg) {
  // PEM out of the generator, then a fresh KeyObject for the JWK export: exporting the
  // generator's own KeyObject can deadlock Node 20 when a GC runs mid-export (the
  // KeyGenJob's destructor takes the key's mutex that the export holds).
  const { privateKey: pem } = await generateKeyPair(type, {
    ...options,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const jwk = crypto.createPrivateKey(pem).export({ format: 'jwk' });
  const kid = `${alg.toLowerCase()}-${crypto.randomBytes(6).toString('hex')}`;
  return { ...jwk, kid, alg, use: 'sig' };
}

// The four keys are generated in parallel (libuv's thread pool): the two RSA keys take
// most of the time.
const genGeneration = () => Promise.all([
  genJwk('rsa', { modulusLength: 2048 }, 'RS256'),
  genJwk('rsa', { modulusLength: 2048 }, 'PS256'),
  genJwk('ec', { namedCurve: 'P-256' }, 'ES256'),
  genJwk('ed25519', {}, 'EdDSA'),
]);

// Writes `text` to `path` with mode 0600, atomically (temporary file + rename).
function writePrivateFile(path, text) {
  const tmp = `${path}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, path);
}

// The key file: a JWK Set of private keys, newest generation first, with two extra
// members oidc-provider never sees: `generations` (the kids of each generation, newest
// first) and `cookie_keys` (so that session cookies outlive a restart).
async function loadKeyFile() {
  if (KEYS_FILE === undefined) {
    return {
      keys: await genGeneration(), generations: null, cookie_keys: [crypto.randomBytes(32).toString('base64url')],
    };
  }
  let file;
  let changed = false;
  if (fs.existsSync(KEYS_FILE)) {
    try {
      file = JSON.parse(fs.readFileSync(KEYS_FILE, 'utf8'));
      if (!file || !Array.isArray(file.keys) || !file.keys.length) throw new Error('no "keys" array');
    } catch (err) {
      console.error(`server.js: KEYS_FILE ${KEYS_FILE}: ${err.message}`);
      process.exit(2);
    }
    // A hand-written JWK Set: all its keys are one generation.
    if (!Array.isArray(file.generations)) {
      file.generations = [file.keys.map((k) => k.kid)];
      changed = true;
    }
    if (!Array.isArray(file.cookie_keys) || !file.cookie_keys.length) {
      file.cookie_keys = [crypto.randomBytes(32).toString('base64url')];
      changed = true;
    }
  } else {
    const keys = await genGeneration();
    file = { keys, generations: [keys.map((k) => k.kid)], cookie_keys: [crypto.randomBytes(32).toString('base64url')] };
    changed = true;
  }
  if (ROTATE === 'add') {
    const fresh = await genGeneration();
    file.keys = [...fresh, ...file.keys]; // first matching key signs (oidc-provider's keystore order)
    file.generations = [fresh.map((k) => k.kid), ...file.generations];
    changed = true;
  } else if (ROTATE === 'drop') {
    const newest = new Set(file.generations[0]);
    file.keys = file.keys.filter((k) => newest.has(k.kid));
    file.generations = [file.generations[0]];
    changed = true;
  }
  if (changed) writePrivateFile(KEYS_FILE, `${JSON.stringify(file, null, 2)}\n`);
  return file;
}

const keyFile = await loadKeyFile();
const { default: Provider } = await providerModule;
const jwks = { keys: keyFile.keys.map((k) => ({ ...k })) };
// The kid that signs for each alg: oidc-provider takes the first key of its keystore that
// fits the alg (a stable sort by a score that is equal for all our keys).
const signingKids = {};
for (const k of keyFile.keys) signingKids[k.alg] ??= k.kid;

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
const HS256_SECRET = 'hs256-client-secret-0123456789abcdef'; // 36 bytes
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
  {
    ...common,
    client_id: 'ps256-client',
    token_endpoint_auth_method: 'none',
    id_token_signed_response_alg: 'PS256',
  },
  {
    ...common,
    client_id: 'eddsa-client',
    token_endpoint_auth_method: 'none',
    id_token_signed_response_alg: 'EdDSA',
  },
  {
    ...common,
    client_id: 'hs256-client',
    // HS256 ID tokens are signed with the secret's octets (OIDC Core §10.1): 32 bytes at
    // least, the size of the hash (RFC 7518 §3.2).
    client_secret: HS256_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'HS256',
  },
];

// ---------------------------------------------------------------------------------
// Start: bind first (PORT may be 0), then build the provider with the real issuer.
// ---------------------------------------------------------------------------------
// jwks_requests: requests to /jwks (the key set a client fetches; /__test/jwks is not
// counted).
const stats = { refresh_grants: 0, refresh_errors: 0, jwks_requests: 0 };

// ---------------------------------------------------------------------------------
// STATE_FILE: the store and the stats, loaded here, saved on SIGTERM / SIGINT.
// ---------------------------------------------------------------------------------
if (STATE_FILE !== undefined && fs.existsSync(STATE_FILE)) {
  try {
    const state = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8'));
    if (!state || !Array.isArray(state.store)) throw new Error('no "store" array');
    store.load(state.store);
    for (const name of Object.keys(stats)) {
      if (Number.isSafeInteger(state.stats?.[name])) stats[name] = state.stats[name];
    }
  } catch (err) {
    console.error(`server.js: STATE_FILE ${STATE_FILE}: ${err.message}`);
    process.exit(2);
  }
}

function saveState() {
  if (STATE_FILE === undefined) return;
  writePrivateFile(STATE_FILE, JSON.stringify({ store, stats }));
  log(`state saved to ${STATE_FILE} (${store.size} entries)`);
}

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
  const testJson = (value) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    const body = JSON.stringify(value);
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (path === '/__test/stats') {
    testJson(stats);
    return;
  }
  if (path === '/__test/keys') {
    testJson({ signing: signingKids, generations: keyFile.generations ?? [keyFile.keys.map((k) => k.kid)] });
    return;
  }
  if (path === '/__test/jwks') {
    req.url = '/jwks'; // the provider's own /jwks response, not counted
  } else if (path === '/jwks') {
    stats.jwks_requests += 1;
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
    cookies: { keys: keyFile.cookie_keys },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256'],
    },
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
  log(`listening on ${issuer} (AT_TTL=${AT_TTL} RT_TTL=${RT_TTL} ID_TTL=${ID_TTL} STRICT_CLIENT_AUTH=${Number(STRICT_CLIENT_AUTH)}`
    + `${KEYS_FILE ? ` KEYS_FILE=${KEYS_FILE}` : ''}${ROTATE ? ` ROTATE=${ROTATE}` : ''}${STATE_FILE ? ` STATE_FILE=${STATE_FILE}` : ''}`
    + `) signing kids ${JSON.stringify(signingKids)}`);
});

server.on('error', (err) => {
  console.error(`server.js: ${err.message}`);
  process.exit(1);
});

let shuttingDown = false;
function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`${signal}: closing`);
  let code = 0;
  server.close(() => process.exit(code));
  server.closeAllConnections?.();
  // Synchronously, before any pending request handler runs again: what the clients were
  // answered is what is saved.
  try {
    saveState();
  } catch (err) {
    console.error(`server.js: cannot write STATE_FILE ${STATE_FILE}: ${err.message}`);
    code = 1;
  }
  setTimeout(() => process.exit(code), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
