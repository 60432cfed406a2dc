//! The bundled test OpenID Provider (`testing/provider/server.js`, panva's oidc-provider)
//! started on 127.0.0.1 for one test, and a real authorization code + PKCE login
//! (`testing/provider/login.js`) to get refresh tokens. `scripts/test.sh` runs `npm ci` first.
//!
//! ID tokens come signed with every algorithm the provider has a client for (see
//! [`ID_TOKEN_CLIENTS`]). A provider from [`Provider::start_persistent`] keeps its signing
//! keys and its grants in files of its own, so that it can be restarted on the same issuer
//! without losing a refresh token, and its signing keys rotated:
//!
//! ```no_run
//! use oidc_refresh_testing::provider::Provider;
//!
//! let mut provider = Provider::start_persistent(&[]);
//! let tokens = provider.login("public-client", None);
//! let old_kid = provider.signing_kid("RS256");
//! provider.rotate_keys(); // restart: a new key signs, the old one stays in /jwks
//! assert_ne!(provider.signing_kid("RS256"), old_kid);
//! assert_eq!(provider.public_kids().len(), 8);
//! provider.drop_old_keys(); // restart: only the new keys are left
//! assert_eq!(provider.public_kids().len(), 4);
//! // The refresh token from before both restarts still works.
//! let (status, _) = provider.refresh("public-client", None, tokens["refresh_token"].as_str().unwrap());
//! assert_eq!(status, 200);
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The secret of `basic-client` (RFC 6749 §2.3.1 encoding exercised: % : + space ~ * ' ( )).
pub const BASIC_SECRET: &str = "s3cr%t:+ ~*'()x";
/// The secret of `post-client`.
pub const POST_SECRET: &str = "post-secret-123";
/// The secret of `hs256-client` (`client_secret_basic`), whose octets are also the HS256 key
/// of its ID tokens (OIDC Core §10.1): 36 bytes, more than the 32 RFC 7518 §3.2 asks for.
pub const HS256_SECRET: &str = "hs256-client-secret-0123456789abcdef";

/// A client of the provider whose ID tokens are signed with one algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdTokenClient {
    /// The `alg` of its ID tokens (`id_token_signed_response_alg`).
    pub alg: &'static str,
    /// Its `client_id`.
    pub client_id: &'static str,
    /// Its `(auth method, secret)` as [`Provider::login`] and [`Provider::refresh`] take
    /// it; `None` for a public client.
    pub secret: Option<(&'static str, &'static str)>,
}

/// For each ID token signing algorithm of the provider, the client whose ID tokens it signs:
/// `public-client` (RS256), `ps256-client`, `es256-client`, `eddsa-client` (public) and
/// `hs256-client` (`client_secret_basic` with [`HS256_SECRET`]).
pub const ID_TOKEN_CLIENTS: [IdTokenClient; 5] = [
    IdTokenClient { alg: "RS256", client_id: "public-client", secret: None },
    IdTokenClient { alg: "PS256", client_id: "ps256-client", secret: None },
    IdTokenClient { alg: "ES256", client_id: "es256-client", secret: None },
    IdTokenClient { alg: "EdDSA", client_id: "eddsa-client", secret: None },
    IdTokenClient { alg: "HS256", client_id: "hs256-client", secret: Some(("basic", HS256_SECRET)) },
];

/// The asymmetric algorithms the provider has a signing key for, one key each per key
/// generation, in the order of its key set.
pub const KEY_ALGS: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];

/// How long [`Provider::restart_with`] waits for the server to exit after `SIGTERM`.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of the server's stderr [`Provider::log`] keeps (the end of it).
const LOG_LIMIT: usize = 256 * 1024;

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("provider")
}

/// Spawns `server.js` (see [`spawn`]); a server that has not printed its issuer line within
/// 30 s is killed and spawned again (at most 3 tries), so that a stuck start fails the test
/// instead of hanging it.
fn spawn_with_retries(
    env: &[(String, String)],
    extra: &[(&str, &str)],
    port: &str,
    log: &Arc<Mutex<Vec<u8>>>,
) -> Result<(Child, String, u16), String> {
    let mut last = String::new();
    for attempt in 0..3 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(200));
        }
        match spawn(env, extra, port, log, Duration::from_secs(30)) {
            Ok(started) => return Ok(started),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Spawns `server.js` on `port` (`"0"`: any) with `LOG=1`, then `env`, then `extra`, and
/// waits for its issuer line: the child, the issuer and the port. Its stderr is drained into
/// `log` (so that it never blocks on a full pipe).
fn spawn(
    env: &[(String, String)],
    extra: &[(&str, &str)],
    port: &str,
    log: &Arc<Mutex<Vec<u8>>>,
    deadline: Duration,
) -> Result<(Child, String, u16), String> {
    let dir = provider_dir();
    assert!(
        dir.join("node_modules/oidc-provider").is_dir(),
        "the test provider is not installed: run `npm ci --prefix testing/provider` (scripts/test.sh does)"
    );
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("server.js")).env("PORT", port).env("LOG", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node must be installed to run the provider tests");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let sink = Arc::clone(log);
    let drained = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match stderr.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let mut log = sink.lock().unwrap_or_else(PoisonError::into_inner);
                    log.extend_from_slice(&buf[..n]);
                    if log.len() > LOG_LIMIT {
                        let excess = log.len() - LOG_LIMIT;
                        log.drain(..excess);
                    }
                }
            }
        }
    });
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let fail = |mut child: Child, why: String| {
        let _ = child.kill();
        let _ = child.wait();
        let _ = drained.join();
        let log = log.lock().unwrap_or_else(PoisonError::into_inner);
        let tail = String::from_utf8_lossy(&log[log.len().saturating_sub(4096)..]).into_owned();
        Err(format!("{why}; its log ends with:\n{tail}"))
    };
    let line = match rx.recv_timeout(deadline) {
        Ok(line) => line,
        Err(_) => return fail(child, format!("no issuer line within {deadline:?}")),
    };
    let v: serde_json::Value = match serde_json::from_str(line.trim()) {
        Ok(v) => v,
        Err(e) => return fail(child, format!("not an issuer line ({e}): {line:?}")),
    };
    let issuer = v["issuer"].as_str().expect("issuer").to_owned();
    let port = u16::try_from(v["port"].as_u64().expect("port")).expect("port fits u16");
    Ok((child, issuer, port))
}

/// A running provider; killed on drop.
pub struct Provider {
    child: Child,
    /// Its issuer URL, `http://127.0.0.1:PORT`.
    pub issuer: String,
    /// The port it listens on.
    pub port: u16,
    /// The environment it was started with (given to every restart).
    env: Vec<(String, String)>,
    /// Its stderr so far (the last [`LOG_LIMIT`] bytes).
    log: Arc<Mutex<Vec<u8>>>,
    /// `KEYS_FILE` and `STATE_FILE` live here ([`Provider::start_persistent`] only).
    files: Option<tempfile::TempDir>,
}

const KEYS_FILE: &str = "keys.json";
const STATE_FILE: &str = "state.json";

impl Provider {
    /// Starts a provider with the given environment (e.g. `AT_TTL`). A provider that has
    /// not printed its issuer line within 30 s is killed and started again (at most 3
    /// tries), so that a stuck start fails the test instead of hanging it.
    pub fn start_with(env: &[(&str, &str)]) -> Provider {
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Provider::start_in(env, None)
    }

    /// Starts a provider with the default lifetimes.
    pub fn start() -> Provider {
        Provider::start_with(&[])
    }

    /// Starts a provider that can be restarted ([`restart`](Self::restart),
    /// [`restart_with`](Self::restart_with)) without losing anything: its signing keys
    /// (`KEYS_FILE`) and its store of grants, refresh tokens and sessions and its counters
    /// (`STATE_FILE`) are kept in a temporary directory it owns, removed on drop. `env` as
    /// for [`start_with`](Self::start_with), given again at every restart.
    pub fn start_persistent(env: &[(&str, &str)]) -> Provider {
        let files = tempfile::Builder::new()
            .prefix("oidc-refresh-provider-")
            .tempdir()
            .expect("a temporary directory for the provider's files");
        let mut all: Vec<(String, String)> = vec![
            ("KEYS_FILE".to_owned(), files.path().join(KEYS_FILE).display().to_string()),
            ("STATE_FILE".to_owned(), files.path().join(STATE_FILE).display().to_string()),
        ];
        all.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Provider::start_in(all, Some(files))
    }

    fn start_in(env: Vec<(String, String)>, files: Option<tempfile::TempDir>) -> Provider {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (child, issuer, port) = spawn_with_retries(&env, &[], "0", &log)
            .unwrap_or_else(|e| panic!("the test provider did not start: {e}"));
        Provider { child, issuer, port, env, log, files }
    }

    /// Stops the provider gracefully (`SIGTERM`; it then writes its `STATE_FILE`) and
    /// starts it again on the same port, so with the same issuer, with the environment it
    /// was started with plus `extra` (which wins; for this start only). Only for a
    /// provider from [`start_persistent`](Self::start_persistent): it comes back with the
    /// same signing keys, grants, refresh tokens, sessions and counters.
    ///
    /// `extra` may hold `ROTATE=add` or `ROTATE=drop` ([`rotate_keys`](Self::rotate_keys),
    /// [`drop_old_keys`](Self::drop_old_keys)) or change a lifetime (`AT_TTL`...). Panics
    /// when the server does not exit within [`STOP_TIMEOUT`], exits with a failure (e.g. it
    /// could not write its state), or does not come up again (e.g. someone else took the
    /// port meanwhile).
    pub fn restart_with(&mut self, extra: &[(&str, &str)]) {
        assert!(
            self.files.is_some(),
            "Provider::restart_with: this provider keeps its keys and grants in memory only; \
             start it with Provider::start_persistent to restart it"
        );
        self.stop();
        let port = self.port.to_string();
        let (child, issuer, _) = spawn_with_retries(&self.env, extra, &port, &self.log).unwrap_or_else(|e| {
            panic!("the test provider did not restart on port {port}: {e}\nits log:\n{}", self.log())
        });
        self.child = child;
        assert_eq!(issuer, self.issuer, "the provider restarted with another issuer");
    }

    /// [`restart_with`](Self::restart_with) no extra environment: same keys, same grants.
    pub fn restart(&mut self) {
        self.restart_with(&[]);
    }

    /// Rotates the signing keys: a [`restart_with`](Self::restart_with) `ROTATE=add`. A new
    /// key for each of [`KEY_ALGS`], with a new `kid`, signs from now on; the old ones stay
    /// published in `/jwks` (after the new ones) until [`drop_old_keys`](Self::drop_old_keys).
    pub fn rotate_keys(&mut self) {
        self.restart_with(&[("ROTATE", "add")]);
    }

    /// Drops the superseded signing keys: a [`restart_with`](Self::restart_with)
    /// `ROTATE=drop`. Only the newest generation of keys is left in `/jwks`.
    pub fn drop_old_keys(&mut self) {
        self.restart_with(&[("ROTATE", "drop")]);
    }

    /// Sends `SIGTERM` and waits for the exit (at most [`STOP_TIMEOUT`]).
    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            panic!("the test provider had exited by itself; its log:\n{}", self.log());
        }
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .stdin(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + STOP_TIMEOUT;
        while sent && Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(
                    status.success(),
                    "the test provider exited with {status} on SIGTERM; its log:\n{}",
                    self.log()
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!(
            "the test provider (pid {}) did not exit within {STOP_TIMEOUT:?} of SIGTERM (sent: {sent}); \
             killed. Its log:\n{}",
            self.child.id(),
            self.log()
        );
    }

    /// What the server wrote on stderr so far, over all its restarts (the last 256 KiB):
    /// one line per token request with `LOG=1` (the default here), the reason of every
    /// `invalid_grant`, the signing kids at each start.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }

    /// The directory of `KEYS_FILE` (`keys.json`: the private keys, newest generation
    /// first) and `STATE_FILE` (`state.json`, written at each restart); `None` unless from
    /// [`start_persistent`](Self::start_persistent).
    pub fn files_dir(&self) -> Option<&Path> {
        self.files.as_ref().map(tempfile::TempDir::path)
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.issuer)
    }

    /// Logs `user-123` in with `client_id` (a real code + PKCE flow) and returns the token
    /// endpoint's JSON response.
    pub fn login(&self, client_id: &str, secret: Option<(&str, &str)>) -> serde_json::Value {
        self.login_with_scope(client_id, secret, None)
    }

    /// Logs `login` in (any name is accepted; it becomes the subject) with a public client.
    pub fn login_as(&self, client_id: &str, login: &str) -> serde_json::Value {
        let out = Command::new("node")
            .arg(provider_dir().join("login.js"))
            .arg(&self.issuer)
            .arg(client_id)
            .arg("--login")
            .arg(login)
            .output()
            .expect("run login.js");
        assert!(out.status.success(), "login.js failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("login.js prints JSON")
    }

    /// Like [`login`](Self::login) with an explicit scope.
    pub fn login_with_scope(
        &self,
        client_id: &str,
        secret: Option<(&str, &str)>,
        scope: Option<&str>,
    ) -> serde_json::Value {
        let mut cmd = Command::new("node");
        cmd.arg(provider_dir().join("login.js")).arg(&self.issuer).arg(client_id);
        if let Some((auth, secret)) = secret {
            cmd.arg("--auth").arg(auth).arg("--secret").arg(secret);
        }
        if let Some(scope) = scope {
            cmd.arg("--scope").arg(scope);
        }
        let out = cmd.output().expect("run login.js");
        assert!(out.status.success(), "login.js failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("login.js prints JSON")
    }

    /// The provider's counters: `(successful refresh grants, failed refresh requests)`,
    /// read with this project's own ureq transport. A persistent provider keeps them across
    /// restarts.
    pub fn stats(&self) -> (u64, u64) {
        (self.counter("refresh_grants"), self.counter("refresh_errors"))
    }

    /// How many requests reached `/jwks` (the `jwks_uri` of discovery), any method, since
    /// the provider started (over all restarts of a persistent provider). The test's own
    /// looks at the key set ([`public_jwks`](Self::public_jwks), [`public_kids`](Self::public_kids))
    /// are not counted.
    pub fn jwks_requests(&self) -> u64 {
        self.counter("jwks_requests")
    }

    fn counter(&self, name: &str) -> u64 {
        let v = self.get_json("/__test/stats");
        v[name].as_u64().unwrap_or_else(|| panic!("the provider's stats have no counter `{name}`: {v}"))
    }

    /// The public key set the provider publishes at `/jwks`, read without counting in
    /// [`jwks_requests`](Self::jwks_requests).
    pub fn public_jwks(&self) -> serde_json::Value {
        self.get_json("/__test/jwks")
    }

    /// The `kid`s of [`public_jwks`](Self::public_jwks), in its order: the newest generation
    /// of keys first, one key per [`KEY_ALGS`] in each generation.
    pub fn public_kids(&self) -> Vec<String> {
        let jwks = self.public_jwks();
        jwks["keys"]
            .as_array()
            .unwrap_or_else(|| panic!("no keys in the provider's key set: {jwks}"))
            .iter()
            .map(|k| k["kid"].as_str().unwrap_or_else(|| panic!("a key without kid: {k}")).to_owned())
            .collect()
    }

    /// The `kid` of the key that signs `alg` (one of [`KEY_ALGS`]) now: the first key of
    /// that `alg` in the key set, which is the one oidc-provider picks.
    pub fn signing_kid(&self, alg: &str) -> String {
        let v = self.get_json("/__test/keys");
        v["signing"][alg].as_str().unwrap_or_else(|| panic!("no signing key for {alg}: {v}")).to_owned()
    }

    /// The `kid`s of each generation of signing keys, newest first: one generation after a
    /// start, one more after each [`rotate_keys`](Self::rotate_keys), one again after
    /// [`drop_old_keys`](Self::drop_old_keys).
    pub fn key_generations(&self) -> Vec<Vec<String>> {
        let v = self.get_json("/__test/keys");
        serde_json::from_value(v["generations"].clone())
            .unwrap_or_else(|e| panic!("bad key generations ({e}): {v}"))
    }

    /// Sends one `grant_type=refresh_token` request (with a transport of its own, so never a
    /// connection from before a restart) for `client_id`, authenticated as
    /// [`login`](Self::login) takes it: `None` for a public client, `Some(("basic", secret))`
    /// or `Some(("post", secret))`. Returns the status and the JSON body.
    pub fn refresh(
        &self,
        client_id: &str,
        secret: Option<(&str, &str)>,
        refresh_token: &str,
    ) -> (u16, serde_json::Value) {
        let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        let mut request = http::Request::post(self.token_endpoint())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json");
        match secret {
            None => form.push(("client_id", client_id)),
            Some(("post", secret)) => form.extend([("client_id", client_id), ("client_secret", secret)]),
            Some(("basic", secret)) => {
                let credentials = format!("{}:{}", form_encode(client_id), form_encode(secret));
                request = request
                    .header("authorization", format!("Basic {}", STANDARD.encode(credentials.as_bytes())));
            }
            Some((other, _)) => panic!("Provider::refresh: unknown client authentication `{other}`"),
        }
        let body: Vec<String> = form.iter().map(|(k, v)| format!("{k}={}", form_encode(v))).collect();
        let request = request.body(body.join("&").into_bytes()).expect("refresh request");
        let response = transport().execute(request).expect("the refresh request reached the provider");
        let v = serde_json::from_slice(response.body()).unwrap_or_else(|e| {
            panic!(
                "the token endpoint's body is not JSON ({e}): {}",
                String::from_utf8_lossy(response.body())
            )
        });
        (response.status().as_u16(), v)
    }

    /// `GET` of a path of the provider, whose body must be JSON.
    fn get_json(&self, path: &str) -> serde_json::Value {
        let request = http::Request::get(format!("{}{path}", self.issuer)).body(Vec::new()).expect("request");
        let response = transport().execute(request).unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert_eq!(response.status(), 200, "GET {path}: {}", String::from_utf8_lossy(response.body()));
        serde_json::from_slice(response.body()).unwrap_or_else(|e| panic!("GET {path}: not JSON: {e}"))
    }
}

fn transport() -> oidc_refresh_ureq::Transport {
    oidc_refresh_ureq::Transport::new(oidc_refresh_ureq::Options::default()).expect("transport")
}

/// The header of a JWS in compact form (`alg`, `kid`...), decoded.
pub fn jwt_header(jwt: &str) -> serde_json::Value {
    jwt_part(jwt, 0)
}

/// The claims of a JWS in compact form, decoded (not verified).
pub fn jwt_claims(jwt: &str) -> serde_json::Value {
    jwt_part(jwt, 1)
}

fn jwt_part(jwt: &str, index: usize) -> serde_json::Value {
    let part = jwt.split('.').nth(index).unwrap_or_else(|| panic!("not a compact JWS: {jwt:?}"));
    let bytes = URL_SAFE_NO_PAD.decode(part).unwrap_or_else(|_| panic!("not base64url: {part:?}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not a JSON object ({e}): {part:?}"))
}

/// `application/x-www-form-urlencoded` encoding of one value (space as `+`), as RFC 6749
/// §2.3.1 asks for a client id and secret before HTTP Basic.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A clock that stands still until the test moves it, for a manager's `with_clock`: it
/// starts at the real time (the provider's ID tokens are checked against it) and never
/// moves by itself, so that whether a token is fresh never depends on how long a refresh
/// took.
#[derive(Clone)]
pub struct VirtualClock(Arc<Mutex<oidc_refresh_core::UnixTime>>);

impl VirtualClock {
    /// A clock at the real time now.
    pub fn at_real_time() -> VirtualClock {
        let real = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970");
        VirtualClock(Arc::new(Mutex::new(oidc_refresh_core::UnixTime::from_duration_since_epoch(real))))
    }

    /// The time it shows.
    pub fn now(&self) -> oidc_refresh_core::UnixTime {
        *self.0.lock().expect("clock lock")
    }

    /// Moves it to `t`.
    pub fn set(&self, t: oidc_refresh_core::UnixTime) {
        *self.0.lock().expect("clock lock") = t;
    }
}

impl oidc_refresh_driver::Clock for VirtualClock {
    fn now(&self) -> oidc_refresh_core::UnixTime {
        VirtualClock::now(self)
    }
}

/// A string member of a JSON object.
pub fn field<'a>(v: &'a serde_json::Value, name: &str) -> &'a str {
    v[name].as_str().unwrap_or_else(|| panic!("no string `{name}` in the login response"))
}
