//! The hostile ID tokens of issue 13 at the command line (`oidc_refresh_testing::jose`):
//! tampered payload, flipped signature bit, `alg: none`, HS256 MACed with the public key,
//! unknown `kid`, an embedded `jwk`, a `jku` to a server that counts requests, a key of the
//! wrong type or curve, `use: enc`, `key_ops` without `verify`, a 1024-bit RSA key, a DER
//! ECDSA signature, `crit`.
//!
//! Each is refused with exit 6 by `decode-id-token --jwks`, `refresh --jwks-uri` and `token
//! --jwks-uri`, while its genuine twin (the same token against the right key, or the same
//! header and claims signed properly) verifies: every refusal is for its own reason. A
//! refused signature on refresh keeps the rotated refresh token, and a key set that cannot
//! be fetched or read is exit 5 or 4, the rotated refresh token written all the same.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use oidc_refresh_testing::jose::{Hostile, Key, PublicKeyBytes, claims, hs_token, key_set};
use oidc_refresh_testing::servers::{closed_port, http_response, json_response};
use serde_json::{Value, json};

use crate::common::{bin, path, run, stderr_line};

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Success: exit 0, nothing on stderr; returns stdout.
#[track_caller]
fn ok(out: &Output, what: &str) -> String {
    assert_eq!(out.status.code(), Some(0), "{what}: {}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{what}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// Failure with `code`: nothing on stdout, one line on stderr; returns that line.
#[track_caller]
fn failed(out: &Output, code: i32, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: stdout {:?}, stderr {:?}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "{what}: nothing on stdout, got {:?}", text(&out.stdout));
    stderr_line(out)
}

/// A file holding `content` in `dir`.
fn file(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, content).unwrap();
    p
}

// ---------------------------------------------------------------------------------------
// A loopback identity provider whose answers the test sets per path, counting requests
// ---------------------------------------------------------------------------------------

/// What the server does with a request for a path.
#[derive(Clone)]
enum Answer {
    /// Writes these bytes (a whole HTTP response), then closes.
    Bytes(Vec<u8>),
    /// Reads the request and closes without a word: a transport failure.
    Close,
}

/// One request as received: its path and its body.
#[derive(Clone, Debug)]
struct Hit {
    path: String,
    body: String,
}

/// A plain-HTTP server on `127.0.0.1`, answering each connection (one request each) by its
/// path, 404 for a path without an answer. It stops when dropped (or after two minutes).
struct Idp {
    base: String,
    routes: Arc<Mutex<HashMap<String, Answer>>>,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Arc<AtomicBool>,
}

impl Idp {
    fn start() -> Idp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let routes = Arc::new(Mutex::new(HashMap::<String, Answer>::new()));
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, h, s) = (Arc::clone(&routes), Arc::clone(&hits), Arc::clone(&stop));
        thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !s.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        // Errors only mean the client went away.
                        let _ = Idp::handle(stream, &r, &h);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Idp { base, routes, hits, stop }
    }

    fn handle(
        stream: std::net::TcpStream,
        routes: &Mutex<HashMap<String, Answer>>,
        hits: &Mutex<Vec<Hit>>,
    ) -> std::io::Result<()> {
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut reader = BufReader::new(stream);
        let mut request_line = String::new();
        reader.read_line(&mut request_line)?;
        let target = request_line.split(' ').nth(1).unwrap_or_default().to_owned();
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let answer = routes.lock().unwrap().get(&target).cloned();
        hits.lock().unwrap().push(Hit { path: target, body: text(&body) });
        let mut stream = reader.into_inner();
        match answer {
            Some(Answer::Bytes(bytes)) => stream.write_all(&bytes)?,
            Some(Answer::Close) => {}
            None => stream.write_all(&json_response(404, r#"{"error":"not_found"}"#))?,
        }
        stream.flush()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Answers requests for `path` with `answer` from now on.
    fn answer(&self, path: &str, answer: Answer) {
        self.routes.lock().unwrap().insert(path.to_owned(), answer);
    }

    /// Answers `/token` with a success carrying `id_token` and the rotated `refresh_token`,
    /// and `/jwks` with `jwks` (a 200 JSON response).
    fn serve_token(&self, id_token: &str, rotated: &str, jwks: &str) {
        let response = json!({
            "access_token": "at-new",
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": rotated,
            "id_token": id_token,
        });
        self.answer("/token", Answer::Bytes(json_response(200, &response.to_string())));
        self.answer("/jwks", Answer::Bytes(json_response(200, jwks)));
    }

    /// Requests received so far for `path`.
    fn hits(&self, path: &str) -> Vec<Hit> {
        self.hits.lock().unwrap().iter().filter(|h| h.path == path).cloned().collect()
    }

    /// Every request received so far.
    fn all_hits(&self) -> usize {
        self.hits.lock().unwrap().len()
    }

    fn forget_hits(&self) {
        self.hits.lock().unwrap().clear();
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The attacker's server that a `jku` names: it serves the attacker's key set at `/jwks`
/// and must never see a request.
fn jku_server() -> Idp {
    Idp::start()
}

/// Claims that pass the refresh's own checks: client `c`, issued now.
fn refresh_claims() -> Value {
    claims("https://id.example", "c", now_secs())
}

// ---------------------------------------------------------------------------------------
// decode-id-token --jwks
// ---------------------------------------------------------------------------------------

#[test]
fn decode_id_token_refuses_every_hostile_token_with_exit_6_and_verifies_its_twin() {
    let dir = tempfile::tempdir().unwrap();
    let jku = jku_server();
    let cases = Hostile::all(&claims("https://id.example", "my-app", 1_700_000_000), &jku.url("/jwks"));
    assert_eq!(cases.len(), 16);
    for case in &cases {
        let name = case.name;
        if let Some(attacker) = &case.attacker_jwks {
            jku.answer("/jwks", Answer::Bytes(json_response(200, attacker)));
        }
        let jwks = file(dir.path(), &format!("{name}.jwks"), &case.jwks);
        let genuine_jwks = file(dir.path(), &format!("{name}.genuine.jwks"), &case.genuine_jwks);

        // The hostile token decodes: what --jwks refuses is its signature.
        ok(&run(&["decode-id-token", &case.token]), &format!("{name}: decoded without --jwks"));
        let line = failed(&run(&["decode-id-token", &case.token, "--jwks", path(&jwks)]), 6, name);
        assert!(line.contains("signature"), "{name}: {line}");
        assert!(!line.contains(&case.token), "{name}: the token is not echoed: {line}");

        // The twin verifies, and prints what it prints without --jwks.
        let unverified = ok(&run(&["decode-id-token", &case.genuine_token]), name);
        let verified = ok(
            &run(&["decode-id-token", &case.genuine_token, "--jwks", path(&genuine_jwks)]),
            &format!("{name}: the genuine twin"),
        );
        assert_eq!(verified, unverified, "{name}");
        serde_json::from_str::<Value>(&verified).expect("one JSON document");

        // `jwk` and `jku`: the hostile token is genuinely the attacker's; only the key set
        // given counts.
        if let Some(attacker) = &case.attacker_jwks {
            let attacker = file(dir.path(), &format!("{name}.attacker.jwks"), attacker);
            let out = run(&["decode-id-token", &case.token, "--jwks", path(&attacker)]);
            ok(&out, &format!("{name}: under the attacker's own key set"));
        }
    }
    // Standard input too.
    let case = &cases[0];
    let jwks = file(dir.path(), "stdin.jwks", &case.jwks);
    let mut child = Command::new(bin())
        .args(["decode-id-token", "-", "--jwks", path(&jwks)])
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("  {}\n", case.token).as_bytes()).unwrap();
    failed(&child.wait_with_output().unwrap(), 6, "tampered payload on stdin");
    assert_eq!(jku.all_hits(), 0, "the jku server is never contacted");
}

#[test]
fn flipping_any_of_several_signature_bits_is_exit_6() {
    let dir = tempfile::tempdir().unwrap();
    let c = claims("https://id.example", "my-app", 1_700_000_000);
    for bit in [0, 7, 8, 255, 256, 511] {
        let case = Hostile::flipped_signature_bit(&c, bit);
        let jwks = file(dir.path(), &format!("{bit}.jwks"), &case.jwks);
        failed(&run(&["decode-id-token", &case.token, "--jwks", path(&jwks)]), 6, &format!("bit {bit}"));
        ok(&run(&["decode-id-token", &case.genuine_token, "--jwks", path(&jwks)]), &format!("bit {bit}"));
    }
}

#[test]
fn decode_id_token_key_set_files_and_undecodable_tokens_have_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let c = claims("https://id.example", "my-app", 1_700_000_000);
    let key = Key::p256();
    let jwt = key.token(&json!({"alg": "ES256", "kid": "k"}), &c);
    let good = file(dir.path(), "good.jwks", &key_set(&[key.jwk(&json!({"kid": "k"}))]));
    ok(&run(&["decode-id-token", &jwt, "--jwks", path(&good)]), "control");

    // A key set file that is missing, a folder, or not a JWK Set: exit 2.
    let missing = dir.path().join("missing.jwks");
    failed(&run(&["decode-id-token", &jwt, "--jwks", path(&missing)]), 2, "missing file");
    failed(&run(&["decode-id-token", &jwt, "--jwks", path(dir.path())]), 2, "a folder");
    for (i, body) in
        ["", "<html>", "[]", "null", "{}", r#"{"keys":{}}"#, r#"{"issuer":"https://id.example"}"#, "\u{1}"]
            .iter()
            .enumerate()
    {
        let f = file(dir.path(), &format!("bad{i}.jwks"), body);
        failed(&run(&["decode-id-token", &jwt, "--jwks", path(&f)]), 2, &format!("key set {body:?}"));
    }

    // A token that does not decode: exit 4, with a good key set.
    let (head, rest) = jwt.split_once('.').unwrap();
    for bad in ["abc".to_owned(), format!("{head}.{rest}.x"), format!("{head}=.{rest}"), "a.b.c".to_owned()] {
        failed(&run(&["decode-id-token", &bad, "--jwks", path(&good)]), 4, &format!("token {bad:?}"));
    }

    // HS256: decode-id-token has no client secret, so no HMAC ever verifies, whatever the
    // key set holds (here an `oct` key with the very secret).
    let secret = b"a-client-secret-of-some-length-0123456789";
    let hs = hs_token("HS256", secret, &json!({"alg": "HS256", "kid": "h"}), &c);
    let with_oct = file(
        dir.path(),
        "oct.jwks",
        &key_set(&[
            key.jwk(&json!({"kid": "k"})),
            json!({"kty": "oct", "kid": "h", "k": oidc_refresh_testing::jose::b64(secret)}),
        ]),
    );
    ok(&run(&["decode-id-token", &hs]), "HS256 decodes");
    failed(&run(&["decode-id-token", &hs, "--jwks", path(&with_oct)]), 6, "HS256");
    failed(&run(&["decode-id-token", &hs, "--jwks", path(&good)]), 6, "HS256");
}

// ---------------------------------------------------------------------------------------
// refresh --jwks-uri
// ---------------------------------------------------------------------------------------

/// A refresh token file and an (empty) ID token file.
struct Files {
    _dir: tempfile::TempDir,
    rt: PathBuf,
    idt: PathBuf,
}

fn files(refresh_token: &str) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let rt = file(dir.path(), "refresh_token", &format!("{refresh_token}\n"));
    let idt = file(dir.path(), "id_token", "");
    Files { _dir: dir, rt, idt }
}

fn refresh(idp: &Idp, f: &Files, extra: &[&str]) -> Output {
    refresh_as(idp, f, "c", extra)
}

fn refresh_as(idp: &Idp, f: &Files, client_id: &str, extra: &[&str]) -> Output {
    let (token, jwks) = (idp.url("/token"), idp.url("/jwks"));
    let mut args = vec!["refresh", "--token-endpoint", &token, "--jwks-uri", &jwks, "--client-id", client_id];
    args.extend(["--refresh-token-file", path(&f.rt), "--id-token-file", path(&f.idt), "--timeout", "5"]);
    args.extend(extra);
    run(&args)
}

#[test]
fn hostile_id_tokens_on_refresh_are_exit_6_and_the_rotated_refresh_token_is_kept() {
    let idp = Idp::start();
    let jku = jku_server();
    let c = refresh_claims();
    // The 1024-bit fixture has claims of its own (`aud` `my-app`, expired in 2023): it is
    // refreshed as client `my-app`, so that it names no other audience, and its twin, which
    // would fail the refresh's own `exp` check, is not run here.
    let cases = Hostile::all(&c, &jku.url("/jwks"));
    for case in &cases {
        let name = case.name;
        if let Some(attacker) = &case.attacker_jwks {
            jku.answer("/jwks", Answer::Bytes(json_response(200, attacker)));
        }

        // The hostile token: exit 6, the rotated refresh token written, the ID token file
        // not (a failed check never becomes the next baseline).
        idp.forget_hits();
        idp.serve_token(&case.token, &format!("rt-rotated-{name}"), &case.jwks);
        let f = files("rt-spent");
        let client_id = if name == "rsa-1024" { "my-app" } else { "c" };
        let line = failed(&refresh_as(&idp, &f, client_id, &[]), 6, name);
        assert!(line.contains("signature"), "{name}: {line}");
        assert_eq!(fs::read_to_string(&f.rt).unwrap(), format!("rt-rotated-{name}\n"), "{name}");
        assert_eq!(fs::read_to_string(&f.idt).unwrap(), "", "{name}");
        assert_eq!(idp.hits("/token").len(), 1, "{name}: one token request");
        assert!(idp.hits("/token")[0].body.contains("refresh_token=rt-spent"), "{name}");
        let fetches = idp.hits("/jwks").len();
        assert!(fetches <= 2, "{name}: the key set fetched {fetches} times");
        assert_eq!(idp.all_hits(), 1 + fetches, "{name}: nothing else requested");

        // Its twin: exit 0, both files replaced.
        if name == "rsa-1024" {
            continue;
        }
        idp.forget_hits();
        idp.serve_token(&case.genuine_token, "rt-genuine", &case.genuine_jwks);
        let f = files("rt-spent");
        let out = refresh(&idp, &f, &[]);
        let result: Value = serde_json::from_str(&ok(&out, &format!("{name}: the genuine twin"))).unwrap();
        assert_eq!(result["idToken"], case.genuine_token.as_str(), "{name}");
        assert_eq!(fs::read_to_string(&f.rt).unwrap(), "rt-genuine\n", "{name}");
        assert_eq!(fs::read_to_string(&f.idt).unwrap(), format!("{}\n", case.genuine_token), "{name}");
        let fetches = idp.hits("/jwks").len();
        assert_eq!(fetches, 1, "{name}: the genuine twin needs one fetch");
    }
    assert_eq!(jku.all_hits(), 0, "the jku server is never contacted");
}

#[test]
fn hs256_with_the_public_key_is_exit_6_on_refresh_with_or_without_a_client_secret() {
    let idp = Idp::start();
    let c = refresh_claims();
    for bytes in [PublicKeyBytes::Modulus, PublicKeyBytes::SpkiDer, PublicKeyBytes::SpkiPem] {
        let case = Hostile::hs256_with_public_key(&c, bytes);
        let f = files("rt-spent");
        let secret = file(f.rt.parent().unwrap(), "secret", "the-real-client-secret\n");
        for extra in [&[][..], &["--client-secret-file", path(&secret)][..]] {
            idp.forget_hits();
            fs::write(&f.rt, "rt-spent\n").unwrap();
            idp.serve_token(&case.token, "rt-rotated", &case.jwks);
            failed(&refresh(&idp, &f, extra), 6, &format!("{bytes:?} {extra:?}"));
            assert_eq!(fs::read_to_string(&f.rt).unwrap(), "rt-rotated\n");
            assert_eq!(fs::read_to_string(&f.idt).unwrap(), "");
            assert_eq!(idp.hits("/token").len(), 1);
            assert!(idp.hits("/jwks").len() <= 2);
        }
    }
    // The client secret does verify an HS256 token MACed with it (the twin of the above).
    let secret_value = "the-real-client-secret";
    let hs = hs_token("HS256", secret_value.as_bytes(), &json!({"alg": "HS256"}), &c);
    let f = files("rt-spent");
    let secret = file(f.rt.parent().unwrap(), "secret", &format!("{secret_value}\n"));
    idp.forget_hits();
    idp.serve_token(&hs, "rt-rotated", &key_set(&[Key::rsa_2048().jwk(&json!({"kid": "k"}))]));
    ok(&refresh(&idp, &f, &["--client-secret-file", path(&secret)]), "HS256 with the client secret");
    assert_eq!(idp.hits("/jwks").len(), 0, "HS256 needs no key set");
}

#[test]
fn a_key_set_that_cannot_be_fetched_or_read_is_exit_4_or_5_and_the_rotated_token_is_kept() {
    let idp = Idp::start();
    let case = Hostile::tampered_payload(&refresh_claims());
    let broken: Vec<(&str, Answer, i32)> = vec![
        (
            "HTTP 500",
            Answer::Bytes(http_response(500, &[("Content-Type", "text/html")], b"<html>oops</html>")),
            4,
        ),
        (
            "HTTP 500 with a key set",
            Answer::Bytes(http_response(500, &[("Content-Type", "application/json")], case.jwks.as_bytes())),
            4,
        ),
        ("HTTP 404", Answer::Bytes(json_response(404, r#"{"error":"not_found"}"#)), 4),
        ("not JSON", Answer::Bytes(http_response(200, &[("Content-Type", "text/html")], b"<html>")), 4),
        ("JSON, not a key set", Answer::Bytes(json_response(200, r#"{"issuer":"https://id.example"}"#)), 4),
        ("keys not an array", Answer::Bytes(json_response(200, r#"{"keys":{}}"#)), 4),
        ("connection closed", Answer::Close, 5),
    ];
    for (what, answer, code) in broken {
        idp.forget_hits();
        idp.serve_token(&case.genuine_token, "rt-rotated", &case.jwks);
        idp.answer("/jwks", answer);
        let f = files("rt-spent");
        failed(&refresh(&idp, &f, &[]), code, what);
        assert_eq!(fs::read_to_string(&f.rt).unwrap(), "rt-rotated\n", "{what}: the old one is spent");
        assert_eq!(fs::read_to_string(&f.idt).unwrap(), "", "{what}");
        assert_eq!(idp.hits("/token").len(), 1, "{what}");
        let fetches = idp.hits("/jwks").len();
        assert!((1..=2).contains(&fetches), "{what}: the key set fetched {fetches} times");
    }

    // Nothing listening at the key set's port: exit 5, the rotated token kept.
    idp.forget_hits();
    idp.serve_token(&case.genuine_token, "rt-rotated", &case.jwks);
    let f = files("rt-spent");
    let nowhere = format!("http://127.0.0.1:{}/jwks", closed_port());
    let token = idp.url("/token");
    let out = run(&[
        "refresh",
        "--token-endpoint",
        &token,
        "--jwks-uri",
        &nowhere,
        "--client-id",
        "c",
        "--refresh-token-file",
        path(&f.rt),
        "--timeout",
        "5",
    ]);
    failed(&out, 5, "connection refused");
    assert_eq!(fs::read_to_string(&f.rt).unwrap(), "rt-rotated\n");
    assert_eq!(idp.hits("/token").len(), 1);

    // A response without an ID token fetches no key set at all.
    idp.forget_hits();
    let response = json!({"access_token": "at-new", "token_type": "Bearer", "refresh_token": "rt-rotated"});
    idp.answer("/token", Answer::Bytes(json_response(200, &response.to_string())));
    idp.answer("/jwks", Answer::Close);
    let f = files("rt-spent");
    ok(&refresh(&idp, &f, &[]), "no ID token");
    assert_eq!(idp.hits("/jwks").len(), 0);
    assert_eq!(fs::read_to_string(&f.rt).unwrap(), "rt-rotated\n");
}

// ---------------------------------------------------------------------------------------
// token --jwks-uri
// ---------------------------------------------------------------------------------------

/// A store whose access token is stale, holding `rt-stored`.
fn stale_store(dir: &Path) -> PathBuf {
    let store = json!({
        "refresh_token": "rt-stored",
        "access_token": "at-old",
        "token_type": "Bearer",
        "expires_at": now_secs() - 1,
    });
    file(dir, "tokens.json", &store.to_string())
}

fn token(idp: &Idp, store: &Path) -> Output {
    let (token, jwks) = (idp.url("/token"), idp.url("/jwks"));
    run(&[
        "token",
        "--token-endpoint",
        &token,
        "--jwks-uri",
        &jwks,
        "--client-id",
        "c",
        "--store",
        path(store),
        "--timeout",
        "5",
    ])
}

fn read_store(store: &Path) -> Value {
    serde_json::from_slice(&fs::read(store).unwrap()).unwrap()
}

#[test]
fn hostile_id_tokens_on_token_are_exit_6_and_the_store_keeps_the_rotated_refresh_token() {
    let idp = Idp::start();
    let jku = jku_server();
    let c = refresh_claims();
    let cases = [
        Hostile::unknown_kid(&c),
        Hostile::alg_none(&c),
        Hostile::tampered_payload(&c),
        Hostile::jku(&c, &jku.url("/jwks")),
        Hostile::der_ecdsa_signature(&c),
    ];
    for case in &cases {
        let name = case.name;
        if let Some(attacker) = &case.attacker_jwks {
            jku.answer("/jwks", Answer::Bytes(json_response(200, attacker)));
        }
        let dir = tempfile::tempdir().unwrap();
        let store = stale_store(dir.path());
        idp.forget_hits();
        idp.serve_token(&case.token, &format!("rt-rotated-{name}"), &case.jwks);
        let line = failed(&token(&idp, &store), 6, name);
        assert!(line.contains("signature"), "{name}: {line}");
        let v = read_store(&store);
        assert_eq!(v["refresh_token"], format!("rt-rotated-{name}"), "{name}: the rotated token is stored");
        assert_ne!(v["access_token"], "at-new", "{name}: the access token is not");
        assert_ne!(v["id_token"], case.token.as_str(), "{name}: nor the refused ID token");
        let sent: Vec<Hit> = idp.hits("/token");
        assert_eq!(sent.len(), 1, "{name}: one token request, not retried: {sent:?}");
        assert!(sent[0].body.contains("refresh_token=rt-stored"), "{name}");
        assert!(idp.hits("/jwks").len() <= 2, "{name}");

        // The twin: exit 0, the new access token printed and stored.
        let store = stale_store(dir.path());
        idp.forget_hits();
        idp.serve_token(&case.genuine_token, "rt-genuine", &case.genuine_jwks);
        assert_eq!(ok(&token(&idp, &store), name), "at-new\n");
        let v = read_store(&store);
        assert_eq!((&v["refresh_token"], &v["access_token"]), (&json!("rt-genuine"), &json!("at-new")));
        assert_eq!(v["id_token"], case.genuine_token.as_str(), "{name}");
    }
    assert_eq!(jku.all_hits(), 0, "the jku server is never contacted");
}

#[test]
fn a_key_set_that_cannot_be_read_on_token_keeps_the_rotated_refresh_token() {
    let idp = Idp::start();
    let case = Hostile::unknown_kid(&refresh_claims());
    for (what, answer, code) in [
        (
            "HTTP 500",
            Answer::Bytes(http_response(500, &[("Content-Type", "text/html")], b"<html>oops</html>")),
            4,
        ),
        ("not JSON", Answer::Bytes(http_response(200, &[("Content-Type", "text/html")], b"<html>")), 4),
        ("connection closed", Answer::Close, 5),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = stale_store(dir.path());
        idp.forget_hits();
        idp.serve_token(&case.genuine_token, "rt-rotated", &case.jwks);
        idp.answer("/jwks", answer);
        let out = token(&idp, &store);
        failed(&out, code, what);
        let v = read_store(&store);
        // The spent refresh token went to the server once.
        let sent: Vec<String> = idp.hits("/token").into_iter().map(|h| h.body).collect();
        let spent = sent.iter().filter(|b| b.contains("refresh_token=rt-stored")).count();
        assert_eq!(spent, 1, "{what}: {sent:?}");
        assert_eq!(v["refresh_token"], "rt-rotated", "{what}: the rotated token is stored ({sent:?})");
        assert_ne!(v["access_token"], "at-new", "{what}");
    }
}
