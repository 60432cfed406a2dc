//! ID-token signatures verified by the command line against the bundled provider
//! (R29 id-token-signature-verified): `refresh` and `token` with `--issuer` for every
//! algorithm the provider signs with, the key set fetched only for an ID token, `--no-verify`,
//! `--jwks-uri`, a key set that does not hold the signing key (exit 6, the rotated refresh
//! token kept), and `decode-id-token --jwks` with the provider's key set.

use std::fs;
use std::path::PathBuf;
use std::process::Output;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oidc_refresh_testing::provider::{ID_TOKEN_CLIENTS, IdTokenClient, Provider, field};
use serde_json::{Value, json};

use crate::common::{path, run, stderr_line};

#[track_caller]
fn assert_ok(out: &Output) {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A client's files: a grant's refresh token (for `refresh`), another grant's store (for
/// `token`), its secret (HS256).
struct Client {
    dir: tempfile::TempDir,
    rt: PathBuf,
    secret: Option<PathBuf>,
}

impl Client {
    fn login(p: &Provider, c: &IdTokenClient) -> Client {
        let login = p.login(c.client_id, c.secret);
        let dir = tempfile::tempdir().unwrap();
        let rt = dir.path().join("refresh_token");
        fs::write(&rt, field(&login, "refresh_token")).unwrap();
        let secret = c.secret.map(|(_, secret)| {
            let file = dir.path().join("secret");
            fs::write(&file, secret).unwrap();
            file
        });
        // The store holds another grant: `refresh` and `token` each spend their own.
        let other = p.login(c.client_id, c.secret);
        let store = dir.path().join("store.json");
        fs::write(&store, json!({"refresh_token": field(&other, "refresh_token")}).to_string()).unwrap();
        Client { dir, rt, secret }
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store.json")
    }

    fn stored_refresh_token(&self) -> String {
        let v: Value = serde_json::from_slice(&fs::read(self.store()).unwrap()).unwrap();
        v["refresh_token"].as_str().unwrap().to_owned()
    }

    /// `refresh --client-id ...` with the client's secret, then `extra`.
    fn refresh(&self, c: &IdTokenClient, extra: &[&str]) -> Output {
        let mut args = vec!["refresh", "--client-id", c.client_id, "--refresh-token-file", path(&self.rt)];
        if let Some(secret) = &self.secret {
            args.extend(["--client-secret-file", path(secret)]);
        }
        args.extend(extra);
        run(&args)
    }

    /// `token --client-id ... --store STORE --force` with the client's secret, then `extra`.
    fn token(&self, c: &IdTokenClient, extra: &[&str]) -> Output {
        let store = self.store();
        let mut args = vec!["token", "--client-id", c.client_id, "--store", path(&store), "--force"];
        if let Some(secret) = &self.secret {
            args.extend(["--client-secret-file", path(secret)]);
        }
        args.extend(extra);
        run(&args)
    }
}

#[test]
fn refresh_with_issuer_verifies_every_algorithm_with_one_key_set_fetch() {
    let p = Provider::start();
    for c in &ID_TOKEN_CLIENTS {
        let client = Client::login(&p, c);
        let before = p.jwks_requests();
        let out = client.refresh(c, &["--issuer", &p.issuer]);
        assert_ok(&out);
        let result: Value = serde_json::from_slice(&out.stdout).unwrap();
        let header = oidc_refresh_testing::provider::jwt_header(result["idToken"].as_str().unwrap());
        assert_eq!(header["alg"], c.alg);
        // HS256 is verified with the client secret: no key set.
        assert_eq!(p.jwks_requests() - before, u64::from(c.alg != "HS256"), "{}", c.alg);
    }
}

#[test]
fn token_with_issuer_verifies_every_algorithm_and_a_fresh_token_fetches_nothing() {
    let p = Provider::start();
    for c in &ID_TOKEN_CLIENTS {
        let client = Client::login(&p, c);
        let before = p.jwks_requests();
        assert_ok(&client.token(c, &["--issuer", &p.issuer]));
        assert_eq!(p.jwks_requests() - before, u64::from(c.alg != "HS256"), "{}", c.alg);
        // Fresh now: no refresh, no discovery, no key set.
        let store = client.store();
        let out = run(&["token", "--client-id", c.client_id, "--store", path(&store), "--issuer", &p.issuer]);
        assert_ok(&out);
        assert_eq!(p.jwks_requests() - before, u64::from(c.alg != "HS256"), "{}", c.alg);
    }
}

#[test]
fn no_verify_fetches_no_key_set() {
    let p = Provider::start();
    let c = &ID_TOKEN_CLIENTS[0];
    let client = Client::login(&p, c);
    assert_ok(&client.refresh(c, &["--issuer", &p.issuer, "--no-verify"]));
    assert_ok(&client.token(c, &["--issuer", &p.issuer, "--no-verify"]));
    assert_eq!(p.jwks_requests(), 0);
    // --no-verify and --jwks-uri contradict each other: a usage error, nothing sent.
    let jwks = format!("{}/jwks", p.issuer);
    let out = client.refresh(c, &["--issuer", &p.issuer, "--no-verify", "--jwks-uri", &jwks]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(p.jwks_requests(), 0);
}

#[test]
fn jwks_uri_turns_verification_on_for_a_token_endpoint() {
    let p = Provider::start();
    let c = &ID_TOKEN_CLIENTS[2]; // ES256
    let client = Client::login(&p, c);
    let jwks = format!("{}/jwks", p.issuer);
    assert_ok(&client.refresh(c, &["--token-endpoint", &p.token_endpoint()]));
    assert_eq!(p.jwks_requests(), 0, "without --jwks-uri a token endpoint alone verifies nothing");
    assert_ok(&client.refresh(c, &["--token-endpoint", &p.token_endpoint(), "--jwks-uri", &jwks]));
    assert_eq!(p.jwks_requests(), 1);
    assert_ok(&client.token(c, &["--token-endpoint", &p.token_endpoint(), "--jwks-uri", &jwks]));
    assert_eq!(p.jwks_requests(), 2);
    // Plain http to a host that is not loopback is refused before anything is sent.
    let out =
        client.refresh(c, &["--token-endpoint", &p.token_endpoint(), "--jwks-uri", "http://id.example/jwks"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Another provider's key set does not hold this provider's signing key: the signature is
/// refused (exit 6) after one fetch, and the rotated refresh token is kept, since the one
/// sent is spent.
#[test]
fn a_key_set_without_the_signing_key_is_exit_6_and_the_rotated_token_is_kept() {
    let p = Provider::start();
    let other = Provider::start();
    let other_jwks = format!("{}/jwks", other.issuer);
    let c = &ID_TOKEN_CLIENTS[0];
    let client = Client::login(&p, c);
    let before = fs::read_to_string(&client.rt).unwrap();
    let out = client.refresh(c, &["--token-endpoint", &p.token_endpoint(), "--jwks-uri", &other_jwks]);
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(stderr_line(&out).contains("signature"), "{}", stderr_line(&out));
    assert_eq!(other.jwks_requests(), 1, "one fetch: the kid is in no key fetched");
    let rotated = fs::read_to_string(&client.rt).unwrap();
    assert_ne!(rotated.trim(), before.trim(), "the rotated refresh token is stored");
    // It is the live one: a refresh with it succeeds.
    assert_ok(&client.refresh(c, &["--issuer", &p.issuer]));

    let before = client.stored_refresh_token();
    let out = client.token(c, &["--token-endpoint", &p.token_endpoint(), "--jwks-uri", &other_jwks]);
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    assert_ne!(client.stored_refresh_token(), before, "the rotated refresh token is stored");
    assert_ok(&client.token(c, &["--issuer", &p.issuer]));
}

#[test]
fn decode_id_token_checks_the_signature_against_the_providers_key_set() {
    let p = Provider::start();
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    fs::write(&jwks, p.public_jwks().to_string()).unwrap();
    for c in ID_TOKEN_CLIENTS.iter().filter(|c| c.alg != "HS256") {
        let id_token = field(&p.login(c.client_id, c.secret), "id_token").to_owned();
        let plain = run(&["decode-id-token", &id_token]);
        assert_ok(&plain);
        let verified = run(&["decode-id-token", &id_token, "--jwks", path(&jwks)]);
        assert_ok(&verified);
        assert_eq!(verified.stdout, plain.stdout, "the same JSON as without --jwks");

        // The payload's subject changed, the signature kept: exit 6.
        let parts: Vec<&str> = id_token.split('.').collect();
        let payload = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
        let payload = String::from_utf8(payload).unwrap().replace("user-123", "user-124");
        let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload), parts[2]);
        assert_ok(&run(&["decode-id-token", &tampered]));
        let out = run(&["decode-id-token", &tampered, "--jwks", path(&jwks)]);
        assert_eq!(out.status.code(), Some(6), "{}: {}", c.alg, String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty());
    }
    // An HS256 token has no key in a key set, and decode-id-token has no client secret.
    let hs = &ID_TOKEN_CLIENTS[4];
    let id_token = field(&p.login(hs.client_id, hs.secret), "id_token").to_owned();
    let out = run(&["decode-id-token", &id_token, "--jwks", path(&jwks)]);
    assert_eq!(out.status.code(), Some(6));
}
