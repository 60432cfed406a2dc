//! `oidc-refresh token`: the fresh path sends nothing, a stale token is refreshed exactly
//! once, concurrent runs on one store share one refresh, `--force` refreshes once per run,
//! and the store is left as the contract says on every exit code. Against the bundled
//! provider (which counts refresh grants), and against scripted servers for retries and
//! broken responses.

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use oidc_refresh::store::FileStore;
use oidc_refresh::store::{StoreGuard, TokenStore};
use oidc_refresh_testing::provider::{Provider, field};
use serde_json::{Value, json};

use crate::common::{bin, mode, path, stderr_line};

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A store in a fresh temporary folder.
struct Store {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Store {
    fn new(content: &Value) -> Store {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        fs::write(&path, serde_json::to_vec(content).unwrap()).unwrap();
        Store { _dir: dir, path }
    }

    /// A store holding a login's refresh and ID tokens only.
    fn from_login(login: &Value) -> Store {
        Store::new(&json!({
            "refresh_token": field(login, "refresh_token"),
            "id_token": field(login, "id_token"),
        }))
    }

    fn read(&self) -> Value {
        serde_json::from_slice(&fs::read(&self.path).unwrap()).unwrap()
    }

    fn bytes(&self) -> Vec<u8> {
        fs::read(&self.path).unwrap()
    }

    /// Changes the stored JSON under the store's lock, as a cooperating writer would.
    fn edit(&self, change: impl FnOnce(&mut Value)) {
        let store = FileStore::new(&self.path);
        let mut guard = store.lock().unwrap();
        let mut v = serde_json::to_value(guard.load().unwrap().unwrap()).unwrap();
        change(&mut v);
        guard.save(&serde_json::from_value(v).unwrap()).unwrap();
    }

    /// Makes the stored access token stale (it stays in the store).
    fn expire(&self) {
        self.edit(|v| v["expires_at"] = json!(now_secs() - 10));
    }
}

fn token_command(endpoint: &[&str], store: &Store, extra: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("token")
        .args(endpoint)
        .args(["--client-id", "public-client", "--store", path(&store.path)])
        .args(extra)
        .env_remove("RUST_LOG")
        .env_remove("OIDC_REFRESH_CLIENT_SECRET");
    cmd
}

/// `token` against `endpoint` with a file-size limit of 0, so that writing the store fails
/// with EFBIG (SIGXFSZ ignored; stdout is a pipe and is not limited). Fails for root too.
fn run_token_unwritable(endpoint: &str, store: &Store) -> Output {
    let script = format!(
        "trap '' XFSZ; ulimit -f 0; exec '{}' token --token-endpoint '{endpoint}' --client-id public-client --store '{}'",
        bin(),
        path(&store.path)
    );
    Command::new("sh").arg("-c").arg(&script).env_remove("RUST_LOG").output().unwrap()
}

fn run_token(p: &Provider, store: &Store, extra: &[&str]) -> Output {
    let endpoint = p.token_endpoint();
    token_command(&["--token-endpoint", &endpoint], store, extra).output().unwrap()
}

/// `text` without its ANSI colour codes (`ESC [ ... m`).
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            out.push(c);
        }
    }
    out
}

/// A successful run: the access token alone and a newline on stdout, nothing on stderr.
fn printed_token(out: &Output) -> String {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let token = stdout.strip_suffix('\n').expect("a trailing newline");
    assert!(!token.is_empty() && !token.contains(char::is_whitespace), "{stdout:?}");
    token.to_owned()
}

/// Whether the provider's userinfo endpoint accepts `access_token`, asked with this
/// project's ureq transport.
fn userinfo_accepts(p: &Provider, access_token: &str) -> bool {
    let request = http::Request::get(format!("{}/me", p.issuer))
        .header("authorization", format!("Bearer {access_token}"))
        .body(Vec::new())
        .unwrap();
    let transport = oidc_refresh::ureq::Transport::new(oidc_refresh::ureq::Options::default()).unwrap();
    let response = transport.execute(request).unwrap();
    let ok = response.status() == 200;
    if ok {
        let v: Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(v["sub"], "user-123");
    }
    ok
}

fn delta(before: (u64, u64), after: (u64, u64)) -> (u64, u64) {
    (after.0 - before.0, after.1 - before.1)
}

#[test]
fn a_fresh_stored_token_is_printed_without_any_request() {
    let p = Provider::start();
    let login = p.login("public-client", None);
    let store = Store::new(&json!({
        "refresh_token": field(&login, "refresh_token"),
        "access_token": field(&login, "access_token"),
        "id_token": field(&login, "id_token"),
        "expires_at": now_secs() + 3000,
    }));
    let before_bytes = store.bytes();
    let before = p.stats();
    let out = run_token(&p, &store, &[]);
    assert_eq!(printed_token(&out), field(&login, "access_token"));
    // No discovery either: nothing listens at this issuer, and the run still succeeds.
    let nowhere = token_command(&["--issuer", "http://127.0.0.1:1"], &store, &[]).output().unwrap();
    assert_eq!(printed_token(&nowhere), field(&login, "access_token"));
    assert_eq!(p.stats(), before, "no request at all");
    assert_eq!(store.bytes(), before_bytes, "the store is untouched");
}

#[test]
fn a_missing_or_stale_access_token_is_refreshed_once_and_stored_first() {
    let p = Provider::start();
    let login = p.login("public-client", None);
    let store = Store::from_login(&login);
    let start = p.stats();

    // No access token at all.
    let sent_after = now_secs();
    let out = run_token(&p, &store, &[]);
    let done_before = now_secs();
    let at = printed_token(&out);
    assert_eq!(delta(start, p.stats()), (1, 0), "exactly one refresh");
    let v = store.read();
    assert_eq!(v["access_token"], at.as_str(), "stored before it was printed");
    assert_ne!(v["refresh_token"], field(&login, "refresh_token"), "rotated");
    // The refreshed ID token is the next baseline (it may equal the login's byte for byte
    // when issued in the same second: RS256 is deterministic).
    let id = oidc_refresh::decode_id_token(v["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(serde_json::to_value(&id).unwrap()["sub"], "user-123");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["scope"], "openid offline_access profile email");
    let expires_at = v["expires_at"].as_u64().expect("an integer");
    assert!(
        (sent_after + 3600..=done_before + 3600).contains(&expires_at),
        "expires_at {expires_at}: sent in [{sent_after}, {done_before}] + expires_in 3600"
    );
    assert_eq!(mode(&store.path), 0o600);
    assert_eq!(mode(&store.path.with_file_name("tokens.json.lock")), 0o600);
    assert!(userinfo_accepts(&p, &at));

    // Fresh now: printed again, no request.
    assert_eq!(printed_token(&run_token(&p, &store, &[])), at);
    assert_eq!(delta(start, p.stats()), (1, 0));

    // Expired: refreshed (the stored ID token is the previous one for continuity).
    store.expire();
    let at2 = printed_token(&run_token(&p, &store, &[]));
    assert_ne!(at2, at);
    assert_eq!(delta(start, p.stats()), (2, 0));

    // An access token without expires_at counts as expired.
    store.edit(|v| {
        v.as_object_mut().unwrap().remove("expires_at");
    });
    let at3 = printed_token(&run_token(&p, &store, &[]));
    assert_ne!(at3, at2);
    assert_eq!(delta(start, p.stats()), (3, 0));
    assert!(userinfo_accepts(&p, &at3));
}

#[test]
fn min_ttl_decides_at_its_boundary() {
    // `expires_at` is a whole second, so "now + N" leaves at most N seconds: a token
    // stored with N seconds left "expires within N seconds or less" for `--min-ttl N`
    // whenever the run happens. Every "fresh" below has a window of a minute or more.
    let p = Provider::start();
    let login = p.login("public-client", None);
    let store = Store::from_login(&login);
    let first = printed_token(&run_token(&p, &store, &[]));
    let start = p.stats();

    // At most 3600 s left: fresh by default and for --min-ttl 3000 ...
    store.edit(|v| v["expires_at"] = json!(now_secs() + 3600));
    assert_eq!(printed_token(&run_token(&p, &store, &[])), first);
    assert_eq!(printed_token(&run_token(&p, &store, &["--min-ttl", "3000"])), first);
    assert_eq!(p.stats(), start);
    // ... but it expires within 3600 seconds or less: --min-ttl 3600 refreshes, always.
    let second = printed_token(&run_token(&p, &store, &["--min-ttl", "3600"]));
    assert_ne!(second, first);
    assert_eq!(delta(start, p.stats()), (1, 0));

    // At most 120 s left: fresh for the default of 60.
    store.edit(|v| v["expires_at"] = json!(now_secs() + 120));
    assert_eq!(printed_token(&run_token(&p, &store, &[])), second);
    // At most 60 s left: --min-ttl 0 keeps anything not yet expired; the default of 60
    // refreshes, always.
    store.edit(|v| v["expires_at"] = json!(now_secs() + 60));
    assert_eq!(printed_token(&run_token(&p, &store, &["--min-ttl", "0"])), second);
    assert_eq!(delta(start, p.stats()), (1, 0));
    let third = printed_token(&run_token(&p, &store, &[]));
    assert_ne!(third, second);
    assert_eq!(delta(start, p.stats()), (2, 0));
}

#[test]
fn force_refreshes_once_per_run() {
    let p = Provider::start();
    let login = p.login("public-client", None);
    let store = Store::from_login(&login);
    let start = p.stats();
    let mut seen = HashSet::new();
    for n in 1..=3 {
        let at = printed_token(&run_token(&p, &store, &["--force"]));
        assert!(seen.insert(at.clone()), "a new access token every run");
        assert_eq!(store.read()["access_token"], at.as_str());
        assert_eq!(delta(start, p.stats()), (n, 0));
    }
}

/// Starts `n` token runs at once.
fn spawn_runs(p: &Provider, store: &Store, n: usize, extra: &[&str]) -> Vec<std::process::Child> {
    let endpoint = p.token_endpoint();
    (0..n)
        .map(|_| {
            token_command(&["--token-endpoint", &endpoint], store, extra)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect()
}

/// Starts `n` token runs at once and returns their outputs.
fn race(p: &Provider, store: &Store, n: usize, extra: &[&str]) -> Vec<Output> {
    spawn_runs(p, store, n, extra).into_iter().map(|c| c.wait_with_output().unwrap()).collect()
}

/// How many processes wait for the `flock` on `lock` (the kernel lists each waiter in
/// `/proc/locks` with `->`, naming the file by its inode).
fn lock_waiters(lock: &Path) -> usize {
    use std::os::unix::fs::MetadataExt;
    let inode = fs::metadata(lock).unwrap().ino().to_string();
    let locks = fs::read_to_string("/proc/locks").expect("/proc/locks lists the kernel's file locks");
    locks
        .lines()
        .filter(|line| {
            line.contains("->")
                && line.split_whitespace().any(|field| field.rsplit(':').next() == Some(inode.as_str()))
        })
        .count()
}

/// Starts `n` token runs while this test holds the store's lock, waits until the kernel
/// shows all `n` waiting for it, then lets them go: every run has found the stored token
/// stale and contends for the lock, however the machine schedules the processes.
fn race_queued(p: &Provider, store: &Store, n: usize, extra: &[&str]) -> Vec<Output> {
    let file_store = FileStore::new(&store.path);
    let held = file_store.lock().unwrap();
    let children = spawn_runs(p, store, n, extra);
    // Not a timing bound: a guard against hanging forever if a run never reaches the lock.
    let give_up = Instant::now() + Duration::from_secs(120);
    while lock_waiters(file_store.lock_path()) < n {
        assert!(
            Instant::now() < give_up,
            "{} of {n} runs wait for the lock: {}",
            lock_waiters(file_store.lock_path()),
            fs::read_to_string("/proc/locks").unwrap()
        );
        thread::sleep(Duration::from_millis(5));
    }
    drop(held);
    children.into_iter().map(|c| c.wait_with_output().unwrap()).collect()
}

#[test]
fn eight_concurrent_runs_share_one_refresh_per_round_and_the_grant_survives() {
    let p = Provider::start();
    let login = p.login("public-client", None);
    let store = Store::from_login(&login);
    let start = p.stats();
    for round in 1..=5 {
        if round > 1 {
            store.expire();
        }
        let before = p.stats();
        // With -v, each run logs which path it took (and never a token).
        let outputs = race_queued(&p, &store, 8, &["-v"]);
        let mut printed = HashSet::new();
        let mut waited_then_adopted = 0;
        for out in &outputs {
            let logs = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "round {round}: {logs}");
            let stdout = String::from_utf8(out.stdout.clone()).unwrap();
            let token = stdout.strip_suffix('\n').unwrap();
            assert!(!logs.contains(token));
            waited_then_adopted += logs.matches("another run refreshed meanwhile").count();
            printed.insert(token.to_owned());
        }
        assert_eq!(delta(before, p.stats()), (1, 0), "round {round}: exactly one refresh");
        assert_eq!(waited_then_adopted, 7, "round {round}: the seven others adopted the stored token");
        let stored = store.read()["access_token"].as_str().unwrap().to_owned();
        assert_eq!(printed, HashSet::from([stored.clone()]), "round {round}: all print the new token");
        assert!(userinfo_accepts(&p, &stored), "round {round}");
    }
    // The grant survived every round: a forced refresh with the stored token succeeds.
    let last = printed_token(&run_token(&p, &store, &["--force"]));
    assert!(userinfo_accepts(&p, &last));
    assert_eq!(delta(start, p.stats()), (6, 0), "5 rounds and the final check, no refused replay");
}

#[test]
fn eight_concurrent_forced_runs_refresh_eight_times_one_after_another() {
    let p = Provider::start();
    let login = p.login("public-client", None);
    let store = Store::from_login(&login);
    let start = p.stats();
    let outputs = race(&p, &store, 8, &["--force"]);
    let printed: HashSet<String> = outputs.iter().map(printed_token).collect();
    assert_eq!(printed.len(), 8, "eight refreshes, eight access tokens");
    assert_eq!(delta(start, p.stats()), (8, 0), "serialised: each used the newest stored refresh token");
    for at in &printed {
        assert!(userinfo_accepts(&p, at));
    }
    assert!(printed.contains(store.read()["access_token"].as_str().unwrap()));
    let last = printed_token(&run_token(&p, &store, &["--force"]));
    assert!(userinfo_accepts(&p, &last), "the grant survives");
    assert_eq!(delta(start, p.stats()), (9, 0));
}

#[test]
fn a_refused_refresh_leaves_the_store_byte_identical() {
    let p = Provider::start();
    let login = p.login("public-client", None);
    let store = Store::from_login(&login);
    let spent = store.bytes();
    printed_token(&run_token(&p, &store, &[]));
    // Put the spent refresh token back: the provider refuses it (and revokes the grant).
    fs::write(&store.path, &spent).unwrap();
    let before = p.stats();
    let out = run_token(&p, &store, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(stderr_line(&out).contains("invalid_grant"));
    assert_eq!(store.bytes(), spent);
    assert_eq!(delta(before, p.stats()), (0, 1), "refused once, never retried");
}

#[test]
fn a_rotated_token_that_cannot_be_stored_is_printed_and_exits_7() {
    let p = Provider::start();
    let login = p.login("public-client", None);
    let store = Store::from_login(&login);
    let before = store.bytes();
    let out = run_token_unwritable(&p.token_endpoint(), &store);
    assert_eq!(out.status.code(), Some(7), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(printed.lines().count(), 1, "the new refresh token alone: {printed:?}");
    let rotated = printed.trim();
    assert_ne!(rotated, field(&login, "refresh_token"));
    let line = stderr_line(&out);
    assert!(line.contains("cannot be written"), "{line}");
    assert!(!line.contains(rotated), "the token is not on stderr");
    assert_eq!(store.bytes(), before, "the old store is intact");
    // The printed token is the real rotated one: it refreshes.
    store.edit(|v| v["refresh_token"] = json!(rotated));
    let at = printed_token(&run_token(&p, &store, &[]));
    assert!(userinfo_accepts(&p, &at));
}

#[test]
fn an_id_token_for_another_subject_is_exit_6_and_nothing_is_stored() {
    let p = Provider::start();
    let login = p.login("public-client", None);
    let other = p.login_as("public-client", "someone-else");
    let store = Store::new(&json!({
        "refresh_token": field(&login, "refresh_token"),
        "id_token": field(&other, "id_token"),
    }));
    let before = store.bytes();
    let out = run_token(&p, &store, &[]);
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(stderr_line(&out).contains("subject"));
    assert_eq!(store.bytes(), before, "another subject: nothing from the response is used");
}

#[test]
fn a_malformed_or_missing_store_is_exit_2_without_a_request() {
    let p = Provider::start();
    let before = p.stats();
    let secretish = "at-secret-value-0123456789";
    let cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("not JSON", "refresh_token=abc".into()),
        ("an array", "[]".into()),
        ("no refresh_token", format!(r#"{{"access_token":"{secretish}","expires_at":9999999999}}"#)),
        ("a number as refresh_token", r#"{"refresh_token":5}"#.into()),
        ("an empty refresh_token", r#"{"refresh_token":""}"#.into()),
        ("a string expires_at", format!(r#"{{"refresh_token":"rt","expires_at":"{secretish}"}}"#)),
        ("a fractional expires_at", r#"{"refresh_token":"rt","expires_at":1.5}"#.into()),
        ("a repeated member", r#"{"refresh_token":"rt","refresh_token":"rt2"}"#.into()),
        ("an undecodable id_token", r#"{"refresh_token":"rt","id_token":"not.a.jwt"}"#.into()),
    ];
    for (what, content) in &cases {
        let store = Store::new(&Value::Null);
        fs::write(&store.path, content).unwrap();
        for extra in [&[][..], &["--force"][..]] {
            let out = run_token(&p, &store, extra);
            assert_eq!(out.status.code(), Some(2), "{what}: {}", String::from_utf8_lossy(&out.stderr));
            assert!(out.stdout.is_empty(), "{what}");
            let line = stderr_line(&out);
            assert!(line.contains("tokens.json"), "{what}: {line}");
            assert!(!line.contains(secretish), "{what}: {line}");
            assert_eq!(fs::read_to_string(&store.path).unwrap(), *content, "{what}");
        }
    }
    // A missing store, and one whose folder does not exist.
    let store = Store::new(&Value::Null);
    fs::remove_file(&store.path).unwrap();
    let out = run_token(&p, &store, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_line(&out).contains("does not exist"));
    let out = Command::new(bin())
        .args(["token", "--token-endpoint", &p.token_endpoint(), "--client-id", "c"])
        .args(["--store", "/nonexistent/folder/tokens.json", "--force"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!Path::new("/nonexistent/folder").exists());
    assert_eq!(p.stats(), before, "nothing was sent");
}

#[test]
fn configuration_errors_are_exit_2_even_with_a_fresh_token() {
    let store =
        Store::new(&json!({"refresh_token": "rt", "access_token": "at", "expires_at": now_secs() + 3000}));
    for (endpoint, needle) in [
        (vec!["--token-endpoint", "http://id.example/token"], "loopback"),
        (vec!["--token-endpoint", "not a url"], "URL"),
        (vec!["--issuer", "http://id.example"], "loopback"),
    ] {
        let out = token_command(&endpoint, &store, &[]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{endpoint:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty());
        assert!(stderr_line(&out).contains(needle), "{endpoint:?}");
    }
    let out = token_command(&["--token-endpoint", "http://127.0.0.1:1/t"], &store, &["--min-ttl", "-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[cfg(feature = "hyper")]
#[test]
fn token_over_the_hyper_transport() {
    let p = Provider::start();
    let store = Store::from_login(&p.login("public-client", None));
    let issuer = p.issuer.clone();
    let out = token_command(&["--issuer", &issuer], &store, &["--transport", "hyper"]).output().unwrap();
    let at = printed_token(&out);
    assert!(userinfo_accepts(&p, &at));
    assert_eq!(p.stats(), (1, 0));
}

// ---------------------------------------------------------------------------------------
// Scripted servers: retries, Retry-After, and responses the provider never sends.
// ---------------------------------------------------------------------------------------

/// A loopback server that answers its n-th connection with the n-th canned response (one
/// request per connection) and records each request body.
struct Scripted {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
    times: Arc<Mutex<Vec<Instant>>>,
}

fn http_response(status: &str, headers: &[&str], body: &str) -> String {
    let mut r = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r.push_str(body);
    r
}

fn json_response(status: &str, headers: &[&str], body: &Value) -> String {
    let mut headers = headers.to_vec();
    headers.push("content-type: application/json");
    http_response(status, &headers, &body.to_string())
}

fn scripted(responses: Vec<String>) -> Scripted {
    scripted_at(|_| responses)
}

/// [`scripted`], with responses made from the server's base URL (`http://127.0.0.1:PORT`).
fn scripted_at(responses: impl FnOnce(&str) -> Vec<String>) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let url = format!("{base}/token");
    let responses = responses(&base);
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let times = Arc::new(Mutex::new(Vec::new()));
    let (b, t) = (Arc::clone(&bodies), Arc::clone(&times));
    // Waits for each connection 20 s at most, so that the thread ends even when the run
    // under test sends fewer requests than scripted.
    listener.set_nonblocking(true).unwrap();
    thread::spawn(move || {
        for response in responses {
            let deadline = Instant::now() + Duration::from_secs(20);
            let stream = loop {
                match listener.accept() {
                    Ok((stream, _)) => break stream,
                    Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(2)),
                    Err(_) => return,
                }
            };
            stream.set_nonblocking(false).unwrap();
            t.lock().unwrap().push(Instant::now());
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            b.lock().unwrap().push(String::from_utf8(body).unwrap());
            let mut stream = reader.into_inner();
            let _ = stream.write_all(response.as_bytes());
        }
    });
    Scripted { url, bodies, times }
}

impl Scripted {
    fn run(&self, store: &Store, extra: &[&str]) -> Output {
        token_command(&["--token-endpoint", &self.url], store, extra).output().unwrap()
    }

    fn requests(&self) -> usize {
        self.bodies.lock().unwrap().len()
    }
}

fn stale_store() -> Store {
    Store::new(&json!({
        "refresh_token": "rt-stored",
        "access_token": "at-old",
        "token_type": "Bearer",
        "scope": "openid",
        "expires_at": now_secs() - 1,
    }))
}

const HTML_503: &str = "<html><body>503 Service Unavailable</body></html>";

#[test]
fn transient_failures_are_retried_three_attempts_in_all_and_the_store_kept() {
    // An HTML 503 from a proxy, three times: exit 4 (the last failure), store untouched.
    let server =
        scripted(vec![http_response("503 Service Unavailable", &["content-type: text/html"], HTML_503); 3]);
    let store = stale_store();
    let before = store.bytes();
    let out = server.run(&store, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    stderr_line(&out);
    assert_eq!(server.requests(), 3);
    assert!(server.bodies.lock().unwrap().iter().all(|b| b.contains("refresh_token=rt-stored")));
    assert_eq!(store.bytes(), before);
    // The backoffs were waited: at least 250 ms, then at least 500 ms (the jittered
    // 500 ms, then 1 s, never less than half). How long they may last at most is the
    // session's rule, proven on a virtual clock in core/tests/suite/session.rs; the log below
    // shows which wait the CLI planned, whatever the machine's load.
    let times = server.times.lock().unwrap().clone();
    assert!(times[1] - times[0] >= Duration::from_millis(250), "{:?}", times[1] - times[0]);
    assert!(times[2] - times[1] >= Duration::from_millis(500), "{:?}", times[2] - times[1]);

    // temporarily_unavailable, then success: exit 0 after two requests.
    let server = scripted(vec![
        json_response("503 Service Unavailable", &[], &json!({"error": "temporarily_unavailable"})),
        json_response(
            "200 OK",
            &[],
            &json!({"access_token": "at-new", "token_type": "bearer", "expires_in": 120, "refresh_token": "rt-new"}),
        ),
    ]);
    let store = stale_store();
    let sent_after = now_secs();
    let out = server.run(&store, &["-v"]);
    let done_before = now_secs();
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{logs}");
    assert_eq!(out.stdout, b"at-new\n");
    assert_eq!(server.requests(), 2);
    // The one backoff planned: the first backoff of 500 ms, jittered to [250, 500) ms.
    let planned: Vec<u64> = without_colours(&logs)
        .lines()
        .filter(|l| l.contains("transient failure: retrying"))
        .map(|l| {
            let at = l.find("wait_ms=").expect("the wait is logged") + "wait_ms=".len();
            l[at..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(planned.len(), 1, "{logs}");
    assert!((250..500).contains(&planned[0]), "{planned:?}");
    let times = server.times.lock().unwrap().clone();
    assert!(times[1] - times[0] >= Duration::from_millis(planned[0]), "{:?}", times[1] - times[0]);
    let v = store.read();
    assert_eq!(v["refresh_token"], "rt-new");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["scope"], "openid", "no scope in the response: the previous one");
    let expires_at = v["expires_at"].as_u64().unwrap();
    assert!((sent_after + 120..=done_before + 120).contains(&expires_at), "{expires_at}");

    // Connection refused three times: exit 5.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/token", dead.local_addr().unwrap());
    drop(dead);
    let store = stale_store();
    let out = token_command(&["--token-endpoint", &url], &store, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn final_oauth_errors_are_not_retried_and_retry_after_is_honoured() {
    // invalid_grant: one request, exit 3.
    let server = scripted(vec![json_response("400 Bad Request", &[], &json!({"error": "invalid_grant"})); 3]);
    let store = stale_store();
    let out = server.run(&store, &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr_line(&out).contains("invalid_grant"));
    assert_eq!(server.requests(), 1);

    // 429 asking for 60 s, more than the 10 s we wait: honoured by giving up at once.
    let slow_down =
        json_response("429 Too Many Requests", &["retry-after: 60"], &json!({"error": "slow_down"}));
    let server = scripted(vec![slow_down; 3]);
    let out = server.run(&stale_store(), &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr_line(&out).contains("slow_down"));
    assert_eq!(server.requests(), 1);

    // 429 asking for 2 s: waited, then success.
    let server = scripted(vec![
        json_response("429 Too Many Requests", &["retry-after: 2"], &json!({"error": "slow_down"})),
        json_response("200 OK", &[], &json!({"access_token": "at-2", "token_type": "Bearer"})),
    ]);
    let store = stale_store();
    let sent_after = now_secs();
    let out = server.run(&store, &["--scope", "openid email"]);
    assert_eq!(printed_token(&out), "at-2");
    let times = server.times.lock().unwrap().clone();
    assert!(times[1] - times[0] >= Duration::from_millis(1990), "{:?}", times[1] - times[0]);
    assert!(server.bodies.lock().unwrap()[1].contains("scope=openid+email"));
    let v = store.read();
    assert_eq!(v["refresh_token"], "rt-stored", "not rotated: the previous one is kept");
    assert_eq!(v["scope"], "openid email", "no scope in the response: the requested one");
    // No expires_in: the default lifetime of 300 s, counted from the (second) request.
    let expires_at = v["expires_at"].as_u64().unwrap();
    assert!((sent_after + 2 + 300..=now_secs() + 300).contains(&expires_at), "{expires_at}");
}

#[test]
fn a_broken_response_whose_rotated_token_cannot_be_stored_prints_it_and_says_both() {
    // No access token (exit 4 on its own), a rotated refresh token, and a store that cannot
    // be written: the token alone on stdout, exit 7, and the line says what came first.
    let server = scripted(vec![json_response(
        "200 OK",
        &[],
        &json!({"token_type": "Bearer", "refresh_token": "rt-rotated-7", "expires_in": 60}),
    )]);
    let store = stale_store();
    let before = store.bytes();
    let out = run_token_unwritable(&server.url, &store);
    assert_eq!(out.status.code(), Some(7), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout.clone()).unwrap(), "rt-rotated-7\n");
    let line = stderr_line(&out);
    assert!(line.contains("cannot be written") && line.contains("(after: "), "{line}");
    assert!(line.contains("access_token"), "the first failure is named: {line}");
    assert!(!line.contains("rt-rotated-7"), "the token is not on stderr");
    assert_eq!(store.bytes(), before, "the old store is intact");
    assert_eq!(server.requests(), 1);
}

#[test]
fn a_broken_response_that_rotated_the_token_stores_the_refresh_token_only() {
    // A 200 with a new refresh token but no access token: exit 4, the rotated refresh token
    // is stored (the sent one is spent), the old access token and the rest are kept.
    let server = scripted(vec![json_response(
        "200 OK",
        &[],
        &json!({"token_type": "Bearer", "refresh_token": "rt-rotated", "expires_in": 60}),
    )]);
    let store = stale_store();
    let mut expected = store.read();
    expected["refresh_token"] = json!("rt-rotated");
    let out = server.run(&store, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    stderr_line(&out);
    assert_eq!(server.requests(), 1, "a protocol error in a 2xx is not retried");
    assert_eq!(store.read(), expected);
}

#[test]
fn a_store_that_cannot_be_read_locked_or_written_is_exit_2_and_nothing_is_lost() {
    // Exit 2 (the contract's code for an unreadable file; a token-store failure has none of
    // its own) whenever the store still holds a usable refresh token; exit 7 only when a
    // rotated one could not be written (a_rotated_token_that_cannot_be_stored...). These
    // failures do not depend on permissions, so they hold when the tests run as root.

    // Unreadable: the store is a folder. Nothing is sent.
    let server = scripted(vec![]);
    let store = stale_store();
    fs::remove_file(&store.path).unwrap();
    fs::create_dir(&store.path).unwrap();
    for extra in [&[][..], &["--force"][..]] {
        let out = server.run(&store, extra);
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty());
        let line = stderr_line(&out);
        assert!(line.contains("cannot read the store") && line.contains("tokens.json"), "{line}");
    }
    assert_eq!(server.requests(), 0);

    // Cannot be locked: the lock file is a folder. Nothing is sent.
    let store = stale_store();
    let before = store.bytes();
    fs::create_dir(store.path.with_file_name("tokens.json.lock")).unwrap();
    let out = server.run(&store, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    let line = stderr_line(&out);
    assert!(line.contains("cannot lock the store") && line.contains("tokens.json.lock"), "{line}");
    assert_eq!(server.requests(), 0);
    assert_eq!(store.bytes(), before);

    // Cannot be written after a refresh that did not rotate the refresh token: the stored
    // one is still good, so exit 2, nothing on stdout, the store intact (a file-size limit
    // of 0 makes the write fail with EFBIG, SIGXFSZ ignored).
    let server = scripted(vec![json_response(
        "200 OK",
        &[],
        &json!({"access_token": "at-unstored", "token_type": "Bearer", "expires_in": 3600}),
    )]);
    let store = stale_store();
    let before = store.bytes();
    let out = run_token_unwritable(&server.url, &store);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "no access token that was not stored first");
    let line = stderr_line(&out);
    assert!(line.contains("cannot write the store") && line.contains("tokens.json"), "{line}");
    assert!(!line.contains("at-unstored"), "{line}");
    assert_eq!(server.requests(), 1);
    assert_eq!(store.bytes(), before);
}

#[test]
fn discovery_runs_only_when_a_refresh_is_due_and_is_retried_like_the_refresh() {
    let discovery = |base: &str| {
        // With a jwks_uri that is never fetched: the response carries no ID token.
        let document = json!({"issuer": base, "token_endpoint": format!("{base}/token"), "jwks_uri": format!("{base}/jwks")});
        json_response("200 OK", &[], &document)
    };
    let html_503 = http_response("503 Service Unavailable", &["content-type: text/html"], HTML_503);
    // A proxy's 503 for the discovery document, then the document, then the refresh.
    let server = scripted_at(|base| {
        vec![
            html_503.clone(),
            discovery(base),
            json_response("200 OK", &[], &json!({"access_token": "at-new", "token_type": "Bearer"})),
        ]
    });
    let issuer = server.url.strip_suffix("/token").unwrap().to_owned();
    let store = stale_store();
    let out = token_command(&["--issuer", &issuer], &store, &[]).output().unwrap();
    assert_eq!(printed_token(&out), "at-new");
    let bodies = server.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 3);
    assert_eq!(bodies[..2], ["", ""], "two GETs of the discovery document");
    assert!(bodies[2].contains("refresh_token=rt-stored"), "{}", bodies[2]);
    let times = server.times.lock().unwrap().clone();
    assert!(times[1] - times[0] >= Duration::from_millis(240), "{:?}", times[1] - times[0]);
    assert_eq!(store.read()["access_token"], "at-new");

    // Fresh now: no request, no discovery.
    let out = token_command(&["--issuer", &issuer], &store, &[]).output().unwrap();
    assert_eq!(printed_token(&out), "at-new");
    assert_eq!(server.requests(), 3);

    // Discovery failing on every attempt: the refresh's 3 attempts in all, the exit code of
    // the last failure, the store untouched.
    let server = scripted(vec![html_503; 3]);
    let issuer = server.url.strip_suffix("/token").unwrap().to_owned();
    let store = stale_store();
    let before = store.bytes();
    let out = token_command(&["--issuer", &issuer], &store, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(stderr_line(&out).contains("discovery"));
    assert_eq!(server.requests(), 3);
    assert_eq!(store.bytes(), before);
}

#[test]
fn a_run_that_waited_for_the_lock_takes_the_token_stored_meanwhile_without_discovery() {
    // The test holds the store's lock; a run finds the stored token stale and waits for the
    // lock; the test stores a fresh set and unlocks: the run prints it. Nothing listens at
    // the issuer, so a discovery (or a refresh) would fail the run.
    let store = stale_store();
    let file_store = FileStore::new(&store.path);
    let mut guard = file_store.lock().unwrap();
    let mut child = token_command(&["--issuer", "http://127.0.0.1:1"], &store, &["-v"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut logs = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("taking the store's lock") {
        assert!(logs.read_line(&mut seen).unwrap() > 0, "the run ended early: {seen}");
    }
    let mut fresh = guard.load().unwrap().unwrap();
    fresh.refresh_token = oidc_refresh::RefreshToken::new("rt-other-run");
    fresh.access_token = Some(oidc_refresh::AccessToken::new("at-other-run"));
    fresh.expires_at = Some(now_secs() + 3600);
    guard.save(&fresh).unwrap();
    drop(guard);
    logs.read_to_string(&mut seen).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{seen}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "at-other-run\n");
    assert!(seen.contains("another run refreshed meanwhile"), "{seen}");
    for token in ["at-other-run", "rt-other-run", "at-old", "rt-stored"] {
        assert!(!seen.contains(token), "{token} in the logs: {seen}");
    }
    assert_eq!(store.read()["refresh_token"], "rt-other-run", "the run wrote nothing");
}

#[test]
fn verbose_runs_log_on_stderr_without_a_token() {
    let server = scripted(vec![json_response(
        "200 OK",
        &[],
        &json!({"access_token": "at-logged-never", "token_type": "Bearer", "refresh_token": "rt-logged-never"}),
    )]);
    let store = stale_store();
    let out = server.run(&store, &["-v"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "at-logged-never\n");
    let logs = String::from_utf8(out.stderr).unwrap();
    assert!(logs.lines().count() > 3, "{logs}");
    for secret in ["at-logged-never", "rt-logged-never", "rt-stored", "at-old"] {
        assert!(!logs.contains(secret), "{secret} in the logs: {logs}");
    }
}
