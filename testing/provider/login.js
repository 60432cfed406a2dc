#!/usr/bin/env node
// Drives a real authorization code + PKCE (S256) flow against the test provider's
// devInteractions (login form, then consent form) over plain HTTP, exchanges the code
// and prints the token endpoint's JSON response on stdout as one line.
//
// Usage: node login.js ISSUER CLIENT_ID [--secret S] [--auth none|basic|post]
//                      [--scope "openid offline_access profile email"] [--login NAME]
//
// Node built-ins only (global fetch). Exit 0 on success; on any failure a message on
// stderr, nothing on stdout, exit 1 (2 for usage errors).

import * as crypto from 'node:crypto';

const REDIRECT_URI = 'http://127.0.0.1/cb';
const USAGE = 'usage: node login.js ISSUER CLIENT_ID [--secret S] [--auth none|basic|post] '
  + '[--scope "openid offline_access profile email"] [--login NAME]';

class Failure extends Error {}
const fail = (msg) => { throw new Failure(msg); };

function usage(msg) {
  console.error(`login.js: ${msg}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    secret: undefined, auth: undefined, scope: 'openid offline_access profile email', login: 'user-123',
  };
  const positional = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const m = /^--(secret|auth|scope|login)(?:=(.*))?$/s.exec(arg);
    if (m) {
      let value = m[2];
      if (value === undefined) {
        i += 1;
        if (i >= argv.length) usage(`${arg} needs a value`);
        value = argv[i];
      }
      opts[m[1]] = value;
    } else if (arg === '-h' || arg === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith('--')) {
      usage(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 2) usage('expected ISSUER and CLIENT_ID');
  [opts.issuer, opts.clientId] = positional;
  opts.issuer = opts.issuer.replace(/\/+$/, '');
  opts.auth ??= opts.secret !== undefined ? 'basic' : 'none';
  if (!['none', 'basic', 'post'].includes(opts.auth)) usage(`--auth must be none, basic or post, got ${opts.auth}`);
  if (opts.auth !== 'none' && opts.secret === undefined) usage(`--auth ${opts.auth} needs --secret`);
  return opts;
}

// application/x-www-form-urlencoded encoding of one value (space -> '+'), as RFC 6749
// §2.3.1 asks for the client id and secret before they go into HTTP Basic.
const formEncode = (value) => new URLSearchParams([['', value]]).toString().slice(1);

// ---- a minimal cookie jar that honours Path (oidc-provider scopes its interaction
// cookies to /interaction/{uid} and /auth/{uid}) ----
const jar = new Map(); // `${name}\0${path}` -> { name, value, path, expires }

function defaultPath(url) {
  const p = url.pathname;
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function pathMatches(reqPath, cookiePath) {
  if (reqPath === cookiePath) return true;
  if (!reqPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || reqPath[cookiePath.length] === '/';
}

function storeCookies(response, url) {
  const lines = typeof response.headers.getSetCookie === 'function'
    ? response.headers.getSetCookie()
    : [];
  for (const line of lines) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq < 1) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path = defaultPath(url);
    let expires;
    for (const attr of attrs) {
      const [k, ...rest] = attr.split('=');
      const key = k.trim().toLowerCase();
      const v = rest.join('=').trim();
      if (key === 'path' && v.startsWith('/')) path = v;
      else if (key === 'max-age' && /^-?\d+$/.test(v)) expires = Date.now() + Number(v) * 1000;
      else if (key === 'expires' && expires === undefined) {
        const t = Date.parse(v);
        if (!Number.isNaN(t)) expires = t;
      }
    }
    const id = `${name}\0${path}`;
    if (expires !== undefined && expires <= Date.now()) jar.delete(id);
    else jar.set(id, { name, value, path, expires });
  }
}

function cookieHeader(url) {
  const now = Date.now();
  const out = [];
  for (const [id, c] of jar) {
    if (c.expires !== undefined && c.expires <= now) {
      jar.delete(id);
    } else if (pathMatches(url.pathname, c.path)) {
      out.push(`${c.name}=${c.value}`);
    }
  }
  return out.join('; ');
}

async function request(method, url, { body, headers = {} } = {}) {
  const h = { accept: 'application/json', ...headers };
  const cookie = cookieHeader(url);
  if (cookie) h.cookie = cookie;
  let response;
  try {
    response = await fetch(url, {
      method, headers: h, body, redirect: 'manual',
    });
  } catch (err) {
    fail(`${method} ${url.origin}${url.pathname}: ${err.cause?.message ?? err.message}`);
  }
  storeCookies(response, url);
  return response;
}

async function describe(response) {
  const text = await response.text();
  return `HTTP ${response.status}: ${text.replace(/\s+/g, ' ').slice(0, 300)}`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));

  // Discovery
  const discoveryUrl = new URL(`${opts.issuer}/.well-known/openid-configuration`);
  const discoveryResponse = await request('GET', discoveryUrl);
  if (discoveryResponse.status !== 200) fail(`discovery ${await describe(discoveryResponse)}`);
  const discovery = await discoveryResponse.json();
  if (discovery.issuer !== opts.issuer) fail(`discovery issuer ${discovery.issuer} != ${opts.issuer}`);

  // Authorization request
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const state = crypto.randomBytes(12).toString('base64url');
  const nonce = crypto.randomBytes(12).toString('base64url');
  const authUrl = new URL(discovery.authorization_endpoint);
  authUrl.search = new URLSearchParams({
    client_id: opts.clientId,
    response_type: 'code',
    scope: opts.scope,
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
    prompt: 'consent',
  }).toString();

  let url = authUrl;
  let response = await request('GET', url);
  let callback;
  const seenPrompts = [];
  for (let step = 0; step < 30 && !callback; step += 1) {
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      if (!location) fail(`redirect without Location from ${url.pathname}`);
      await response.arrayBuffer();
      const next = new URL(location, url);
      if (location.startsWith(REDIRECT_URI) || next.href.startsWith(REDIRECT_URI)) {
        callback = next;
        break;
      }
      if (next.origin !== new URL(opts.issuer).origin) fail(`unexpected redirect to ${next.origin}${next.pathname}`);
      url = next;
      response = await request('GET', url);
    } else if (response.status === 200 && /^\/interaction\//.test(url.pathname)) {
      const html = await response.text();
      const prompt = /name="prompt"\s+value="([^"]+)"/.exec(html)?.[1];
      const action = /<form[^>]*\saction="([^"]+)"/.exec(html)?.[1] ?? url.pathname;
      if (prompt !== 'login' && prompt !== 'consent') fail(`unexpected interaction page at ${url.pathname}`);
      seenPrompts.push(prompt);
      const form = prompt === 'login'
        ? new URLSearchParams({ prompt: 'login', login: opts.login, password: 'x' })
        : new URLSearchParams({ prompt: 'consent' });
      url = new URL(action.replace(/&amp;/g, '&'), url);
      response = await request('POST', url, {
        body: form.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    } else {
      fail(`authorization flow stopped at ${url.pathname}: ${await describe(response)}`);
    }
  }
  if (!callback) fail('authorization flow did not reach the redirect_uri');

  const cbParams = callback.searchParams;
  if (cbParams.get('error')) {
    fail(`authorization error: ${cbParams.get('error')} ${cbParams.get('error_description') ?? ''}`.trim());
  }
  if (cbParams.get('state') !== state) fail('state mismatch in the authorization response');
  if (cbParams.has('iss') && cbParams.get('iss') !== opts.issuer) fail(`iss mismatch: ${cbParams.get('iss')}`);
  const code = cbParams.get('code');
  if (!code) fail('no code in the authorization response');

  // Token exchange
  const tokenUrl = new URL(discovery.token_endpoint);
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
  });
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (opts.auth === 'basic') {
    const credentials = `${formEncode(opts.clientId)}:${formEncode(opts.secret)}`;
    headers.authorization = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
  } else {
    form.set('client_id', opts.clientId);
    if (opts.auth === 'post') form.set('client_secret', opts.secret);
  }
  const tokenResponse = await request('POST', tokenUrl, { body: form.toString(), headers });
  const text = await tokenResponse.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    fail(`token endpoint HTTP ${tokenResponse.status}: non-JSON body: ${text.slice(0, 200)}`);
  }
  if (tokenResponse.status !== 200 || json.error) {
    fail(`token endpoint HTTP ${tokenResponse.status}: ${json.error ?? ''} ${json.error_description ?? ''}`.trim());
  }
  process.stdout.write(`${JSON.stringify(json)}\n`);
}

main().catch((err) => {
  console.error(`login.js: ${err instanceof Failure ? err.message : (err.stack ?? err)}`);
  process.exit(1);
});
