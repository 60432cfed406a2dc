//! `oidc-refresh revoke` end to end: against the bundled provider (revocation at the
//! discovery document's `revocation_endpoint`), the refresh token file is emptied or the
//! store cleared and the provider then refuses the token (`invalid_grant`), through both
//! transports, for a public and a `client_secret_basic` client; against misbehaving servers,
//! each failure has the exit code of `refresh` and leaves the file or the store untouched;
//! without a revocation endpoint it is exit 2 and nothing is sent.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::Duration;

use oidc_refresh::store::{FileStore, TokenStore};
use oidc_refresh_testing::provider::{BASIC_SECRET, Provider, field};
use oidc_refresh_testing::servers::{Behaviour, Listener, Server, closed_port, html_response, json_response};
use serde_json::{Value, json};

use crate::common::{bin, mode, path, run, stderr_line};

/// The transports this binary has.
fn transports() -> Vec<&'static str> {
    let mut all = vec![];
    if cfg!(feature = "ureq") {
        all.push("ureq");
    }
    if cfg!(feature = "hyper") {
        all.push("hyper");
    }
    all
}

/// A folder holding `rt` (the refresh token file) and `tokens.json` (a store).
struct Files {
    dir: tempfile::TempDir,
    rt: PathBuf,
}

impl Files {
    /// `rt` holds `refresh_token` with surrounding whitespace.
    fn with_token(refresh_token: &str) -> Files {
        let dir = tempfile::tempdir().unwrap();
        let rt = dir.path().join("rt");
        fs::write(&rt, format!("  {refresh_token}\n\n")).unwrap();
        Files { dir, rt }
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("tokens.json")
    }

    /// A store holding `set` (JSON).
    fn with_store(&self, set: &Value) -> PathBuf {
        let store = self.store();
        fs::write(&store, serde_json::to_vec(set).unwrap()).unwrap();
        store
    }
}

/// Succeeded: nothing on stdout or stderr.
fn silent_success(out: &Output) {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Failed with `code`: nothing on stdout, one line on stderr (returned).
fn failed(out: &Output, code: i32) -> String {
    assert_eq!(out.status.code(), Some(code), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    stderr_line(out)
}

/// The provider refuses `refresh_token` for `client_id`: `invalid_grant`.
fn refused(p: &Provider, client_id: &str, secret: Option<(&str, &str)>, refresh_token: &str) {
    let (status, body) = p.refresh(client_id, secret, refresh_token);
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
}

#[test]
fn revoke_with_a_refresh_token_file_empties_it_and_the_token_is_dead() {
    let p = Provider::start();
    for transport in transports() {
        let login = p.login("public-client", None);
        let rt = field(&login, "refresh_token");
        let f = Files::with_token(rt);
        let out = run(&[
            "revoke",
            "--issuer",
            &p.issuer,
            "--client-id",
            "public-client",
            "--refresh-token-file",
            path(&f.rt),
            "--transport",
            transport,
        ]);
        silent_success(&out);
        assert_eq!(fs::read(&f.rt).unwrap(), b"", "{transport}: emptied");
        assert_eq!(mode(&f.rt), 0o600);
        assert_eq!(fs::read_dir(f.dir.path()).unwrap().count(), 1, "no temporary file left");

        // `refresh` with the revoked token: refused, exit 3.
        let spent = f.dir.path().join("spent");
        fs::write(&spent, rt).unwrap();
        let token_endpoint = p.token_endpoint();
        let out = run(&[
            "refresh",
            "--token-endpoint",
            &token_endpoint,
            "--client-id",
            "public-client",
            "--refresh-token-file",
            path(&spent),
        ]);
        assert!(failed(&out, 3).contains("invalid_grant"), "{transport}");
        // An emptied file has nothing to revoke: exit 2, nothing sent.
        let out = run(&[
            "revoke",
            "--issuer",
            &p.issuer,
            "--client-id",
            "public-client",
            "--refresh-token-file",
            path(&f.rt),
        ]);
        assert!(failed(&out, 2).contains("empty"));
    }
}

#[test]
fn revoke_with_a_store_clears_it_and_the_grant_is_dead() {
    let p = Provider::start();
    for transport in transports() {
        let login = p.login("public-client", None);
        let rt = field(&login, "refresh_token");
        let f = Files::with_token(rt);
        let store = f.with_store(&json!({"refresh_token": rt, "id_token": field(&login, "id_token")}));
        let out = run(&[
            "revoke",
            "--issuer",
            &p.issuer,
            "--client-id",
            "public-client",
            "--store",
            path(&store),
            "--transport",
            transport,
        ]);
        silent_success(&out);
        assert!(!store.exists(), "{transport}: the store holds no token set");
        assert!(FileStore::new(&store).lock_path().exists(), "the lock file stays");
        let out = run(&["store", "show", "--store", path(&store)]);
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        refused(&p, "public-client", None, rt);
        // Nothing left to revoke: exit 2.
        let out =
            run(&["revoke", "--issuer", &p.issuer, "--client-id", "public-client", "--store", path(&store)]);
        failed(&out, 2);
    }
}

#[test]
fn the_store_may_be_named_by_the_environment_and_the_endpoint_given_outright() {
    let p = Provider::start();
    let login = p.login("public-client", None);
    let rt = field(&login, "refresh_token");
    let f = Files::with_token(rt);
    let store = f.with_store(&json!({"refresh_token": rt}));
    // --token-endpoint with --revocation-endpoint: no discovery.
    let out = Command::new(bin())
        .args(["revoke", "--token-endpoint", &p.token_endpoint(), "--client-id", "public-client"])
        .args(["--revocation-endpoint", &format!("{}/token/revocation", p.issuer)])
        .env("OIDC_REFRESH_STORE", path(&store))
        .env_remove("RUST_LOG")
        .env_remove("OIDC_REFRESH_CLIENT_SECRET")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    silent_success(&out);
    assert!(!store.exists());
    refused(&p, "public-client", None, rt);
}

#[test]
fn a_client_secret_basic_client_revokes_its_token() {
    let p = Provider::start();
    let login = p.login("basic-client", Some(("basic", BASIC_SECRET)));
    let rt = field(&login, "refresh_token");
    let f = Files::with_token(rt);
    let secret = f.dir.path().join("secret");
    fs::write(&secret, format!("{BASIC_SECRET}\n")).unwrap();
    let out = run(&[
        "revoke",
        "--issuer",
        &p.issuer,
        "--client-id",
        "basic-client",
        "--client-secret-file",
        path(&secret),
        "--refresh-token-file",
        path(&f.rt),
    ]);
    silent_success(&out);
    assert_eq!(fs::read(&f.rt).unwrap(), b"");
    refused(&p, "basic-client", Some(("basic", BASIC_SECRET)), rt);
}

#[test]
fn without_a_revocation_endpoint_or_anything_to_revoke_it_is_exit_2_and_nothing_is_sent() {
    let server = Server::start(Behaviour::Respond(json_response(200, "{}")));
    let f = Files::with_token("rt-1");
    let token_endpoint = server.url("/token");
    let out = run(&[
        "revoke",
        "--token-endpoint",
        &token_endpoint,
        "--client-id",
        "app",
        "--refresh-token-file",
        path(&f.rt),
    ]);
    assert!(failed(&out, 2).contains("--revocation-endpoint"));
    let domain = run(&[
        "revoke",
        "--domain",
        "acme.example",
        "--client-id",
        "app",
        "--refresh-token-file",
        path(&f.rt),
    ]);
    failed(&domain, 2);
    // Neither a file nor a store.
    let revocation = server.url("/revoke");
    let out = run(&[
        "revoke",
        "--token-endpoint",
        &token_endpoint,
        "--revocation-endpoint",
        &revocation,
        "--client-id",
        "app",
    ]);
    assert!(failed(&out, 2).contains("--refresh-token-file"));
    // Both.
    let store = f.with_store(&json!({"refresh_token": "rt-s"}));
    let out = run(&[
        "revoke",
        "--token-endpoint",
        &token_endpoint,
        "--revocation-endpoint",
        &revocation,
        "--client-id",
        "app",
        "--refresh-token-file",
        path(&f.rt),
        "--store",
        path(&store),
    ]);
    assert_eq!(out.status.code(), Some(2));
    // Plain http to a non-loopback host.
    let out = run(&[
        "revoke",
        "--token-endpoint",
        &token_endpoint,
        "--revocation-endpoint",
        "http://id.example/revoke",
        "--client-id",
        "app",
        "--refresh-token-file",
        path(&f.rt),
    ]);
    failed(&out, 2);
    assert_eq!(server.finish().requests.len(), 0, "nothing sent");
    assert_eq!(fs::read_to_string(&f.rt).unwrap(), "  rt-1\n\n", "untouched");
    assert_eq!(fs::read_to_string(&store).unwrap(), r#"{"refresh_token":"rt-s"}"#, "untouched");
}

/// A provider whose discovery document names `revocation` as its revocation endpoint (none
/// for `None`); every other request is answered with `{}`.
fn discovery_server(revocation: Option<&str>) -> (Server, String) {
    let listener = Listener::bind();
    let issuer = listener.base_url();
    let mut doc = json!({"issuer": issuer, "token_endpoint": format!("{issuer}/token")});
    if let Some(url) = revocation {
        doc["revocation_endpoint"] = json!(url);
    }
    let server = listener.serve(Behaviour::Respond(json_response(200, &doc.to_string())));
    (server, issuer)
}

#[test]
fn a_discovery_document_without_a_usable_revocation_endpoint_is_exit_2_or_4() {
    let f = Files::with_token("rt-1");
    let (server, issuer) = discovery_server(None);
    let args = [
        "revoke",
        "--issuer",
        &issuer,
        "--client-id",
        "app",
        "--no-verify",
        "--refresh-token-file",
        path(&f.rt),
    ];
    assert!(failed(&run(&args), 2).contains("no revocation endpoint"));
    let log = server.finish();
    assert_eq!(log.requests.len(), 1, "the discovery document only");
    assert_eq!(log.requests[0].path(), "/.well-known/openid-configuration");

    let (server, issuer) = discovery_server(Some("http://id.example/revoke"));
    let args = ["revoke", "--issuer", &issuer, "--client-id", "app", "--refresh-token-file", path(&f.rt)];
    assert!(failed(&run(&args), 4).contains("revocation_endpoint"));
    assert_eq!(server.finish().requests.len(), 1);
    assert_eq!(fs::read_to_string(&f.rt).unwrap(), "  rt-1\n\n", "untouched");
}

/// `revoke` of `rt-1` at `revocation` (a file, then a store), each to fail with `code`
/// naming `says`, leaving the file and the store untouched.
fn fails_untouched(revocation: &str, code: i32, says: &str) {
    for transport in transports() {
        let f = Files::with_token("rt-1");
        let store = f.with_store(&json!({"refresh_token": "rt-1", "access_token": "at-1", "expires_at": 1}));
        let before = fs::read(&store).unwrap();
        for target in [["--refresh-token-file", path(&f.rt)], ["--store", path(&store)]] {
            let out = run(&[
                "revoke",
                "--token-endpoint",
                "http://127.0.0.1:9/token",
                "--revocation-endpoint",
                revocation,
                "--client-id",
                "app",
                "--timeout",
                "5",
                "--transport",
                transport,
                target[0],
                target[1],
            ]);
            let line = failed(&out, code);
            assert!(line.contains(says), "{transport} {}: {line}", target[0]);
        }
        assert_eq!(fs::read_to_string(&f.rt).unwrap(), "  rt-1\n\n", "{transport}: the file is untouched");
        assert_eq!(fs::read(&store).unwrap(), before, "{transport}: the store is untouched");
    }
}

#[test]
fn a_503_html_page_is_exit_4_and_changes_nothing() {
    let server = Server::start(Behaviour::Respond(html_response(503, &[], "<html>down</html>")));
    fails_untouched(&server.url("/revoke"), 4, "503");
    let log = server.finish();
    assert!(!log.requests.is_empty());
    let sent = String::from_utf8(log.requests[0].body.clone()).unwrap();
    assert_eq!(sent, "token=rt-1&token_type_hint=refresh_token&client_id=app");
}

#[test]
fn an_oauth_error_is_exit_3_and_changes_nothing() {
    let server = Server::start(Behaviour::Respond(json_response(400, r#"{"error":"invalid_client"}"#)));
    fails_untouched(&server.url("/revoke"), 3, "invalid_client");
    server.finish();
}

#[test]
fn a_refused_connection_is_exit_5_and_changes_nothing() {
    fails_untouched(&format!("http://127.0.0.1:{}/revoke", closed_port()), 5, "");
}

/// A `token` run that waits for the store's lock while `revoke` clears the store finds it
/// empty (exit 2), or refreshes first and its new refresh token is the one revoked: either
/// way the store ends empty and the grant dead.
#[test]
fn a_token_run_waiting_for_the_lock_never_outlives_the_revocation() {
    let p = Provider::start();
    let login = p.login("public-client", None);
    let f = Files::with_token("unused");
    let store = f.with_store(&json!({"refresh_token": field(&login, "refresh_token")}));
    let lock = FileStore::new(&store);
    let guard = lock.lock().unwrap();
    let token_endpoint = p.token_endpoint();
    let spawn = |args: &[&str]| {
        Command::new(bin())
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("OIDC_REFRESH_STORE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let token = spawn(&[
        "token",
        "--token-endpoint",
        &token_endpoint,
        "--client-id",
        "public-client",
        "--store",
        path(&store),
    ]);
    thread::sleep(Duration::from_millis(300));
    let revoke =
        spawn(&["revoke", "--issuer", &p.issuer, "--client-id", "public-client", "--store", path(&store)]);
    thread::sleep(Duration::from_millis(300));
    drop(guard);
    let revoke = revoke.wait_with_output().unwrap();
    let token = token.wait_with_output().unwrap();
    silent_success(&revoke);
    match token.status.code() {
        Some(0) => {} // it refreshed first; revoke revoked the rotated token
        Some(2) => assert!(stderr_line(&token).contains("does not exist"), "{}", stderr_line(&token)),
        other => panic!("token: exit {other:?}: {}", String::from_utf8_lossy(&token.stderr)),
    }
    assert!(!store.exists(), "the store ends empty");
    assert_eq!(lock.load().unwrap(), None);
    // Whatever the store last held is dead; so is the login's.
    refused(&p, "public-client", None, field(&login, "refresh_token"));
}

#[cfg(feature = "redis")]
#[test]
fn a_redis_store_is_cleared_and_its_lease_given_back() {
    use oidc_refresh::store::RedisStore;
    use oidc_refresh_testing::redis::RedisServer;

    let p = Provider::start();
    let server = RedisServer::start();
    let login = p.login("public-client", None);
    let rt = field(&login, "refresh_token");
    let key = "oidc-refresh:public-client";
    RedisStore::open(&server.url(), key)
        .unwrap()
        .init(&oidc_refresh::TokenSet::from_refresh_token(oidc_refresh::RefreshToken::new(rt)))
        .unwrap();
    let url = server.url();
    let out = run(&["revoke", "--issuer", &p.issuer, "--client-id", "public-client", "--store", &url]);
    silent_success(&out);
    assert!(server.keys("*").is_empty(), "{:?}", server.keys("*"));
    refused(&p, "public-client", None, rt);
}
