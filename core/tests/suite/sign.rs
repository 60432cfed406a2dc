//! Client assertions and DPoP proofs (feature `sign`), through the public API: every key
//! form and algorithm, each assertion and proof verified twice (by the crate's own
//! `verify_signature` against the key's `public_jwk`, and by `ring` directly against the
//! public key as the fixture or `ring` gives it), the claims decoded to exactly the fields
//! the RFCs name, the thumbprint vectors, the refusals, and the nonce store's bound.
//!
//! Ed25519 and P-256 keys are generated here with `ring`; the others come from
//! `tests/fixtures/` (see its README).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use oidc_refresh_core::{
    AccessToken, Algorithm, AssertionKey, CLIENT_ASSERTION_LIFETIME, CLIENT_ASSERTION_TYPE, ClientSecret,
    DpopNonces, SignError, SigningKey, UnixTime, build_client_assertion, build_dpop_proof, dpop_nonce, http,
    is_use_dpop_nonce, parse_refresh_response,
};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use ring::{digest, hmac};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

const RSA_2048_PEM: &str = include_str!("../fixtures/rsa-2048.pk8.pem");
const RSA_2048_JWK: &str = include_str!("../fixtures/rsa-2048.jwk.json");
const RSA_2048_PKCS1: &str = include_str!("../fixtures/rsa-2048.pkcs1.pem");
const RSA_2048_DER: &[u8] = include_bytes!("../fixtures/rsa-2048.pk8.der");
const RSA_1024_PEM: &str = include_str!("../fixtures/rsa-1024.pk8.pem");
const RSA_1024_JWK: &str = include_str!("../fixtures/rsa-1024.jwk.json");
const EC_P256_PEM: &str = include_str!("../fixtures/ec-p256.pk8.pem");
const EC_P256_JWK: &str = include_str!("../fixtures/ec-p256.jwk.json");
const EC_P384_PEM: &str = include_str!("../fixtures/ec-p384.pk8.pem");
const ED25519_PEM: &str = include_str!("../fixtures/ed25519.pk8.pem");
const ED25519_JWK: &str = include_str!("../fixtures/ed25519.jwk.json");
const RFC7517_RSA_JWK: &str = include_str!("../fixtures/rfc7517-a2-rsa.jwk.json");

/// A fractional time: claims carry whole seconds, rounded down.
fn now() -> UnixTime {
    UnixTime::from_duration_since_epoch(Duration::from_millis(1_700_000_000_999))
}
const NOW_SECS: u64 = 1_700_000_000;
const JTI: [u8; 16] = [0xA5; 16];

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).expect("a JSON fixture")
}

/// A PKCS#8 document as PEM, 64 columns.
fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("base64")).collect();
    format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"))
}

/// A compact JWS split and decoded: header, claims, signature, signing input.
struct Decoded<'a> {
    header: Value,
    claims: Value,
    signature: Vec<u8>,
    signing_input: &'a str,
}

fn decode(jwt: &str) -> Decoded<'_> {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let segment = |s: &str| URL_SAFE_NO_PAD.decode(s).expect("strict unpadded base64url");
    let object = |s: &str| -> Value { serde_json::from_slice(&segment(s)).expect("a JSON segment") };
    let signing_input = &jwt[..parts[0].len() + 1 + parts[1].len()];
    Decoded {
        header: object(parts[0]),
        claims: object(parts[1]),
        signature: segment(parts[2]),
        signing_input,
    }
}

fn names(v: &Value) -> BTreeSet<&str> {
    v.as_object().expect("an object").keys().map(String::as_str).collect()
}

/// One key under test, with its public key as an independent source gives it (the fixture
/// file, or `ring`'s key pair): `kty`, `crv`, `x`, `y`, `n`, `e` only.
struct Case {
    name: &'static str,
    key: SigningKey,
    public: Value,
}

fn public_members(jwk: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for name in ["kty", "crv", "x", "y", "n", "e"] {
        if let Some(v) = jwk.get(name) {
            out.insert(name.into(), v.clone());
        }
    }
    Value::Object(out)
}

fn ring_ed25519() -> (String, Value) {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("an Ed25519 key");
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("an Ed25519 key");
    (pem(pkcs8.as_ref()), json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key())}))
}

fn ring_p256() -> (String, Value) {
    let rng = SystemRandom::new();
    let alg = &sig::ECDSA_P256_SHA256_FIXED_SIGNING;
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("an EC key");
    let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("an EC key");
    let point = pair.public_key().as_ref();
    (
        pem(pkcs8.as_ref()),
        json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])}),
    )
}

fn cases() -> Vec<Case> {
    let key = |r: Result<SigningKey, SignError>| r.unwrap_or_else(|e| panic!("a usable key: {e}"));
    let (ed_pem, ed_public) = ring_ed25519();
    let (ec_pem, ec_public) = ring_p256();
    let rsa = public_members(&json_of(RSA_2048_JWK));
    let ec = public_members(&json_of(EC_P256_JWK));
    let ed = public_members(&json_of(ED25519_JWK));
    vec![
        Case {
            name: "RSA PEM, RS256",
            key: key(SigningKey::from_pkcs8_pem(RSA_2048_PEM, None)),
            public: rsa.clone(),
        },
        Case {
            name: "RSA PEM, PS256",
            key: key(SigningKey::from_pkcs8_pem(RSA_2048_PEM, Some(Algorithm::Ps256))),
            public: rsa.clone(),
        },
        Case {
            name: "RSA JWK, RS256",
            key: key(SigningKey::from_jwk(RSA_2048_JWK, None)),
            public: rsa.clone(),
        },
        Case {
            name: "RSA JWK, PS256",
            key: key(SigningKey::from_jwk(RSA_2048_JWK, Some(Algorithm::Ps256))),
            public: rsa,
        },
        Case {
            name: "RFC 7517 A.2 RSA JWK",
            key: key(SigningKey::from_jwk(RFC7517_RSA_JWK, None)),
            public: public_members(&json_of(RFC7517_RSA_JWK)),
        },
        Case {
            name: "P-256 PEM (openssl)",
            key: key(SigningKey::from_pkcs8_pem(EC_P256_PEM, None)),
            public: ec.clone(),
        },
        Case { name: "P-256 JWK", key: key(SigningKey::from_jwk(EC_P256_JWK, None)), public: ec },
        Case {
            name: "P-256 PEM (ring)",
            key: key(SigningKey::from_pkcs8_pem(&ec_pem, None)),
            public: ec_public,
        },
        Case {
            name: "Ed25519 PEM (openssl)",
            key: key(SigningKey::from_pkcs8_pem(ED25519_PEM, None)),
            public: ed.clone(),
        },
        Case { name: "Ed25519 JWK", key: key(SigningKey::from_jwk(ED25519_JWK, None)), public: ed },
        Case {
            name: "Ed25519 PEM (ring)",
            key: key(SigningKey::from_pkcs8_pem(&ed_pem, None)),
            public: ed_public,
        },
    ]
}

/// Verifies a JWS with `ring` directly, against `public` (the independent public key).
fn ring_verifies(jws: &str, alg: Algorithm, public: &Value) -> bool {
    let d = decode(jws);
    let member =
        |name: &str| URL_SAFE_NO_PAD.decode(public[name].as_str().expect("a member")).expect("base64url");
    let message = d.signing_input.as_bytes();
    match alg {
        Algorithm::Rs256 | Algorithm::Ps256 => {
            let params = if alg == Algorithm::Rs256 {
                &sig::RSA_PKCS1_2048_8192_SHA256
            } else {
                &sig::RSA_PSS_2048_8192_SHA256
            };
            sig::RsaPublicKeyComponents { n: member("n"), e: member("e") }
                .verify(params, message, &d.signature)
                .is_ok()
        }
        Algorithm::Es256 => {
            let mut point = vec![4];
            point.extend(member("x"));
            point.extend(member("y"));
            sig::UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, point)
                .verify(message, &d.signature)
                .is_ok()
        }
        Algorithm::EdDsa => {
            sig::UnparsedPublicKey::new(&sig::ED25519, member("x")).verify(message, &d.signature).is_ok()
        }
        other => panic!("not a signing algorithm here: {other}"),
    }
}

/// Verifies a JWS with the crate's own `verify_signature`, against a key set holding the
/// key's `public_jwk` alone.
#[cfg(feature = "verify")]
fn core_verifies(jws: &str, key: &SigningKey) -> Result<Algorithm, oidc_refresh_core::SignatureError> {
    let set = json!({"keys": [key.public_jwk()]}).to_string();
    let keys = oidc_refresh_core::JwkSet::parse(set.as_bytes()).expect("a JWK Set");
    assert_eq!(keys.len(), 1);
    oidc_refresh_core::verify_signature(jws, &keys, None, None)
}

/// Both verifications, and a tampered copy refused by both.
fn assert_verifies(case: &Case, jws: &str) {
    let alg = case.key.algorithm();
    assert!(ring_verifies(jws, alg, &case.public), "{}: ring refused {jws}", case.name);
    #[cfg(feature = "verify")]
    assert_eq!(core_verifies(jws, &case.key), Ok(alg), "{}", case.name);
    let d = decode(jws);
    let mut claims = d.claims.clone();
    claims["iat"] = json!(NOW_SECS + 1);
    let parts: Vec<&str> = jws.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], b64(claims.to_string()), parts[2]);
    assert!(!ring_verifies(&tampered, alg, &case.public), "{}: tampered", case.name);
    #[cfg(feature = "verify")]
    assert!(core_verifies(&tampered, &case.key).is_err(), "{}: tampered", case.name);
}

#[test]
fn every_key_form_has_the_public_key_its_source_gives() {
    for case in cases() {
        let jwk = case.key.public_jwk();
        assert_eq!(public_members(&jwk), case.public, "{}", case.name);
        let allowed: BTreeSet<&str> = ["kty", "crv", "x", "y", "n", "e", "kid", "alg", "use"].into();
        assert!(names(&jwk).is_subset(&allowed), "{}: {jwk}", case.name);
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            assert!(jwk.get(private).is_none(), "{}: {private}", case.name);
        }
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], case.key.algorithm().name());
        assert_eq!(jwk.get("kid").and_then(Value::as_str), case.key.kid(), "{}", case.name);
        // The thumbprint, computed independently: the required members, sorted (serde_json's
        // map is ordered by name), compact.
        let required = case.public.to_string();
        assert_eq!(
            case.key.jwk_thumbprint(),
            b64(digest::digest(&digest::SHA256, required.as_bytes())),
            "{}",
            case.name
        );
    }
}

#[test]
fn natural_algorithms_and_kids() {
    let alg = |key: Result<SigningKey, SignError>| key.map(|k| (k.algorithm(), k.kid().map(str::to_owned)));
    assert_eq!(alg(SigningKey::from_pkcs8_pem(RSA_2048_PEM, None)), Ok((Algorithm::Rs256, None)));
    assert_eq!(alg(SigningKey::from_pkcs8_pem(EC_P256_PEM, None)), Ok((Algorithm::Es256, None)));
    assert_eq!(alg(SigningKey::from_pkcs8_pem(ED25519_PEM, None)), Ok((Algorithm::EdDsa, None)));
    assert_eq!(alg(SigningKey::from_jwk(EC_P256_JWK, None)), Ok((Algorithm::Es256, Some("ec-p256".into()))));
    // The JWK's own `alg` is the default.
    let mut ps = json_of(RSA_2048_JWK);
    ps["alg"] = json!("PS256");
    assert_eq!(
        alg(SigningKey::from_jwk(&ps.to_string(), None)),
        Ok((Algorithm::Ps256, Some("rsa-2048".into())))
    );
    assert_eq!(
        alg(SigningKey::from_jwk(&ps.to_string(), Some(Algorithm::Ps256))).map(|a| a.0),
        Ok(Algorithm::Ps256)
    );
    // `from_jwk_or_pem` by the text's first character.
    assert_eq!(
        alg(SigningKey::from_jwk_or_pem(&format!("\n  {ED25519_JWK}"), None)).map(|a| a.0),
        Ok(Algorithm::EdDsa)
    );
    assert_eq!(alg(SigningKey::from_jwk_or_pem(RSA_2048_PEM, None)).map(|a| a.0), Ok(Algorithm::Rs256));
    // A PEM with a certificate-like section before the key: skipped.
    let with_other = format!("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n{EC_P256_PEM}");
    assert_eq!(alg(SigningKey::from_pkcs8_pem(&with_other, None)).map(|a| a.0), Ok(Algorithm::Es256));
    // `with_kid`.
    let key = SigningKey::from_pkcs8_pem(ED25519_PEM, None).map(|k| k.with_kid("k-9"));
    assert_eq!(key.as_ref().ok().and_then(SigningKey::kid), Some("k-9"));
    assert_eq!(key.map(|k| k.public_jwk()["kid"].clone()), Ok(json!("k-9")));
}

#[test]
fn client_assertions_verify_and_hold_exactly_their_claims() {
    let rng = SystemRandom::new();
    for case in cases() {
        let key = case.key.with_kid(format!("kid-{}", case.name));
        let case = Case { key, ..case };
        let audience = "https://id.example/token";
        let jwt = build_client_assertion(
            AssertionKey::PrivateKey(&case.key),
            "my-app",
            audience,
            now(),
            &JTI,
            &rng,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_verifies(&case, &jwt);
        let d = decode(&jwt);
        assert_eq!(
            d.header,
            json!({"alg": case.key.algorithm().name(), "typ": "JWT", "kid": format!("kid-{}", case.name)}),
            "{}",
            case.name
        );
        assert_eq!(
            d.claims,
            json!({
                "iss": "my-app", "sub": "my-app", "aud": audience, "jti": b64(JTI),
                "iat": NOW_SECS, "exp": NOW_SECS + 60,
            }),
            "{}",
            case.name
        );
    }
    // Without a kid, the header has none.
    let key = SigningKey::from_pkcs8_pem(ED25519_PEM, None).expect("a key");
    let jwt = build_client_assertion(AssertionKey::PrivateKey(&key), "app", "aud", now(), &JTI, &rng);
    assert_eq!(jwt.map(|j| decode(&j).header), Ok(json!({"alg": "EdDSA", "typ": "JWT"})));
    assert_eq!(CLIENT_ASSERTION_TYPE, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    assert!(CLIENT_ASSERTION_LIFETIME <= Duration::from_secs(300), "the contract: at most 5 minutes");
}

#[test]
fn client_secret_jwt_is_hs256_with_the_secret() {
    let secret = ClientSecret::new("a-client-secret-of-more-than-32-bytes");
    let auth = AssertionKey::ClientSecret(&secret);
    let jwt = build_client_assertion(auth, "my-app", "https://id.example", now(), &JTI, &SystemRandom::new())
        .expect("an assertion");
    let d = decode(&jwt);
    assert_eq!(d.header, json!({"alg": "HS256", "typ": "JWT"}));
    assert_eq!(names(&d.claims), BTreeSet::from(["iss", "sub", "aud", "jti", "iat", "exp"]));
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose_secret().as_bytes());
    assert!(hmac::verify(&key, d.signing_input.as_bytes(), &d.signature).is_ok());
    let other = hmac::Key::new(hmac::HMAC_SHA256, b"another secret");
    assert!(hmac::verify(&other, d.signing_input.as_bytes(), &d.signature).is_err());
    #[cfg(feature = "verify")]
    {
        let keys = oidc_refresh_core::JwkSet::parse(br#"{"keys":[]}"#).expect("a set");
        assert_eq!(
            oidc_refresh_core::verify_signature(&jwt, &keys, Some(&secret), None),
            Ok(Algorithm::Hs256)
        );
    }
    // An empty secret, an empty client id or audience: refused.
    let empty = ClientSecret::new("");
    let rng = SystemRandom::new();
    let build = |auth, id, aud| build_client_assertion(auth, id, aud, now(), &JTI, &rng).err();
    assert_eq!(build(AssertionKey::ClientSecret(&empty), "app", "aud"), Some(SignError::NoSecret));
    assert!(matches!(build(auth, "", "aud"), Some(SignError::InvalidInput { .. })));
    assert!(matches!(build(auth, "app", ""), Some(SignError::InvalidInput { .. })));
}

#[test]
fn dpop_proofs_verify_and_hold_exactly_their_claims() {
    let rng = SystemRandom::new();
    let token = AccessToken::new("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU");
    for case in cases() {
        let uri = http::Uri::from_static("https://Server.Example:443/token?query=1#fragment");
        let proof = build_dpop_proof(&case.key, &http::Method::POST, &uri, now(), &JTI, None, None, &rng)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_verifies(&case, &proof);
        let d = decode(&proof);
        assert_eq!(
            d.header,
            json!({"typ": "dpop+jwt", "alg": case.key.algorithm().name(), "jwk": case.public}),
            "{}",
            case.name
        );
        // The header's key is the key the server binds tokens to (`jkt`).
        assert_eq!(
            b64(digest::digest(&digest::SHA256, d.header["jwk"].to_string().as_bytes())),
            case.key.jwk_thumbprint()
        );
        assert_eq!(
            d.claims,
            json!({"jti": b64(JTI), "htm": "POST", "htu": "https://server.example/token", "iat": NOW_SECS}),
            "{}",
            case.name
        );
        // A resource request: the nonce and the access token's hash.
        let uri = http::Uri::from_static("http://127.0.0.1:8080/userinfo?x=1");
        let proof = build_dpop_proof(
            &case.key,
            &http::Method::GET,
            &uri,
            now(),
            &[1; 16],
            Some("n-1"),
            Some(&token),
            &rng,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_verifies(&case, &proof);
        let d = decode(&proof);
        assert_eq!(
            d.claims,
            json!({
                "jti": b64([1; 16]), "htm": "GET", "htu": "http://127.0.0.1:8080/userinfo", "iat": NOW_SECS,
                "nonce": "n-1",
                // RFC 9449 §7.1, its example access token and `ath`.
                "ath": "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo",
            }),
            "{}",
            case.name
        );
    }
}

#[test]
fn ath_is_the_sha256_of_the_token() {
    let key = SigningKey::from_jwk(ED25519_JWK, None).expect("a key");
    let rng = SystemRandom::new();
    for token in ["at-1", "a much longer access token with spaces and ünïcödé", "x"] {
        let at = AccessToken::new(token);
        let proof = build_dpop_proof(
            &key,
            &http::Method::GET,
            &"https://rs/x".parse().expect("a URI"),
            now(),
            &JTI,
            None,
            Some(&at),
            &rng,
        )
        .expect("a proof");
        let want = b64(digest::digest(&digest::SHA256, token.as_bytes()));
        assert_eq!(decode(&proof).claims["ath"], json!(want), "{token}");
    }
}

#[test]
fn htu_strips_query_and_fragment() {
    let key = SigningKey::from_jwk(ED25519_JWK, None).expect("a key");
    let rng = SystemRandom::new();
    let htu = |uri: &str| {
        let uri: http::Uri = uri.parse().expect("a URI");
        build_dpop_proof(&key, &http::Method::PUT, &uri, now(), &JTI, None, None, &rng)
            .map(|p| decode(&p).claims["htu"].as_str().map(str::to_owned))
    };
    let cases = [
        ("https://rs.example/api/v1/items?page=2&sort=asc", "https://rs.example/api/v1/items"),
        ("https://rs.example/api#section", "https://rs.example/api"),
        ("https://rs.example", "https://rs.example/"),
        ("https://rs.example:8443/a?b#c", "https://rs.example:8443/a"),
        ("http://localhost:80/cb?code=x", "http://localhost/cb"),
    ];
    for (uri, want) in cases {
        assert_eq!(htu(uri), Ok(Some(want.to_owned())), "{uri}");
    }
    for uri in ["/relative/path", "ftp://files.example/x"] {
        assert!(matches!(htu(uri), Err(SignError::InvalidInput { .. })), "{uri}");
    }
}

#[test]
fn signatures_are_fresh_for_ecdsa_and_deterministic_for_ed25519() {
    let rng = SystemRandom::new();
    let input = b"eyJhbGciOiJFUzI1NiJ9.e30";
    let ec = SigningKey::from_jwk(EC_P256_JWK, None).expect("a key");
    let (a, b) = (ec.sign(input, &rng).expect("signed"), ec.sign(input, &rng).expect("signed"));
    assert_eq!((a.len(), b.len()), (64, 64), "R || S, never DER");
    assert_ne!(a, b);
    let ed = SigningKey::from_jwk(ED25519_JWK, None).expect("a key");
    assert_eq!(ed.sign(input, &rng), ed.sign(input, &rng));
    let rsa = SigningKey::from_pkcs8_pem(RSA_2048_PEM, None).expect("a key");
    assert_eq!(rsa.sign(input, &rng).map(|s| s.len()), Ok(256));
}

#[test]
fn rfc_thumbprints() {
    // RFC 7638 §3.1: the RSA key of RFC 7517 A.2, whose public half is that section's example.
    let rsa = SigningKey::from_jwk(RFC7517_RSA_JWK, None).expect("the RFC's key");
    assert_eq!(rsa.jwk_thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    assert_eq!((rsa.algorithm(), rsa.kid()), (Algorithm::Rs256, Some("2011-04-29")));
    // RFC 8037 A.1 and A.3.
    let ed = SigningKey::from_jwk(
        r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        None,
    )
    .expect("the RFC's key");
    assert_eq!(ed.jwk_thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    // The same key from PEM and JWK: one thumbprint.
    let (pem, jwk) =
        (SigningKey::from_pkcs8_pem(RSA_2048_PEM, None), SigningKey::from_jwk(RSA_2048_JWK, None));
    assert_eq!(pem.map(|k| k.jwk_thumbprint()), jwk.map(|k| k.jwk_thumbprint()));
}

#[test]
fn weak_unsupported_and_malformed_keys_are_refused() {
    assert_eq!(SigningKey::from_pkcs8_pem(RSA_1024_PEM, None).err(), Some(SignError::WeakKey { bits: 1024 }));
    assert_eq!(SigningKey::from_jwk(RSA_1024_JWK, None).err(), Some(SignError::WeakKey { bits: 1024 }));
    let unsupported = |r: Result<SigningKey, SignError>| matches!(r, Err(SignError::UnsupportedKey { .. }));
    assert!(unsupported(SigningKey::from_pkcs8_pem(EC_P384_PEM, None)));
    assert!(unsupported(SigningKey::from_pkcs8_pem(RSA_2048_PKCS1, None)));
    let e = SigningKey::from_pkcs8_pem(RSA_2048_PKCS1, None).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("openssl pkcs8 -topk8"), "{e}");
    assert!(unsupported(SigningKey::from_jwk(r#"{"kty":"oct","k":"c2VjcmV0"}"#, None)));
    // Two private keys in one PEM; DER instead of PEM; a public JWK.
    let two = format!("{EC_P256_PEM}{ED25519_PEM}");
    assert!(matches!(SigningKey::from_pkcs8_pem(&two, None), Err(SignError::InvalidKey { .. })));
    let der_text = String::from_utf8_lossy(RSA_2048_DER).into_owned();
    assert!(matches!(SigningKey::from_pkcs8_pem(&der_text, None), Err(SignError::InvalidKey { .. })));
    let mut public = json_of(EC_P256_JWK);
    public.as_object_mut().map(|m| m.remove("d"));
    assert_eq!(
        SigningKey::from_jwk(&public.to_string(), None).err(),
        Some(SignError::InvalidKey { reason: "a public JWK: the private key (`d`) is missing" })
    );
}

#[test]
fn keys_that_do_not_fit_the_algorithm_or_forbid_signing() {
    let mismatch = |r: Result<SigningKey, SignError>| matches!(r, Err(SignError::AlgorithmMismatch { .. }));
    assert!(mismatch(SigningKey::from_pkcs8_pem(RSA_2048_PEM, Some(Algorithm::Es256))));
    assert!(mismatch(SigningKey::from_pkcs8_pem(RSA_2048_PEM, Some(Algorithm::Rs512))));
    assert!(mismatch(SigningKey::from_pkcs8_pem(RSA_2048_PEM, Some(Algorithm::Hs256))));
    assert!(mismatch(SigningKey::from_jwk(EC_P256_JWK, Some(Algorithm::EdDsa))));
    assert!(mismatch(SigningKey::from_jwk(ED25519_JWK, Some(Algorithm::Es256))));
    let e = SigningKey::from_pkcs8_pem(RSA_2048_PEM, Some(Algorithm::Es256)).err();
    assert_eq!(e, Some(SignError::AlgorithmMismatch { alg: "ES256", key: "RSA" }));
    // The JWK's `alg`, `use` and `key_ops`.
    let forbidden = |edit: Value, alg: Option<Algorithm>| {
        let mut jwk = json_of(RSA_2048_JWK);
        for (k, v) in edit.as_object().into_iter().flatten() {
            jwk[k] = v.clone();
        }
        SigningKey::from_jwk(&jwk.to_string(), alg).err()
    };
    let usage = |e: Option<SignError>| matches!(e, Some(SignError::UsageForbidden { .. }));
    assert!(usage(forbidden(json!({"alg": "RS256"}), Some(Algorithm::Ps256))));
    assert!(usage(forbidden(json!({"use": "enc"}), None)));
    assert!(usage(forbidden(json!({"key_ops": ["verify"]}), None)));
    assert!(usage(forbidden(json!({"alg": "RSA-OAEP-256"}), None)));
    // A JWK naming an algorithm this crate does not sign with.
    assert_eq!(
        forbidden(json!({"alg": "RS384"}), None),
        Some(SignError::AlgorithmMismatch { alg: "RS384", key: "RSA" })
    );
    assert_eq!(
        forbidden(json!({"alg": "RS256", "use": "sig", "key_ops": ["sign"]}), Some(Algorithm::Rs256)),
        None
    );
    // RFC 7517 A.2's EC key says `use` `enc`.
    let enc = r#"{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","d":"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE","use":"enc","kid":"1"}"#;
    assert!(usage(SigningKey::from_jwk(enc, None).err()));
    assert!(SigningKey::from_jwk(&enc.replace("enc", "sig"), None).is_ok());
}

#[test]
fn inconsistent_private_and_public_parts() {
    let rng = SystemRandom::new();
    // An EC JWK whose `d` is another key's: refused when the ECDSA key pair is made.
    let mut ec = json_of(EC_P256_JWK);
    ec["d"] = json!("870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE");
    let key = SigningKey::from_jwk(&ec.to_string(), None).expect("read; checked when first used");
    assert!(matches!(key.prepare(&rng), Err(SignError::InvalidKey { .. })));
    assert!(matches!(key.sign(b"x", &rng), Err(SignError::InvalidKey { .. })));
    let good = SigningKey::from_jwk(EC_P256_JWK, None).expect("a key");
    assert_eq!(good.prepare(&rng), Ok(()));
    // Ed25519 and RSA keys are checked when read.
    let mut ed = json_of(ED25519_JWK);
    ed["x"] = json!("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    assert!(matches!(SigningKey::from_jwk(&ed.to_string(), None), Err(SignError::InvalidKey { .. })));
    let mut rsa = json_of(RSA_2048_JWK);
    rsa["qi"] = json_of(RFC7517_RSA_JWK)["qi"].clone();
    let e = SigningKey::from_jwk(&rsa.to_string(), None).err();
    assert!(matches!(e, Some(SignError::InvalidKey { .. })), "{e:?}");
    let mut rsa = json_of(RSA_2048_JWK);
    rsa.as_object_mut().map(|m| m.remove("dq"));
    assert!(matches!(SigningKey::from_jwk(&rsa.to_string(), None), Err(SignError::InvalidKey { .. })));
}

#[test]
fn nothing_shows_key_material() {
    let jwk = json_of(RSA_2048_JWK);
    let secrets: Vec<String> = ["d", "p", "q", "dp", "dq", "qi"]
        .iter()
        .map(|m| jwk[m].as_str().expect("a member")[..16].to_owned())
        .collect();
    let key = SigningKey::from_jwk(RSA_2048_JWK, None).expect("a key");
    assert_eq!(format!("{key:?}"), r#"SigningKey { algorithm: RS256, kid: Some("rsa-2048") }"#);
    let mut shown = format!("{key:#?} {}", key.public_jwk());
    // Errors from broken copies of the key.
    for member in ["d", "p", "q", "dp", "dq", "qi"] {
        let mut broken = jwk.clone();
        let value = broken[member].as_str().expect("a member").to_owned();
        broken[member] = json!(format!("{value}!"));
        let e = SigningKey::from_jwk(&broken.to_string(), None).expect_err("refused");
        shown.push_str(&format!("{e} {e:?}"));
        broken[member] = json!(&value[1..]);
        if let Err(e) = SigningKey::from_jwk(&broken.to_string(), None) {
            shown.push_str(&format!("{e} {e:?}"));
        }
    }
    for secret in &secrets {
        assert!(!shown.contains(secret.as_str()), "{shown}");
    }
}

#[test]
fn nonces_from_responses() {
    let response = |nonce: &str| {
        http::Response::builder().status(400).header("DPoP-Nonce", nonce).body(()).expect("a response")
    };
    assert_eq!(dpop_nonce(&response("eyJ7S_zG.9k2")), Some("eyJ7S_zG.9k2"));
    for bad in ["with space", "\"quoted\"", "back\\slash", " "] {
        assert_eq!(dpop_nonce(&response(bad)), None, "{bad:?}");
    }
    let mut nonces = DpopNonces::with_capacity(4);
    let uri = http::Uri::from_static("https://as.example/token");
    nonces.handle_response(&uri, &response("n-1"));
    nonces.handle_response(&uri, &response("has space"));
    nonces.handle_response(&uri, &http::Response::new(()));
    assert_eq!(nonces.get(&uri), Some("n-1"), "an invalid or missing nonce keeps the last one");
    nonces.handle_response(&uri, &response("n-2"));
    assert_eq!(nonces.get(&http::Uri::from_static("https://AS.example/other?x")), Some("n-2"));
    assert_eq!(nonces.get(&http::Uri::from_static("https://as.example:8443/token")), None);
    assert_eq!(nonces.get(&http::Uri::from_static("/token")), None);
}

#[test]
fn nonce_store_never_grows_past_its_capacity() {
    for capacity in [1, 3, 16] {
        let mut nonces = DpopNonces::with_capacity(capacity);
        let uri = |i: usize| format!("https://rs-{i}.example/api").parse::<http::Uri>().expect("a URI");
        for i in 0..10 * capacity {
            let response =
                http::Response::builder().header("DPoP-Nonce", format!("n-{i}")).body(()).expect("ok");
            nonces.handle_response(&uri(i), &response);
            assert!(nonces.len() <= capacity);
        }
        assert_eq!(nonces.len(), capacity);
        // The newest `capacity` origins are kept, the others were evicted.
        for i in 0..10 * capacity {
            let want = (i >= 9 * capacity).then(|| format!("n-{i}"));
            assert_eq!(nonces.get(&uri(i)).map(str::to_owned), want, "{capacity} {i}");
        }
    }
}

#[test]
fn use_dpop_nonce_errors() {
    let refused = |body: &'static [u8]| {
        let response =
            http::Response::builder().status(400).header("DPoP-Nonce", "n-1").body(body).expect("ok");
        parse_refresh_response(&response).expect_err("an error")
    };
    let e = refused(br#"{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}"#);
    assert!(is_use_dpop_nonce(&e));
    assert!(!e.is_reauth_required(), "the refresh token is not spent");
    assert!(!is_use_dpop_nonce(&refused(br#"{"error":"invalid_grant"}"#)));
    assert!(!is_use_dpop_nonce(&refused(br#"{"error":"invalid_dpop_proof"}"#)));
    // A nonce given to a proof is checked too.
    let key = SigningKey::from_jwk(ED25519_JWK, None).expect("a key");
    let uri = http::Uri::from_static("https://as.example/token");
    let proof = build_dpop_proof(
        &key,
        &http::Method::POST,
        &uri,
        now(),
        &JTI,
        Some("a b"),
        None,
        &SystemRandom::new(),
    );
    assert!(matches!(proof, Err(SignError::InvalidInput { .. })));
}
