//! The bundled test OpenID Provider (`testing/provider/server.js`, panva's oidc-provider)
//! started on 127.0.0.1 for one test, and a real authorization code + PKCE login
//! (`testing/provider/login.js`) to get refresh tokens. `scripts/test.sh` runs `npm ci` first.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The secret of `basic-client` (RFC 6749 §2.3.1 encoding exercised: % : + space ~ * ' ( )).
pub const BASIC_SECRET: &str = "s3cr%t:+ ~*'()x";
/// The secret of `post-client`.
pub const POST_SECRET: &str = "post-secret-123";

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("provider")
}

/// A running provider; killed on drop.
pub struct Provider {
    child: Child,
    /// Its issuer URL, `http://127.0.0.1:PORT`.
    pub issuer: String,
    /// The port it listens on.
    pub port: u16,
}

impl Provider {
    /// Starts a provider with the given environment (e.g. `AT_TTL`). A provider that has
    /// not printed its issuer line within 30 s is killed and started again (at most 3
    /// tries), so that a stuck start fails the test instead of hanging it.
    pub fn start_with(env: &[(&str, &str)]) -> Provider {
        let mut last = String::new();
        for _ in 0..3 {
            match Provider::try_start(env, Duration::from_secs(30)) {
                Ok(p) => return p,
                Err(e) => last = e,
            }
        }
        panic!("the test provider did not start: {last}");
    }

    fn try_start(env: &[(&str, &str)], deadline: Duration) -> Result<Provider, String> {
        let dir = provider_dir();
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the test provider is not installed: run `npm ci --prefix testing/provider` (scripts/test.sh does)"
        );
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("server.js")).env("PORT", "0").env("LOG", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node must be installed to run the provider tests");
        // Drain stderr so that the server never blocks on a full pipe.
        let mut stderr = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = stderr.read_to_end(&mut sink);
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(deadline) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no issuer line within {deadline:?}"));
            }
        };
        let v: serde_json::Value = match serde_json::from_str(line.trim()) {
            Ok(v) => v,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("not an issuer line ({e}): {line:?}"));
            }
        };
        let issuer = v["issuer"].as_str().expect("issuer").to_owned();
        let port = u16::try_from(v["port"].as_u64().expect("port")).expect("port fits u16");
        Ok(Provider { child, issuer, port })
    }

    /// Starts a provider with the default lifetimes.
    pub fn start() -> Provider {
        Provider::start_with(&[])
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
    /// read with this project's own ureq transport.
    pub fn stats(&self) -> (u64, u64) {
        let url = format!("{}/__test/stats", self.issuer);
        let request = http::Request::get(url).body(Vec::new()).expect("request");
        let transport =
            oidc_refresh_ureq::Transport::new(oidc_refresh_ureq::Options::default()).expect("transport");
        let response = transport.execute(request).expect("stats");
        let v: serde_json::Value = serde_json::from_slice(response.body()).expect("stats JSON");
        let counter = |name: &str| {
            v[name].as_u64().unwrap_or_else(|| panic!("the provider's stats have no counter `{name}`: {v}"))
        };
        (counter("refresh_grants"), counter("refresh_errors"))
    }
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
pub struct VirtualClock(std::sync::Arc<std::sync::Mutex<oidc_refresh_core::UnixTime>>);

impl VirtualClock {
    /// A clock at the real time now.
    pub fn at_real_time() -> VirtualClock {
        let real = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970");
        VirtualClock(std::sync::Arc::new(std::sync::Mutex::new(
            oidc_refresh_core::UnixTime::from_duration_since_epoch(real),
        )))
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
