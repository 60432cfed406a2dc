//! A real Redis server for one test: Debian's `redis-server` (installed on the spot when
//! missing, see [`ensure_redis_server`]) started on a free loopback port of its own, never a
//! system service and never port 6379, with its own temporary directory, AOF persistence
//! (`appendfsync always`, so that a [`RedisServer::restart`] after a [`RedisServer::kill`]
//! loses nothing that was acknowledged) and no RDB snapshots.
//!
//! Options go through [`RedisServer::builder`]: a password (`requirepass`), ACL users, TLS
//! (`rediss://`, with certificates from [`pem_pki`]) and any other configuration directive.
//! A tiny RESP client ([`RedisServer::command`], [`Connection`], [`Resp`]) lets tests look at
//! and tamper with keys without the `redis` crate.
//!
//! ```no_run
//! use oidc_refresh_testing::redis::RedisServer;
//!
//! let mut server = RedisServer::builder().password("s3cret").start();
//! server.set("k", "v");
//! server.kill();
//! server.restart();
//! assert_eq!(server.get("k").as_deref(), Some(&b"v"[..]));
//! ```

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a server may take to answer `PING` after it was spawned.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long [`RedisServer::stop`] waits for a server to exit after `SIGTERM`.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// The read and write timeout of every [`Connection`].
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

const LOG_FILE: &str = "redis.log";
const OUTPUT_FILE: &str = "redis.out";
const CONFIG_FILE: &str = "redis.conf";

// ---------------------------------------------------------------------------------------------
// Installation
// ---------------------------------------------------------------------------------------------

/// Makes sure `redis-server` is on `PATH`: when it is not, installs Debian's `redis-server`
/// package (`apt-get update -qq && apt-get install -y -qq redis-server`), as
/// `scripts/provider-setup.sh` does for CI. Runs at most once per process; panics with an
/// explanation when the server is missing and cannot be installed.
pub fn ensure_redis_server() {
    static CHECKED: Mutex<bool> = Mutex::new(false);
    let mut checked = CHECKED.lock().unwrap_or_else(PoisonError::into_inner);
    if *checked {
        return;
    }
    if !redis_server_present() {
        eprintln!("oidc-refresh-testing: redis-server is not on PATH; installing Debian's redis-server");
        let output = Command::new("sh")
            .arg("-c")
            .arg("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server")
            .stdin(Stdio::null())
            .output();
        let report = match output {
            Ok(o) if o.status.success() => String::new(),
            Ok(o) => format!(
                "apt-get exited with {}:\n{}{}",
                o.status,
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => format!("could not run sh: {e}"),
        };
        assert!(
            report.is_empty() && redis_server_present(),
            "the Redis tests need `redis-server` (Redis 7, Debian package `redis-server`) on PATH; it \
             is missing and installing it failed (run `bash scripts/provider-setup.sh` as root, or \
             `apt-get install redis-server`). {report}"
        );
    }
    *checked = true;
}

fn redis_server_present() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

/// Certificates for a TLS Redis server, PEM-encoded as `redis-server` reads them: a CA and a
/// leaf certificate it signed, naming `localhost` and `127.0.0.1`.
#[derive(Clone)]
pub struct PemPki {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The CA certificate, DER (to trust through a client's options).
    pub ca_der: Vec<u8>,
    /// The server's certificate, PEM.
    pub cert_pem: String,
    /// The server's private key, PKCS#8 PEM.
    pub key_pem: String,
}

impl PemPki {
    /// A rustls client configuration trusting only this PKI's CA.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone().into()).expect("the test CA is a valid trust anchor");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }
}

/// Makes a fresh [`PemPki`] (like [`crate::servers::test_pki`], but as PEM files' contents).
pub fn pem_pki() -> PemPki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };

    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "oidc-refresh test Redis CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().expect("leaf key");
    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).expect("leaf params");
    leaf_params.distinguished_name.push(DnType::CommonName, "localhost");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).expect("leaf certificate");

    PemPki {
        ca_pem: pem("CERTIFICATE", ca_cert.der()),
        ca_der: ca_cert.der().to_vec(),
        cert_pem: pem("CERTIFICATE", leaf_cert.der()),
        key_pem: pem("PRIVATE KEY", &leaf_key.serialize_der()),
    }
}

/// PEM-encodes `der` (RFC 7468: base64 in lines of 64 characters).
fn pem(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::with_capacity(der.len().div_ceil(3) * 4);
    for chunk in der.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    let _ = writeln!(out, "-----END {label}-----");
    out
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// How to start a [`RedisServer`]; from [`RedisServer::builder`].
#[derive(Clone, Default)]
pub struct Builder {
    password: Option<String>,
    users: Vec<(String, String)>,
    tls: Option<PemPki>,
    extra: Vec<(String, Vec<String>)>,
}

impl Builder {
    /// Requires this password of the `default` user (`requirepass`): a client must `AUTH`
    /// first. [`RedisServer::url`] carries it (`redis://:PASSWORD@...`), and the harness's own
    /// connections authenticate with it.
    pub fn password(mut self, password: &str) -> Builder {
        self.password = Some(password.to_owned());
        self
    }

    /// Adds an ACL user allowed everything (`user NAME on >PASSWORD ~* &* +@all`); see
    /// [`RedisServer::url_for_user`].
    pub fn user(mut self, name: &str, password: &str) -> Builder {
        self.users.push((name.to_owned(), password.to_owned()));
        self
    }

    /// Serves TLS only (`rediss://`): `port 0`, `tls-port` the server's port, the PKI's
    /// certificate and key, and no client certificates (`tls-auth-clients no`). Debian's
    /// `redis-server` is built with TLS.
    pub fn tls(mut self, pki: &PemPki) -> Builder {
        self.tls = Some(pki.clone());
        self
    }

    /// Adds any other configuration directive, e.g. `.config("maxmemory", &["10mb"])`
    /// (arguments are quoted as the configuration file needs).
    pub fn config(mut self, directive: &str, args: &[&str]) -> Builder {
        self.extra.push((directive.to_owned(), args.iter().map(|&a| a.to_owned()).collect()));
        self
    }

    /// Starts the server; see [`RedisServer::start`].
    pub fn start(self) -> RedisServer {
        ensure_redis_server();
        let dir = tempfile::Builder::new()
            .prefix("oidc-refresh-redis-")
            .tempdir()
            .expect("a temporary directory for redis-server");
        let mut dir = dir;
        let mut last = String::new();
        // A free port is found by binding 127.0.0.1:0 and letting go; another process may take
        // it before redis-server binds it, hence a few tries.
        for _ in 0..5 {
            let port = free_port();
            let mut server = RedisServer { config: self.clone(), port, dir: Some(dir), child: None };
            server.write_config();
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(e) => {
                    last = e;
                    dir = server.dir.take().expect("the directory is still there");
                    if !last.contains("Address already in use") {
                        break;
                    }
                }
            }
        }
        panic!("redis-server did not start: {last}");
    }
}

/// A `redis-server` of its own on 127.0.0.1; killed (`SIGKILL`) on drop, its directory then
/// removed.
pub struct RedisServer {
    config: Builder,
    port: u16,
    /// `Some` until drop (moved out between start attempts only).
    dir: Option<tempfile::TempDir>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server with no password and no TLS: see [`Builder::start`]. It listens on
    /// 127.0.0.1 on a free port, keeps its files in a temporary directory of its own (`dir`),
    /// persists through the AOF only (`appendonly yes`, `appendfsync always`, `save ""`),
    /// logs to `redis.log` in that directory, and has answered `PING` when this returns.
    /// Panics, with the end of the server's log, when it does not come up within
    /// [`START_TIMEOUT`].
    pub fn start() -> RedisServer {
        RedisServer::builder().start()
    }

    /// Options: password, ACL users, TLS, other directives.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// `redis://127.0.0.1:PORT/`, `redis://:PASSWORD@127.0.0.1:PORT/` with a password,
    /// `rediss://...` with TLS. The password is percent-encoded.
    pub fn url(&self) -> String {
        let auth = match &self.config.password {
            Some(p) => format!(":{}@", percent_encode(p)),
            None => String::new(),
        };
        format!("{}://{auth}127.0.0.1:{}/", self.scheme(), self.port)
    }

    /// `redis://NAME:PASSWORD@127.0.0.1:PORT/` (or `rediss://`) for an ACL user added with
    /// [`Builder::user`]. Panics for an unknown user.
    pub fn url_for_user(&self, name: &str) -> String {
        let (_, password) = self
            .config
            .users
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no ACL user {name:?} on this Redis server"));
        format!(
            "{}://{}:{}@127.0.0.1:{}/",
            self.scheme(),
            percent_encode(name),
            percent_encode(password),
            self.port
        )
    }

    fn scheme(&self) -> &'static str {
        if self.config.tls.is_some() { "rediss" } else { "redis" }
    }

    /// The port it listens on (the TLS port with TLS; it then has no plain-text port).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its directory: configuration, log, AOF (`appendonlydir/`).
    pub fn dir(&self) -> &Path {
        self.dir.as_ref().expect("the directory lives as long as the server").path()
    }

    /// The password of the `default` user, if any.
    pub fn password(&self) -> Option<&str> {
        self.config.password.as_deref()
    }

    /// Whether it serves TLS.
    pub fn is_tls(&self) -> bool {
        self.config.tls.is_some()
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process is running (not stopped, killed or dead by itself).
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir().join(LOG_FILE)).unwrap_or_default()
    }

    /// Stops it gracefully: `SIGTERM`, then waits (at most [`STOP_TIMEOUT`], then
    /// `SIGKILL`). Nothing happens when it is not running.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .stdin(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + STOP_TIMEOUT;
        while sent && Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "redis-server (pid {}) did not exit within {STOP_TIMEOUT:?} of SIGTERM (sent: {sent}); \
             killed. Log tail:\n{}",
            child.id(),
            self.log_tail()
        );
    }

    /// Kills it (`SIGKILL`) and waits for it: a crash. With `appendfsync always`, every write
    /// it acknowledged is in the AOF. Nothing happens when it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, with the same directory and configuration, so that
    /// it reloads its AOF: nothing it acknowledged is lost. A running server is first stopped
    /// gracefully ([`RedisServer::stop`]). Panics when it does not come up (e.g. someone else
    /// took the port meanwhile).
    pub fn restart(&mut self) {
        self.stop();
        if let Err(e) = self.spawn_and_wait() {
            panic!("redis-server did not restart on port {}: {e}", self.port);
        }
    }

    /// A new connection, authenticated as the `default` user when there is a password.
    pub fn connection(&self) -> Connection {
        let mut conn = self.connection_unauthenticated();
        if let Some(password) = &self.config.password {
            let reply = conn.command(&["AUTH", password.as_str()]);
            assert!(reply.is_ok(), "AUTH with the server's own password failed: {reply:?}");
        }
        conn
    }

    /// A new connection that has not authenticated.
    pub fn connection_unauthenticated(&self) -> Connection {
        Connection::open(self.port, self.config.tls.as_ref())
            .unwrap_or_else(|e| panic!("cannot connect to redis-server on port {}: {e}", self.port))
    }

    /// Sends one command on a new (authenticated) connection and returns the reply, errors
    /// included (`Resp::Error`).
    pub fn command<A: AsRef<[u8]>>(&self, args: &[A]) -> Resp {
        self.connection().command(args)
    }

    /// Sends one command on a new connection that has not authenticated.
    pub fn command_unauthenticated<A: AsRef<[u8]>>(&self, args: &[A]) -> Resp {
        self.connection_unauthenticated().command(args)
    }

    /// `GET key`: the value, or `None` when there is no such key. Panics on an error reply.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        match self.command(&[b"GET", key.as_bytes()]) {
            Resp::Bulk(value) => value,
            other => panic!("GET {key:?}: unexpected reply {other:?}"),
        }
    }

    /// `SET key value`. Panics unless the reply is `+OK`.
    pub fn set(&self, key: &str, value: impl AsRef<[u8]>) {
        let reply = self.command(&[b"SET", key.as_bytes(), value.as_ref()]);
        assert!(reply.is_ok(), "SET {key:?}: unexpected reply {reply:?}");
    }

    /// `DEL key`: whether the key existed.
    pub fn del(&self, key: &str) -> bool {
        match self.command(&["DEL", key]) {
            Resp::Integer(n) => n > 0,
            other => panic!("DEL {key:?}: unexpected reply {other:?}"),
        }
    }

    /// `KEYS pattern`, sorted (keys that are not UTF-8 are converted lossily).
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        let reply = self.command(&["KEYS", pattern]);
        let Resp::Array(Some(items)) = reply else { panic!("KEYS {pattern:?}: unexpected reply {reply:?}") };
        let mut keys: Vec<String> = items
            .into_iter()
            .map(|item| match item {
                Resp::Bulk(Some(k)) => String::from_utf8_lossy(&k).into_owned(),
                other => panic!("KEYS {pattern:?}: unexpected item {other:?}"),
            })
            .collect();
        keys.sort();
        keys
    }

    fn write_config(&self) {
        let dir = self.dir();
        let mut conf = String::new();
        let mut line = |directive: &str, args: &[&str]| {
            conf.push_str(directive);
            for arg in args {
                conf.push(' ');
                conf.push_str(&quote(arg));
            }
            conf.push('\n');
        };
        let port = self.port.to_string();
        let path = |name: &str| dir.join(name).to_str().expect("a UTF-8 temporary path").to_owned();
        line("bind", &["127.0.0.1"]);
        line("protected-mode", &["yes"]);
        line("daemonize", &["no"]);
        line("supervised", &["no"]);
        line("dir", &[&path("")]);
        line("logfile", &[&path(LOG_FILE)]);
        line("loglevel", &["notice"]);
        line("always-show-logo", &["no"]);
        line("save", &[""]);
        line("appendonly", &["yes"]);
        line("appendfsync", &["always"]);
        match &self.config.tls {
            Some(pki) => {
                for (name, contents) in
                    [("ca.pem", &pki.ca_pem), ("cert.pem", &pki.cert_pem), ("key.pem", &pki.key_pem)]
                {
                    std::fs::write(dir.join(name), contents).expect("write a PEM file");
                }
                line("port", &["0"]);
                line("tls-port", &[&port]);
                line("tls-cert-file", &[&path("cert.pem")]);
                line("tls-key-file", &[&path("key.pem")]);
                line("tls-ca-cert-file", &[&path("ca.pem")]);
                line("tls-auth-clients", &["no"]);
            }
            None => line("port", &[&port]),
        }
        for (name, password) in &self.config.users {
            line("user", &[name, "on", &format!(">{password}"), "~*", "&*", "+@all"]);
        }
        if let Some(password) = &self.config.password {
            line("requirepass", &[password]);
        }
        for (directive, args) in &self.config.extra {
            line(directive, &args.iter().map(String::as_str).collect::<Vec<_>>());
        }
        std::fs::write(dir.join(CONFIG_FILE), conf).expect("write redis.conf");
    }

    /// Spawns redis-server on `self.port` with `redis.conf` and waits until it answers `PING`
    /// (and is the process we spawned, not someone else on that port).
    fn spawn_and_wait(&mut self) -> Result<(), String> {
        let dir = self.dir().to_owned();
        let output = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(OUTPUT_FILE))
            .expect("open redis.out");
        let child = Command::new("redis-server")
            .arg(dir.join(CONFIG_FILE))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("clone redis.out"))
            .stderr(output)
            .spawn()
            .map_err(|e| format!("cannot run redis-server: {e}"))?;
        let pid = child.id();
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!(
                    "redis-server exited with {status} on port {}. {}",
                    self.port,
                    self.log_tail()
                ));
            }
            let last = match self.probe(pid) {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                self.kill();
                return Err(format!(
                    "redis-server did not answer PING on port {} within {START_TIMEOUT:?} (last: {last}). {}",
                    self.port,
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// `Ok` when the server on our port answers `PING` with `+PONG` and `INFO server` says it
    /// is process `pid`.
    fn probe(&self, pid: u32) -> Result<(), String> {
        let mut conn = Connection::open(self.port, self.config.tls.as_ref()).map_err(|e| e.to_string())?;
        if let Some(password) = &self.config.password {
            let reply = conn.try_command(&["AUTH", password.as_str()]).map_err(|e| e.to_string())?;
            if !reply.is_ok() {
                return Err(format!("AUTH: {reply:?}"));
            }
        }
        match conn.try_command(&["PING"]).map_err(|e| e.to_string())? {
            Resp::Simple(s) if s == "PONG" => {}
            other => return Err(format!("PING: {other:?}")), // e.g. -LOADING while the AOF loads
        }
        let info = conn.try_command(&["INFO", "server"]).map_err(|e| e.to_string())?;
        let text = info.as_text().unwrap_or_default();
        let wanted = format!("process_id:{pid}");
        if text.lines().any(|l| l.trim() == wanted) {
            Ok(())
        } else {
            Err(format!("another server answers on port {}", self.port))
        }
    }

    fn log_tail(&self) -> String {
        let tail = |name: &str| {
            let text = std::fs::read_to_string(self.dir().join(name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        };
        format!(
            "Log tail ({}):\n{}\nOutput tail ({}):\n{}",
            self.dir().join(LOG_FILE).display(),
            tail(LOG_FILE),
            self.dir().join(OUTPUT_FILE).display(),
            tail(OUTPUT_FILE)
        )
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    loop {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        if port != 6379 {
            return port;
        }
    }
}

/// Quotes a configuration argument as `redis-server` splits them (`sdssplitargs`).
fn quote(arg: &str) -> String {
    let mut out = String::from("\"");
    for b in arg.bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// RESP
// ---------------------------------------------------------------------------------------------

/// A RESP2 reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resp {
    /// `+...`, e.g. `OK`, `PONG`.
    Simple(String),
    /// `-...`, e.g. `NOAUTH Authentication required.`.
    Error(String),
    /// `:...`.
    Integer(i64),
    /// `$...`; `None` for the null bulk string (`$-1`, e.g. `GET` of a missing key).
    Bulk(Option<Vec<u8>>),
    /// `*...`; `None` for the null array (`*-1`).
    Array(Option<Vec<Resp>>),
}

impl Resp {
    /// Whether this is `+OK`.
    pub fn is_ok(&self) -> bool {
        matches!(self, Resp::Simple(s) if s == "OK")
    }

    /// The error message, when this is an error reply.
    pub fn error(&self) -> Option<&str> {
        match self {
            Resp::Error(e) => Some(e),
            _ => None,
        }
    }

    /// The text of a simple or (UTF-8) bulk string.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Resp::Simple(s) => Some(s),
            Resp::Bulk(Some(b)) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// One connection to a [`RedisServer`] (plain TCP, or TLS trusting the server's CA), for
/// commands that need a session: `MULTI`/`EXEC`, `WATCH`, `CLIENT`, several commands after
/// one `AUTH`. Times out after [`IO_TIMEOUT`].
pub struct Connection {
    stream: BufReader<Box<dyn Stream>>,
}

impl Connection {
    fn open(port: u16, tls: Option<&PemPki>) -> io::Result<Connection> {
        let tcp = TcpStream::connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)), IO_TIMEOUT)?;
        tcp.set_read_timeout(Some(IO_TIMEOUT))?;
        tcp.set_write_timeout(Some(IO_TIMEOUT))?;
        tcp.set_nodelay(true)?;
        let stream: Box<dyn Stream> = match tls {
            None => Box::new(tcp),
            Some(pki) => {
                let name = rustls::pki_types::ServerName::from(std::net::IpAddr::from(Ipv4Addr::LOCALHOST));
                let conn =
                    rustls::ClientConnection::new(pki.client_config(), name).map_err(io::Error::other)?;
                Box::new(rustls::StreamOwned::new(conn, tcp))
            }
        };
        Ok(Connection { stream: BufReader::new(stream) })
    }

    /// Sends one command and reads its reply (an error reply is a `Resp::Error`, not a
    /// panic). Panics on an I/O or protocol error.
    pub fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Resp {
        self.try_command(args).unwrap_or_else(|e| {
            let words: Vec<_> =
                args.iter().map(|a| String::from_utf8_lossy(a.as_ref()).into_owned()).collect();
            panic!("Redis command {words:?} failed: {e}")
        })
    }

    /// Sends one command and reads its reply, or the I/O or protocol error.
    pub fn try_command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Resp> {
        self.send(args)?;
        self.read_reply()
    }

    /// Sends one command without reading its reply (pipelining; see
    /// [`Connection::read_reply`]).
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            let arg = arg.as_ref();
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg);
            request.extend_from_slice(b"\r\n");
        }
        let stream = self.stream.get_mut();
        stream.write_all(&request)?;
        stream.flush()
    }

    /// Reads one reply.
    pub fn read_reply(&mut self) -> io::Result<Resp> {
        read_resp(&mut self.stream, 0)
    }
}

fn protocol_error(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

fn read_resp<R: BufRead>(reader: &mut R, depth: usize) -> io::Result<Resp> {
    if depth > 32 {
        return Err(protocol_error("RESP nested too deeply"));
    }
    let mut line = Vec::new();
    (&mut *reader).take(64 * 1024).read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection"));
    }
    if !line.ends_with(b"\r\n") {
        return Err(protocol_error(format!("RESP line without CRLF: {:?}", String::from_utf8_lossy(&line))));
    }
    line.truncate(line.len() - 2);
    let (kind, rest) = line.split_first().ok_or_else(|| protocol_error("empty RESP line"))?;
    let text = String::from_utf8_lossy(rest).into_owned();
    let length = |text: &str| -> io::Result<i64> {
        text.parse::<i64>().map_err(|_| protocol_error(format!("bad RESP length {text:?}")))
    };
    match kind {
        b'+' => Ok(Resp::Simple(text)),
        b'-' => Ok(Resp::Error(text)),
        b':' => Ok(Resp::Integer(length(&text)?)),
        b'$' => {
            let n = length(&text)?;
            if n < 0 {
                return Ok(Resp::Bulk(None));
            }
            let n = usize::try_from(n).map_err(|_| protocol_error("bulk length"))?;
            let mut data = vec![0; n + 2];
            reader.read_exact(&mut data)?;
            if !data.ends_with(b"\r\n") {
                return Err(protocol_error("bulk string without CRLF"));
            }
            data.truncate(n);
            Ok(Resp::Bulk(Some(data)))
        }
        b'*' => {
            let n = length(&text)?;
            if n < 0 {
                return Ok(Resp::Array(None));
            }
            let n = usize::try_from(n).map_err(|_| protocol_error("array length"))?;
            let mut items = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                items.push(read_resp(reader, depth + 1)?);
            }
            Ok(Resp::Array(Some(items)))
        }
        _ => Err(protocol_error(format!("unknown RESP type in {:?}", String::from_utf8_lossy(&line)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_base64_matches_known_vectors() {
        let body = |der: &[u8]| pem("X", der).lines().nth(1).unwrap_or_default().to_owned();
        assert_eq!(body(b"f"), "Zg==");
        assert_eq!(body(b"fo"), "Zm8=");
        assert_eq!(body(b"foo"), "Zm9v");
        assert_eq!(body(b"foobar"), "Zm9vYmFy");
        assert_eq!(body(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn resp_parses_every_type() {
        let mut input: &[u8] = b"*5\r\n+OK\r\n-ERR no\r\n:-3\r\n$3\r\na\r\n\r\n$-1\r\n";
        let reply = read_resp(&mut input, 0).unwrap();
        assert_eq!(
            reply,
            Resp::Array(Some(vec![
                Resp::Simple("OK".into()),
                Resp::Error("ERR no".into()),
                Resp::Integer(-3),
                Resp::Bulk(Some(b"a\r\n".to_vec())),
                Resp::Bulk(None),
            ]))
        );
    }

    #[test]
    fn config_quoting_and_url_encoding() {
        assert_eq!(quote("a \"b\\\n"), "\"a \\\"b\\\\\\x0a\"");
        assert_eq!(percent_encode("p@ss:w/rd~"), "p%40ss%3Aw%2Frd~");
    }
}
