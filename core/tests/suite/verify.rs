//! ID-token signatures (feature `verify`), through the public API: every algorithm, the
//! hostile tokens of issue 13, single-byte changes, the key-set cache on a virtual clock,
//! key-set parsing and `at_hash`.
//!
//! Ed25519 and ECDSA keys are generated here with `ring`; RSA keys come from
//! `tests/fixtures/` (see its README: `ring` cannot generate RSA keys).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use oidc_refresh_core::{
    Algorithm, ClientSecret, Error, IdTokenErrorKind, JwkSet, KeySetCache, ProtocolErrorKind, SignatureError,
    UnixTime, Verdict, at_hash_matches, build_key_set_request, check_jwks_uri, http, parse_key_set_response,
    verify_signature,
};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use ring::{digest, hmac};
use serde_json::{Value, json};
use std::time::Duration;

const RSA_2048: &[u8] = include_bytes!("../fixtures/rsa-2048.pk8.der");
const RSA_3072: &[u8] = include_bytes!("../fixtures/rsa-3072.pk8.der");
const RSA_2048_SPKI_DER: &[u8] = include_bytes!("../fixtures/rsa-2048.spki.der");
const RSA_2048_SPKI_PEM: &str = include_str!("../fixtures/rsa-2048.spki.pem");
const RSA_1024_JWKS: &str = include_str!("../fixtures/rsa-1024.jwks.json");
const RSA_1024_JWT: &str = include_str!("../fixtures/rsa-1024.jwt");

const T0: u64 = 1_700_000_000;

fn t(secs: u64) -> UnixTime {
    UnixTime::from_secs(secs)
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A private key of any kind this crate verifies, able to sign and to show its public JWK.
enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, &'static str, usize),
    Ed(Ed25519KeyPair),
}

impl Signer {
    fn rsa(pkcs8: &[u8]) -> Signer {
        Signer::Rsa(RsaKeyPair::from_pkcs8(pkcs8).expect("an RSA PKCS#8 fixture"))
    }

    fn ec(alg: &'static sig::EcdsaSigningAlgorithm) -> Signer {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("an EC key");
        let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("an EC key");
        if std::ptr::eq(alg, &sig::ECDSA_P256_SHA256_FIXED_SIGNING) {
            Signer::Ec(pair, "P-256", 32)
        } else {
            Signer::Ec(pair, "P-384", 48)
        }
    }

    fn ed() -> Signer {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("an Ed25519 key");
        Signer::Ed(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("an Ed25519 key"))
    }

    /// The public JWK, with `extra` members merged in (`null` removes one).
    fn jwk(&self, extra: &Value) -> Value {
        let mut jwk = match self {
            Signer::Rsa(pair) => {
                let c: sig::RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
                json!({"kty": "RSA", "n": b64(&c.n), "e": b64(&c.e)})
            }
            Signer::Ec(pair, crv, len) => {
                let point = pair.public_key().as_ref();
                json!({"kty": "EC", "crv": crv, "x": b64(&point[1..=*len]), "y": b64(&point[1 + len..])})
            }
            Signer::Ed(pair) => json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key())}),
        };
        for (k, v) in extra.as_object().into_iter().flatten() {
            if v.is_null() {
                jwk.as_object_mut().map(|o| o.remove(k));
            } else {
                jwk[k] = v.clone();
            }
        }
        jwk
    }

    /// The raw signature of `input` for `alg`.
    fn sign_bytes(&self, alg: &str, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Signer::Rsa(pair) => {
                let padding: &'static dyn sig::RsaEncoding = match alg {
                    "RS256" => &sig::RSA_PKCS1_SHA256,
                    "RS384" => &sig::RSA_PKCS1_SHA384,
                    "RS512" => &sig::RSA_PKCS1_SHA512,
                    "PS256" => &sig::RSA_PSS_SHA256,
                    "PS384" => &sig::RSA_PSS_SHA384,
                    _ => &sig::RSA_PSS_SHA512,
                };
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(padding, &rng, input, &mut out).expect("an RSA signature");
                out
            }
            Signer::Ec(pair, ..) => pair.sign(&rng, input).expect("an ECDSA signature").as_ref().to_vec(),
            Signer::Ed(pair) => pair.sign(input).as_ref().to_vec(),
        }
    }

    /// A compact JWS of `claims` with `header`, signed with this key.
    fn token(&self, header: &Value, claims: &Value) -> String {
        let input = signing_input(header, claims);
        let alg = header["alg"].as_str().unwrap_or("RS256");
        format!("{input}.{}", b64(self.sign_bytes(alg, input.as_bytes())))
    }
}

fn signing_input(header: &Value, claims: &Value) -> String {
    format!("{}.{}", b64(header.to_string()), b64(claims.to_string()))
}

fn claims() -> Value {
    json!({"iss": "https://id.example", "sub": "user-1", "aud": "my-app", "iat": T0, "exp": T0 + 3600})
}

fn hs_token(alg: &str, key: &[u8], header: &Value) -> String {
    let algorithm = match alg {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        _ => hmac::HMAC_SHA512,
    };
    let input = signing_input(header, &claims());
    let tag = hmac::sign(&hmac::Key::new(algorithm, key), input.as_bytes());
    format!("{input}.{}", b64(tag))
}

fn set(keys: &[Value]) -> JwkSet {
    JwkSet::parse(json!({ "keys": keys }).to_string().as_bytes()).expect("a JWK Set")
}

fn rsa_2048() -> Signer {
    Signer::rsa(RSA_2048)
}

/// Replaces the signature segment of `jwt` with `signature`.
fn with_signature(jwt: &str, signature: &[u8]) -> String {
    let cut = jwt.rfind('.').expect("a compact JWS");
    format!("{}.{}", &jwt[..cut], b64(signature))
}

fn signature_of(jwt: &str) -> Vec<u8> {
    let cut = jwt.rfind('.').expect("a compact JWS");
    URL_SAFE_NO_PAD.decode(&jwt[cut + 1..]).expect("base64url")
}

// ---------------------------------------------------------------------------------------
// Every algorithm
// ---------------------------------------------------------------------------------------

#[test]
fn every_algorithm_verifies() {
    let rsa = rsa_2048();
    let rsa3072 = Signer::rsa(RSA_3072);
    let p256 = Signer::ec(&sig::ECDSA_P256_SHA256_FIXED_SIGNING);
    let p384 = Signer::ec(&sig::ECDSA_P384_SHA384_FIXED_SIGNING);
    let ed = Signer::ed();
    let keys = set(&[
        rsa.jwk(&json!({"kid": "rsa", "use": "sig"})),
        rsa3072.jwk(&json!({"kid": "rsa3072"})),
        p256.jwk(&json!({"kid": "p256", "alg": "ES256"})),
        p384.jwk(&json!({"kid": "p384", "key_ops": ["verify"]})),
        ed.jwk(&json!({"kid": "ed"})),
        // Never used for HS*: skipped at parse.
        json!({"kty": "oct", "kid": "hmac", "k": b64("s3cret-s3cret-s3cret-s3cret-s3cret")}),
    ]);
    assert_eq!(keys.len(), 5);
    let mut verified = Vec::new();
    for (alg, signer, kid) in [
        (Algorithm::Rs256, &rsa, "rsa"),
        (Algorithm::Rs384, &rsa, "rsa"),
        (Algorithm::Rs512, &rsa3072, "rsa3072"),
        (Algorithm::Ps256, &rsa, "rsa"),
        (Algorithm::Ps384, &rsa3072, "rsa3072"),
        (Algorithm::Ps512, &rsa, "rsa"),
        (Algorithm::Es256, &p256, "p256"),
        (Algorithm::Es384, &p384, "p384"),
        (Algorithm::EdDsa, &ed, "ed"),
    ] {
        let jwt = signer.token(&json!({"alg": alg.name(), "kid": kid, "typ": "JWT"}), &claims());
        assert_eq!(verify_signature(&jwt, &keys, None, None), Ok(alg), "{alg}");
        assert_eq!(verify_signature(&jwt, &keys, None, Some(&[alg])), Ok(alg), "{alg}");
        verified.push(alg);
    }
    let secret = ClientSecret::new("a-client-secret-of-some-length-0123456789");
    for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
        let jwt = hs_token(alg.name(), secret.expose_secret().as_bytes(), &json!({"alg": alg.name()}));
        assert_eq!(verify_signature(&jwt, &keys, Some(&secret), None), Ok(alg), "{alg}");
        // The kid of the oct key changes nothing: HS* is checked with the secret only.
        let jwt = hs_token(
            alg.name(),
            secret.expose_secret().as_bytes(),
            &json!({"alg": alg.name(), "kid": "hmac"}),
        );
        assert_eq!(verify_signature(&jwt, &keys, Some(&secret), None), Ok(alg), "{alg}");
        assert_eq!(
            verify_signature(&jwt, &keys, Some(&ClientSecret::new("other")), None),
            Err(SignatureError::BadSignature)
        );
        verified.push(alg);
    }
    assert_eq!(verified, Algorithm::ALL);
}

#[test]
fn kid_is_optional_only_with_exactly_one_candidate() {
    let rsa = rsa_2048();
    let ed = Signer::ed();
    let other_ed = Signer::ed();
    let jwt = ed.token(&json!({"alg": "EdDSA"}), &claims());
    // One Ed25519 key among keys of other types: the only candidate.
    let keys = set(&[rsa.jwk(&json!({"kid": "r"})), ed.jwk(&json!({"kid": "e"}))]);
    assert_eq!(verify_signature(&jwt, &keys, None, None), Ok(Algorithm::EdDsa));
    // Two candidates, no kid: ambiguous, whichever would verify.
    let keys = set(&[ed.jwk(&json!({"kid": "e"})), other_ed.jwk(&json!({"kid": "o"}))]);
    assert_eq!(verify_signature(&jwt, &keys, None, None), Err(SignatureError::Ambiguous));
    // A kid picks the one: the same set verifies.
    let jwt = ed.token(&json!({"alg": "EdDSA", "kid": "e"}), &claims());
    assert_eq!(verify_signature(&jwt, &keys, None, None), Ok(Algorithm::EdDsa));
    // A second candidate with a use/alg that excludes it does not count.
    let keys = set(&[ed.jwk(&json!({})), other_ed.jwk(&json!({"use": "enc"}))]);
    let jwt = ed.token(&json!({"alg": "EdDSA"}), &claims());
    assert_eq!(verify_signature(&jwt, &keys, None, None), Ok(Algorithm::EdDsa));
    // Several keys with the header's kid: each is tried.
    let keys = set(&[other_ed.jwk(&json!({"kid": "same"})), ed.jwk(&json!({"kid": "same"}))]);
    let jwt = ed.token(&json!({"alg": "EdDSA", "kid": "same"}), &claims());
    assert_eq!(verify_signature(&jwt, &keys, None, None), Ok(Algorithm::EdDsa));
    // A key without a kid does not count when the header has one.
    let keys = set(&[ed.jwk(&json!({}))]);
    assert_eq!(verify_signature(&jwt, &keys, None, None), Err(SignatureError::UnknownKid));
}

// ---------------------------------------------------------------------------------------
// Hostile tokens
// ---------------------------------------------------------------------------------------

#[test]
fn tampered_payload_and_flipped_signature_bits_are_refused() {
    for signer in [rsa_2048(), Signer::ec(&sig::ECDSA_P256_SHA256_FIXED_SIGNING), Signer::ed()] {
        let alg = match signer {
            Signer::Rsa(_) => "PS256",
            Signer::Ec(..) => "ES256",
            Signer::Ed(_) => "EdDSA",
        };
        let keys = set(&[signer.jwk(&json!({"kid": "k"}))]);
        let header = json!({"alg": alg, "kid": "k"});
        let jwt = signer.token(&header, &claims());
        assert!(verify_signature(&jwt, &keys, None, None).is_ok());
        // The payload changed: `sub` of another user, under the original signature.
        let mut forged = claims();
        forged["sub"] = json!("admin");
        let tampered = format!("{}.{}", signing_input(&header, &forged), b64(signature_of(&jwt)));
        assert_eq!(
            verify_signature(&tampered, &keys, None, None),
            Err(SignatureError::BadSignature),
            "{alg}"
        );
        // Every bit of the signature flipped in turn (a sample of positions for RSA).
        let signature = signature_of(&jwt);
        for bit in (0..signature.len() * 8).step_by(if alg == "PS256" { 61 } else { 1 }) {
            let mut flipped = signature.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let jwt = with_signature(&jwt, &flipped);
            assert_eq!(
                verify_signature(&jwt, &keys, None, None),
                Err(SignatureError::BadSignature),
                "{alg} {bit}"
            );
        }
        // Truncated or extended signatures.
        let short = with_signature(&jwt, &signature[..signature.len() - 1]);
        assert_eq!(verify_signature(&short, &keys, None, None), Err(SignatureError::BadSignature));
        let mut long = signature.clone();
        long.push(0);
        assert_eq!(
            verify_signature(&with_signature(&jwt, &long), &keys, None, None),
            Err(SignatureError::BadSignature)
        );
        assert_eq!(
            verify_signature(&with_signature(&jwt, &[]), &keys, None, None),
            Err(SignatureError::BadSignature)
        );
    }
}

#[test]
fn alg_none_is_refused_whatever_the_keys() {
    let rsa = rsa_2048();
    let keys = set(&[rsa.jwk(&json!({"kid": "k"}))]);
    let secret = ClientSecret::new("s3cret");
    for header in [json!({"alg": "none"}), json!({"alg": "none", "kid": "k"}), json!({"alg": "NoNe"})] {
        let unsigned = format!("{}.", signing_input(&header, &claims()));
        assert_eq!(verify_signature(&unsigned, &keys, Some(&secret), None), Err(SignatureError::AlgNone));
        // With a signature of the real key over the same input: still refused.
        let signed =
            format!("{unsigned}{}", b64(rsa.sign_bytes("RS256", unsigned.trim_end_matches('.').as_bytes())));
        assert_eq!(verify_signature(&signed, &keys, Some(&secret), None), Err(SignatureError::AlgNone));
    }
    // Other unknown or missing algs.
    for header in [
        json!({"alg": "ES512"}),
        json!({"alg": "RS1"}),
        json!({"alg": "rs256"}),
        json!({}),
        json!({"alg": 256}),
    ] {
        let jwt = format!("{}.c2ln", signing_input(&header, &claims()));
        assert_eq!(
            verify_signature(&jwt, &keys, None, None),
            Err(SignatureError::UnsupportedAlg),
            "{header}"
        );
    }
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    // The classic confusion attack: the verifier is tricked into using the RSA public key
    // (as n, its DER SubjectPublicKeyInfo or its PEM) as an HMAC key.
    let rsa = rsa_2048();
    let jwk = rsa.jwk(&json!({"kid": "k"}));
    let keys = set(std::slice::from_ref(&jwk));
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap_or_default()).expect("n");
    // The fixture's SPKI really is this key's public key.
    let spki = STANDARD
        .decode(RSA_2048_SPKI_PEM.lines().filter(|l| !l.starts_with("-----")).collect::<String>())
        .expect("PEM");
    assert_eq!(spki, RSA_2048_SPKI_DER);
    assert!(RSA_2048_SPKI_DER.windows(n.len()).any(|w| w == n.as_slice()));
    let secret = ClientSecret::new("the-real-client-secret");
    for key in [
        &n[..],
        RSA_2048_SPKI_DER,
        RSA_2048_SPKI_PEM.as_bytes(),
        jwk["n"].as_str().unwrap_or_default().as_bytes(),
    ] {
        for header in [json!({"alg": "HS256", "kid": "k"}), json!({"alg": "HS256"})] {
            let jwt = hs_token("HS256", key, &header);
            assert_eq!(verify_signature(&jwt, &keys, None, None), Err(SignatureError::NoSecret));
            assert_eq!(verify_signature(&jwt, &keys, Some(&secret), None), Err(SignatureError::BadSignature));
        }
    }
    // An `oct` key in the set holding those bytes is skipped, never used.
    let with_oct = set(&[jwk, json!({"kty": "oct", "kid": "k", "k": b64(&n)})]);
    assert_eq!(with_oct.len(), 1);
    let jwt = hs_token("HS256", &n, &json!({"alg": "HS256", "kid": "k"}));
    assert_eq!(verify_signature(&jwt, &with_oct, None, None), Err(SignatureError::NoSecret));
    // An empty secret is no secret.
    let jwt = hs_token("HS256", b"", &json!({"alg": "HS256"}));
    assert_eq!(
        verify_signature(&jwt, &with_oct, Some(&ClientSecret::new("")), None),
        Err(SignatureError::NoSecret)
    );
}

#[test]
fn unknown_kid_is_refused() {
    let ed = Signer::ed();
    let keys = set(&[ed.jwk(&json!({"kid": "2024"}))]);
    let jwt = ed.token(&json!({"alg": "EdDSA", "kid": "2025"}), &claims());
    let e = verify_signature(&jwt, &keys, None, None);
    assert_eq!(e, Err(SignatureError::UnknownKid));
    assert!(e.is_err_and(SignatureError::may_need_new_keys));
}

#[test]
fn embedded_jwk_header_member_is_never_used() {
    let provider = rsa_2048();
    let attacker = Signer::ed();
    let keys = set(&[provider.jwk(&json!({"kid": "p"}))]);
    let attacker_jwk = attacker.jwk(&json!({"kid": "a"}));
    // Signed by the attacker, whose public key rides in the header.
    for (header, want) in [
        (json!({"alg": "EdDSA", "jwk": attacker_jwk}), SignatureError::NoCandidate),
        (json!({"alg": "EdDSA", "kid": "a", "jwk": attacker_jwk}), SignatureError::UnknownKid),
        (json!({"alg": "EdDSA", "kid": "p", "jwk": attacker_jwk}), SignatureError::UnknownKid),
        (
            json!({"alg": "EdDSA", "x5c": ["MIIB"], "x5u": "https://attacker.example/cert"}),
            SignatureError::NoCandidate,
        ),
    ] {
        let jwt = attacker.token(&header, &claims());
        assert_eq!(verify_signature(&jwt, &keys, None, None), Err(want), "{header}");
    }
    // An RS256 token signed by another RSA key, the attacker's JWK in the header.
    let other = Signer::rsa(RSA_3072);
    let jwt = other.token(&json!({"alg": "RS256", "jwk": other.jwk(&json!({}))}), &claims());
    assert_eq!(verify_signature(&jwt, &keys, None, None), Err(SignatureError::BadSignature));
    // The set's key verifies, whatever the header carries besides.
    let jwt = provider.token(&json!({"alg": "RS256", "kid": "p", "jwk": attacker_jwk}), &claims());
    assert_eq!(verify_signature(&jwt, &keys, None, None), Ok(Algorithm::Rs256));
}

#[test]
fn jku_header_member_is_never_contacted() {
    let provider = Signer::ed();
    let attacker = Signer::ed();
    let jwks_uri: http::Uri = "https://id.example/jwks".parse().expect("a URI");
    let mut cache = KeySetCache::new(jwks_uri.clone());
    cache.handle_key_set(t(T0), set(&[provider.jwk(&json!({"kid": "p"}))]));
    let header = json!({"alg": "EdDSA", "kid": "evil", "jku": "https://attacker.example/jwks"});
    let jwt = attacker.token(&header, &claims());
    // Within the cool-down: refused, nothing to fetch, and the only URL there is to fetch is
    // the configured one.
    assert_eq!(cache.verify(t(T0 + 1), &jwt, None), Verdict::Refused(SignatureError::UnknownKid));
    assert_eq!(cache.build_request().uri(), &jwks_uri);
    // After it, a refetch of the provider's set (never of the jku), which does not help.
    assert_eq!(cache.verify(t(T0 + 61), &jwt, None), Verdict::FetchKeys);
    assert_eq!(cache.build_request().uri(), &jwks_uri);
    cache.handle_key_set(t(T0 + 61), set(&[provider.jwk(&json!({"kid": "p"}))]));
    assert_eq!(cache.verify(t(T0 + 62), &jwt, None), Verdict::Refused(SignatureError::UnknownKid));
    // A jku on a token the provider signed changes nothing either.
    let jwt = provider
        .token(&json!({"alg": "EdDSA", "kid": "p", "jku": "https://attacker.example/jwks"}), &claims());
    assert_eq!(cache.verify(t(T0 + 63), &jwt, None), Verdict::Verified(Algorithm::EdDsa));
    assert_eq!(cache.fetches(), 2);
}

#[test]
fn keys_of_the_wrong_type_or_curve_are_no_candidates() {
    let rsa = rsa_2048();
    let p256 = Signer::ec(&sig::ECDSA_P256_SHA256_FIXED_SIGNING);
    let p384 = Signer::ec(&sig::ECDSA_P384_SHA384_FIXED_SIGNING);
    let ed = Signer::ed();
    // Each token is signed properly, but the set only holds a key of another type or curve
    // under the token's kid.
    let cases = [
        (&rsa, "RS256", p256.jwk(&json!({"kid": "k"}))),
        (&p256, "ES256", p384.jwk(&json!({"kid": "k"}))),
        (&p384, "ES384", p256.jwk(&json!({"kid": "k"}))),
        (&p256, "ES256", rsa.jwk(&json!({"kid": "k"}))),
        (&ed, "EdDSA", p256.jwk(&json!({"kid": "k"}))),
        // The right key material labelled with another curve.
        (&p256, "ES256", p256.jwk(&json!({"kid": "k", "crv": "P-384"}))),
        (&ed, "EdDSA", ed.jwk(&json!({"kid": "k", "crv": "X25519"}))),
        (&ed, "EdDSA", ed.jwk(&json!({"kid": "k", "kty": "EC", "crv": "Ed25519"}))),
        // A JWK `alg` other than the header's.
        (&rsa, "RS256", rsa.jwk(&json!({"kid": "k", "alg": "PS256"}))),
        (&p256, "ES256", p256.jwk(&json!({"kid": "k", "alg": "ES384"}))),
    ];
    for (signer, alg, jwk) in cases {
        let keys = set(std::slice::from_ref(&jwk));
        let with_kid = signer.token(&json!({"alg": alg, "kid": "k"}), &claims());
        assert_eq!(
            verify_signature(&with_kid, &keys, None, None),
            Err(SignatureError::UnknownKid),
            "{alg} {jwk}"
        );
        let without = signer.token(&json!({"alg": alg}), &claims());
        assert_eq!(
            verify_signature(&without, &keys, None, None),
            Err(SignatureError::NoCandidate),
            "{alg} {jwk}"
        );
    }
}

#[test]
fn use_and_key_ops_must_allow_verification() {
    let ed = Signer::ed();
    let jwt = ed.token(&json!({"alg": "EdDSA", "kid": "k"}), &claims());
    for (extra, want) in [
        (json!({"use": "enc"}), Err(SignatureError::UnknownKid)),
        (json!({"use": "SIG"}), Err(SignatureError::UnknownKid)),
        (json!({"key_ops": ["encrypt"]}), Err(SignatureError::UnknownKid)),
        (json!({"key_ops": ["sign"]}), Err(SignatureError::UnknownKid)),
        (json!({"key_ops": []}), Err(SignatureError::UnknownKid)),
        (json!({"use": "sig", "key_ops": ["verify"]}), Ok(Algorithm::EdDsa)),
        (json!({"use": "sig", "alg": "EdDSA", "key_ops": ["sign", "verify"]}), Ok(Algorithm::EdDsa)),
    ] {
        let mut jwk = ed.jwk(&extra);
        jwk["kid"] = json!("k");
        assert_eq!(verify_signature(&jwt, &set(&[jwk]), None, None), want, "{extra}");
    }
}

#[test]
fn a_1024_bit_rsa_key_is_refused() {
    let keys = JwkSet::parse(RSA_1024_JWKS.as_bytes()).expect("the fixture's JWK Set");
    let jwt = RSA_1024_JWT.trim();
    assert_eq!(keys.kids().collect::<Vec<_>>(), [Some("weak-1024")]);
    // The fixture is genuine: ring's legacy 1024-bit algorithm verifies it.
    let jwk: Value = serde_json::from_str(RSA_1024_JWKS).expect("JSON");
    let n = URL_SAFE_NO_PAD.decode(jwk["keys"][0]["n"].as_str().unwrap_or_default()).expect("n");
    let e = URL_SAFE_NO_PAD.decode(jwk["keys"][0]["e"].as_str().unwrap_or_default()).expect("e");
    assert_eq!(n.len() * 8, 1024);
    let cut = jwt.rfind('.').unwrap_or_default();
    let legacy = sig::RsaPublicKeyComponents { n: &n, e: &e }.verify(
        &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        &jwt.as_bytes()[..cut],
        &signature_of(jwt),
    );
    assert!(legacy.is_ok());
    // This crate refuses the key, with or without the kid.
    assert_eq!(verify_signature(jwt, &keys, None, None), Err(SignatureError::WeakKey));
    let without_kid =
        format!("{}.{}", b64(r#"{"alg":"RS256"}"#), &jwt[jwt.find('.').unwrap_or_default() + 1..]);
    assert_eq!(verify_signature(&without_kid, &keys, None, None), Err(SignatureError::WeakKey));
    // A strong key beside a weak one under the same kid is still tried.
    let rsa = rsa_2048();
    let mut both: Value = serde_json::from_str(RSA_1024_JWKS).expect("JSON");
    if let Some(keys) = both["keys"].as_array_mut() {
        keys.push(rsa.jwk(&json!({"kid": "weak-1024"})));
    }
    let both = JwkSet::parse(both.to_string().as_bytes()).expect("a JWK Set");
    let jwt = rsa.token(&json!({"alg": "RS256", "kid": "weak-1024"}), &claims());
    assert_eq!(verify_signature(&jwt, &both, None, None), Ok(Algorithm::Rs256));
    // An exponent ring refuses makes the key weak too.
    let mut even_e = rsa.jwk(&json!({"kid": "k"}));
    even_e["e"] = json!(b64([1, 0, 0]));
    let jwt = rsa.token(&json!({"alg": "RS256", "kid": "k"}), &claims());
    assert_eq!(verify_signature(&jwt, &set(&[even_e]), None, None), Err(SignatureError::WeakKey));
    // n with leading zero bytes (RFC 7518 forbids them, some servers send them): stripped.
    let mut padded = rsa.jwk(&json!({"kid": "k"}));
    let mut n = URL_SAFE_NO_PAD.decode(padded["n"].as_str().unwrap_or_default()).expect("n");
    n.insert(0, 0);
    padded["n"] = json!(b64(&n));
    assert_eq!(verify_signature(&jwt, &set(&[padded]), None, None), Ok(Algorithm::Rs256));
}

/// The DER encoding of an ECDSA signature `r || s` (each `len` bytes).
fn der_ecdsa(fixed: &[u8]) -> Vec<u8> {
    fn int(v: &[u8]) -> Vec<u8> {
        let v = &v[v.iter().position(|&b| b != 0).unwrap_or(v.len() - 1)..];
        let mut out = vec![0x02];
        let pad = v[0] & 0x80 != 0;
        out.push(u8::try_from(v.len() + usize::from(pad)).unwrap_or(0));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
        out
    }
    let (r, s) = fixed.split_at(fixed.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30];
    if body.len() >= 0x80 {
        out.push(0x81);
    }
    out.push(u8::try_from(body.len()).unwrap_or(0));
    out.extend(body);
    out
}

#[test]
fn der_encoded_ecdsa_signatures_are_refused() {
    let rng = SystemRandom::new();
    for (fixed_alg, asn1_alg, alg) in [
        (&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &sig::ECDSA_P256_SHA256_ASN1_SIGNING, "ES256"),
        (&sig::ECDSA_P384_SHA384_FIXED_SIGNING, &sig::ECDSA_P384_SHA384_ASN1_SIGNING, "ES384"),
    ] {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(fixed_alg, &rng).expect("an EC key");
        let signer = match Signer::ec(fixed_alg) {
            Signer::Ec(_, crv, len) => Signer::Ec(
                EcdsaKeyPair::from_pkcs8(fixed_alg, pkcs8.as_ref(), &rng).expect("a key"),
                crv,
                len,
            ),
            other => other,
        };
        let der_pair = EcdsaKeyPair::from_pkcs8(asn1_alg, pkcs8.as_ref(), &rng).expect("the same key");
        let keys = set(&[signer.jwk(&json!({"kid": "k"}))]);
        let header = json!({"alg": alg, "kid": "k"});
        let input = signing_input(&header, &claims());
        // ring's own DER signature of the same key.
        let der = der_pair.sign(&rng, input.as_bytes()).expect("a DER signature");
        let jwt = format!("{input}.{}", b64(der.as_ref()));
        assert_eq!(verify_signature(&jwt, &keys, None, None), Err(SignatureError::BadSignature), "{alg}");
        // A valid R || S signature verifies; its DER re-encoding does not.
        let fixed = signer.sign_bytes(alg, input.as_bytes());
        assert!(verify_signature(&format!("{input}.{}", b64(&fixed)), &keys, None, None).is_ok());
        let jwt = format!("{input}.{}", b64(der_ecdsa(&fixed)));
        assert_eq!(verify_signature(&jwt, &keys, None, None), Err(SignatureError::BadSignature), "{alg}");
    }
}

#[test]
fn crit_header_is_refused() {
    let ed = Signer::ed();
    let keys = set(&[ed.jwk(&json!({"kid": "k"}))]);
    for crit in [json!(["exp"]), json!([]), json!("b64"), json!({})] {
        let jwt = ed.token(&json!({"alg": "EdDSA", "kid": "k", "crit": crit, "exp": 1}), &claims());
        assert_eq!(verify_signature(&jwt, &keys, None, None), Err(SignatureError::CritHeader), "{crit}");
    }
    // `crit: null` is no crit.
    let jwt = ed.token(&json!({"alg": "EdDSA", "kid": "k", "crit": null}), &claims());
    assert_eq!(verify_signature(&jwt, &keys, None, None), Ok(Algorithm::EdDsa));
}

#[test]
fn malformed_tokens_and_algorithms_not_allowed() {
    let ed = Signer::ed();
    let keys = set(&[ed.jwk(&json!({"kid": "k"}))]);
    let jwt = ed.token(&json!({"alg": "EdDSA", "kid": "k"}), &claims());
    let (head, rest) = jwt.split_once('.').unwrap_or_default();
    for bad in [
        String::new(),
        "abc".to_owned(),
        format!("{head}.{rest}.x"),
        format!("{head}.{rest}="),
        format!("{}.{rest}", b64("not json")),
        format!("{}.{rest}", b64(r#"{"alg":"EdDSA","alg":"EdDSA"}"#)),
        format!("{head}=.{rest}"),
        format!("{}.{rest}", head.replace('e', "+")),
    ] {
        assert_eq!(verify_signature(&bad, &keys, None, None), Err(SignatureError::Malformed), "{bad}");
    }
    assert_eq!(
        verify_signature(&jwt, &keys, None, Some(&[Algorithm::Rs256, Algorithm::Es256])),
        Err(SignatureError::AlgNotAllowed)
    );
    assert_eq!(verify_signature(&jwt, &keys, None, Some(&[])), Err(SignatureError::AlgNotAllowed));
}

// ---------------------------------------------------------------------------------------
// Single-byte changes
// ---------------------------------------------------------------------------------------

/// Every single-byte change of a verified token (each position, a few replacement bytes)
/// fails to verify, whatever the error.
fn no_single_byte_change_verifies(
    jwt: &str,
    keys: &JwkSet,
    secret: Option<&ClientSecret>,
    step: usize,
) -> usize {
    assert!(verify_signature(jwt, keys, secret, None).is_ok());
    let mut tried = 0;
    for i in (0..jwt.len()).step_by(step) {
        for replacement in [b'A', b'B', b'Q', b'g', b'0', b'-', b'_', b'.', b'=', b' ', b'{'] {
            if jwt.as_bytes()[i] == replacement {
                continue;
            }
            let mut bytes = jwt.as_bytes().to_vec();
            bytes[i] = replacement;
            let changed = String::from_utf8(bytes).expect("ASCII");
            assert!(
                verify_signature(&changed, keys, secret, None).is_err(),
                "byte {i} -> {}",
                replacement as char
            );
            tried += 1;
        }
    }
    tried
}

#[test]
fn no_single_byte_change_of_a_verified_token_verifies() {
    let ed = Signer::ed();
    let p256 = Signer::ec(&sig::ECDSA_P256_SHA256_FIXED_SIGNING);
    let keys = set(&[ed.jwk(&json!({"kid": "ed"})), p256.jwk(&json!({"kid": "ec"}))]);
    let tried = no_single_byte_change_verifies(
        &ed.token(&json!({"alg": "EdDSA", "kid": "ed"}), &claims()),
        &keys,
        None,
        1,
    );
    assert!(tried > 2000);
    no_single_byte_change_verifies(
        &p256.token(&json!({"alg": "ES256", "kid": "ec"}), &claims()),
        &keys,
        None,
        1,
    );
    let secret = ClientSecret::new("client-secret-client-secret");
    let hs = hs_token("HS256", secret.expose_secret().as_bytes(), &json!({"alg": "HS256"}));
    no_single_byte_change_verifies(&hs, &keys, Some(&secret), 1);
    // RSA (slower): every third position.
    let rsa = rsa_2048();
    let keys = set(&[rsa.jwk(&json!({"kid": "r"}))]);
    no_single_byte_change_verifies(
        &rsa.token(&json!({"alg": "RS256", "kid": "r"}), &claims()),
        &keys,
        None,
        3,
    );
}

// ---------------------------------------------------------------------------------------
// The key-set cache on a virtual clock
// ---------------------------------------------------------------------------------------

fn cache() -> KeySetCache {
    KeySetCache::new("https://id.example/.well-known/jwks.json".parse().expect("a URI"))
}

#[test]
fn cache_fetches_first_then_verifies() {
    let ed = Signer::ed();
    let jwt = ed.token(&json!({"alg": "EdDSA", "kid": "k1"}), &claims());
    let mut cache = cache();
    assert_eq!(cache.verify(t(T0), &jwt, None), Verdict::FetchKeys);
    assert_eq!(cache.verify(t(T0), &jwt, None), Verdict::FetchKeys, "asking again changes nothing");
    let request = cache.build_request();
    assert_eq!(request.method(), http::Method::GET);
    assert_eq!(request.uri(), "https://id.example/.well-known/jwks.json");
    assert_eq!(request.headers()[http::header::ACCEPT], "application/jwk-set+json, application/json");
    assert!(request.body().is_empty());
    let body = json!({"keys": [ed.jwk(&json!({"kid": "k1"}))]}).to_string();
    cache.handle_key_set_response(t(T0), &http::Response::new(body)).expect("a JWK Set");
    assert_eq!(cache.verify(t(T0 + 1), &jwt, None), Verdict::Verified(Algorithm::EdDsa));
    assert_eq!(cache.fetches(), 1);
    assert_eq!(cache.fetched_at(), Some(t(T0)));
    assert_eq!(cache.keys().map(JwkSet::len), Some(1));
}

#[test]
fn unknown_kid_refetches_once_per_cooldown() {
    let old = Signer::ed();
    let new = Signer::ed();
    let mut cache = cache();
    cache.handle_key_set(t(T0), set(&[old.jwk(&json!({"kid": "old"}))]));
    let rotated = new.token(&json!({"alg": "EdDSA", "kid": "new"}), &claims());
    // Within the cool-down of the fetch: refused, no fetch.
    for s in [0, 1, 30, 59] {
        assert_eq!(
            cache.verify(t(T0 + s), &rotated, None),
            Verdict::Refused(SignatureError::UnknownKid),
            "{s}"
        );
    }
    // After it: one fetch. Should it not hold the new key yet, no second fetch follows
    // before another cool-down.
    assert_eq!(cache.verify(t(T0 + 60), &rotated, None), Verdict::FetchKeys);
    cache.handle_key_set(t(T0 + 60), set(&[old.jwk(&json!({"kid": "old"}))]));
    for s in [60, 61, 90, 119] {
        assert_eq!(
            cache.verify(t(T0 + s), &rotated, None),
            Verdict::Refused(SignatureError::UnknownKid),
            "{s}"
        );
    }
    // The next one picks up the rotation.
    assert_eq!(cache.verify(t(T0 + 120), &rotated, None), Verdict::FetchKeys);
    let both = set(&[old.jwk(&json!({"kid": "old"})), new.jwk(&json!({"kid": "new"}))]);
    cache.handle_key_set(t(T0 + 120), both);
    assert_eq!(cache.verify(t(T0 + 120), &rotated, None), Verdict::Verified(Algorithm::EdDsa));
    // A token without a kid that no key fits is treated alike.
    let p256 = Signer::ec(&sig::ECDSA_P256_SHA256_FIXED_SIGNING);
    let no_kid = p256.token(&json!({"alg": "ES256"}), &claims());
    assert_eq!(cache.verify(t(T0 + 121), &no_kid, None), Verdict::Refused(SignatureError::NoCandidate));
    assert_eq!(cache.verify(t(T0 + 180), &no_kid, None), Verdict::FetchKeys);
    // A refusal a fetch cannot cure never asks for one.
    let tampered = with_signature(&rotated, &[0; 64]);
    assert_eq!(cache.verify(t(T0 + 180), &tampered, None), Verdict::Refused(SignatureError::BadSignature));
    assert_eq!(cache.fetches(), 3);
}

#[test]
fn a_flood_of_random_kids_causes_no_refetch_storm() {
    let ed = Signer::ed();
    let attacker = Signer::ed();
    let cooldown = Duration::from_secs(60);
    let mut cache = cache().with_refetch_cooldown(cooldown);
    cache.handle_key_set(t(T0), set(&[ed.jwk(&json!({"kid": "real"}))]));
    // A cheap pseudo-random sequence of kids; 1000 tokens over 250 s of virtual time.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut fetch_times = Vec::new();
    for i in 0..1000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let jwt = attacker.token(&json!({"alg": "EdDSA", "kid": format!("{x:016x}")}), &claims());
        let now = UnixTime::from_duration_since_epoch(Duration::from_millis(T0 * 1000 + i * 250));
        match cache.verify(now, &jwt, None) {
            Verdict::FetchKeys => {
                fetch_times.push(now);
                cache.handle_key_set(now, set(&[ed.jwk(&json!({"kid": "real"}))]));
            }
            Verdict::Refused(SignatureError::UnknownKid) => {}
            other => panic!("token {i}: {other:?}"),
        }
    }
    // 250 s with a 60 s cool-down after a fetch at T0: at most 4 fetches, one per cool-down.
    assert!(fetch_times.len() <= 4, "{fetch_times:?}");
    assert!(fetch_times.windows(2).all(|w| w[1].saturating_duration_since(w[0]) >= cooldown));
    assert_eq!(cache.fetches() as usize, 1 + fetch_times.len());
    // The real key still verifies throughout.
    let jwt = ed.token(&json!({"alg": "EdDSA", "kid": "real"}), &claims());
    assert_eq!(cache.verify(t(T0 + 250), &jwt, None), Verdict::Verified(Algorithm::EdDsa));
}

#[test]
fn keys_older_than_max_age_are_fetched_again() {
    let ed = Signer::ed();
    let jwt = ed.token(&json!({"alg": "EdDSA", "kid": "k"}), &claims());
    let mut cache = cache().with_max_age(Duration::from_secs(600));
    cache.handle_key_set(t(T0), set(&[ed.jwk(&json!({"kid": "k"}))]));
    assert_eq!(cache.verify(t(T0 + 599), &jwt, None), Verdict::Verified(Algorithm::EdDsa));
    assert_eq!(cache.verify(t(T0 + 600), &jwt, None), Verdict::FetchKeys);
    // The fetch fails: the old keys serve for a cool-down, then another fetch is asked for.
    cache.handle_fetch_failed(t(T0 + 600));
    assert_eq!(cache.verify(t(T0 + 601), &jwt, None), Verdict::Verified(Algorithm::EdDsa));
    assert_eq!(cache.verify(t(T0 + 660), &jwt, None), Verdict::FetchKeys);
    // A broken response counts as a failed fetch, and the keys stay.
    let broken = http::Response::builder().status(503).body("<html>down</html>").expect("a response");
    let e = cache.handle_key_set_response(t(T0 + 660), &broken).expect_err("HTTP 503");
    assert!(matches!(&e, Error::Protocol(p) if matches!(p.kind(), ProtocolErrorKind::KeySet(_))));
    assert_eq!(e.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(cache.verify(t(T0 + 661), &jwt, None), Verdict::Verified(Algorithm::EdDsa));
    let not_a_set = http::Response::new(r#"{"issuer":"https://id.example"}"#);
    assert!(cache.handle_key_set_response(t(T0 + 720), &not_a_set).is_err());
    assert_eq!(cache.verify(t(T0 + 721), &jwt, None), Verdict::Verified(Algorithm::EdDsa));
    assert_eq!(cache.fetches(), 1);
    // A good set resets the age.
    cache.handle_key_set(t(T0 + 780), set(&[ed.jwk(&json!({"kid": "k"}))]));
    assert_eq!(cache.verify(t(T0 + 1379), &jwt, None), Verdict::Verified(Algorithm::EdDsa));
    assert_eq!(cache.verify(t(T0 + 1380), &jwt, None), Verdict::FetchKeys);
}

#[test]
fn a_failed_first_fetch_waits_for_the_cooldown() {
    let ed = Signer::ed();
    let jwt = ed.token(&json!({"alg": "EdDSA", "kid": "k"}), &claims());
    let mut cache = cache();
    assert_eq!(cache.verify(t(T0), &jwt, None), Verdict::FetchKeys);
    cache.handle_fetch_failed(t(T0));
    assert_eq!(cache.verify(t(T0 + 10), &jwt, None), Verdict::Refused(SignatureError::UnknownKid));
    assert_eq!(cache.verify(t(T0 + 60), &jwt, None), Verdict::FetchKeys);
}

#[test]
fn hmac_never_needs_keys_and_structure_is_refused_before_any_fetch() {
    let secret = ClientSecret::new("client-secret");
    let cache = cache();
    let hs = hs_token("HS384", secret.expose_secret().as_bytes(), &json!({"alg": "HS384", "kid": "x"}));
    assert_eq!(cache.verify(t(T0), &hs, Some(&secret)), Verdict::Verified(Algorithm::Hs384));
    assert_eq!(cache.verify(t(T0), &hs, None), Verdict::Refused(SignatureError::NoSecret));
    assert_eq!(
        cache.verify(t(T0), &hs, Some(&ClientSecret::new("x"))),
        Verdict::Refused(SignatureError::BadSignature)
    );
    let none = format!("{}.", signing_input(&json!({"alg": "none"}), &claims()));
    assert_eq!(cache.verify(t(T0), &none, None), Verdict::Refused(SignatureError::AlgNone));
    assert_eq!(cache.verify(t(T0), "a.b", None), Verdict::Refused(SignatureError::Malformed));
    let ed = Signer::ed();
    let crit = ed.token(&json!({"alg": "EdDSA", "crit": ["x"]}), &claims());
    assert_eq!(cache.verify(t(T0), &crit, None), Verdict::Refused(SignatureError::CritHeader));
    // Only the provider's algorithms: the others are refused before any fetch.
    let cache = cache.with_algorithms(vec![Algorithm::Rs256]);
    assert_eq!(cache.algorithms(), Some(&[Algorithm::Rs256][..]));
    let jwt = ed.token(&json!({"alg": "EdDSA", "kid": "k"}), &claims());
    assert_eq!(cache.verify(t(T0), &jwt, None), Verdict::Refused(SignatureError::AlgNotAllowed));
    assert_eq!(cache.verify(t(T0), &hs, Some(&secret)), Verdict::Refused(SignatureError::AlgNotAllowed));
    // An empty list accepts everything.
    let cache = cache.with_algorithms(Vec::new());
    assert_eq!(cache.algorithms(), None);
    assert_eq!(cache.verify(t(T0), &jwt, None), Verdict::FetchKeys);
}

// ---------------------------------------------------------------------------------------
// Key sets and their requests
// ---------------------------------------------------------------------------------------

#[test]
fn key_set_parsing_skips_what_it_cannot_use() {
    let ed = Signer::ed();
    let body = json!({"keys": [
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
        {"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA", "kid": "p521"},
        {"kty": "EC", "crv": "secp256k1", "x": b64([1; 32]), "y": b64([2; 32]), "kid": "k1"},
        {"kty": "OKP", "crv": "Ed448", "x": b64([1; 57]), "kid": "ed448"},
        {"kty": "RSA", "kid": "no-n", "e": "AQAB"},
        {"kty": "RSA", "kid": "bad-n", "n": "!!", "e": "AQAB"},
        {"kty": "EC", "crv": "P-256", "x": b64([1; 31]), "y": b64([2; 32]), "kid": "short-x"},
        {"kty": "PQC", "kid": "future"},
        {"kid": "no-kty"},
        "not an object",
        ed.jwk(&json!({"kid": "ed", "x5c": ["MIIB"], "ext": true})),
    ], "other": {"nested": [1, 2]}});
    let keys = JwkSet::parse(body.to_string().as_bytes()).expect("a JWK Set");
    assert_eq!(keys.kids().collect::<Vec<_>>(), [Some("ed")]);
    assert!(!keys.is_empty());
    let debug = format!("{keys:?}");
    assert!(debug.contains("\"ed\"") && debug.contains("OKP"), "{debug}");
    let x = ed.jwk(&json!({}))["x"].as_str().unwrap_or_default().to_owned();
    assert!(!debug.contains(&x), "{debug}");
    let empty = JwkSet::parse(br#"{"keys":[]}"#).expect("an empty set");
    assert!(empty.is_empty());
    assert_eq!(empty.len(), 0);
}

#[test]
fn bodies_that_are_not_a_jwk_set_are_key_set_errors() {
    let n = b64([0xAB; 256]);
    for body in [
        "".to_owned(),
        "<html>".to_owned(),
        "[]".to_owned(),
        "null".to_owned(),
        r#""keys""#.to_owned(),
        "{}".to_owned(),
        r#"{"keys":{}}"#.to_owned(),
        format!(r#"{{"keys":"{n}"}}"#),
        r#"{"keys":[]}x"#.to_owned(),
        r#"{"keys":[],"keys":[]}"#.to_owned(),
        format!(r#"{{"keys":[{{"kty":"RSA","n":"{n}","n":"{n}","e":"AQAB"}}]}}"#),
        r#"{"keys":[{"kty":"OKP","x5c":[{"a":1,"a":2}]}]}"#.to_owned(),
        r#"{"keys":[[{"a":1,"a":2}]]}"#.to_owned(),
    ] {
        let e = JwkSet::parse(body.as_bytes()).expect_err(&body);
        // What is wrong is said, and no key material is echoed.
        let shown = e.to_string();
        assert!(shown.starts_with("not a usable JWK Set: "), "{shown}");
        assert!(!shown.contains(&n[..40]), "{shown}");
        // As a response, it is a protocol error with the status.
        let response = http::Response::new(body.clone());
        let err = parse_key_set_response(&response).expect_err(&body);
        assert!(
            matches!(&err, Error::Protocol(p) if p.kind() == &ProtocolErrorKind::KeySet(e.clone())),
            "{err:?}"
        );
        assert_eq!(err.status(), Some(http::StatusCode::OK));
    }
    let e = parse_key_set_response(
        &http::Response::builder().status(404).body(r#"{"keys":[]}"#).expect("a response"),
    )
    .expect_err("HTTP 404");
    assert!(e.to_string().contains("HTTP 404"), "{e}");
    assert!(parse_key_set_response(&http::Response::new(r#"{"keys":[]}"#)).is_ok_and(|k| k.is_empty()));
}

#[test]
fn jwks_uri_must_be_https_or_loopback() {
    assert!(check_jwks_uri("https://id.example/jwks").is_ok());
    assert!(check_jwks_uri("http://localhost:8080/jwks").is_ok());
    assert!(check_jwks_uri("http://[::1]/jwks").is_ok());
    for bad in [
        "http://id.example/jwks",
        "http://10.0.0.1/jwks",
        "ftp://id.example/jwks",
        "/jwks",
        "https://u:p@id.example/",
    ] {
        let e = check_jwks_uri(bad).expect_err(bad);
        assert!(
            matches!(&e, Error::Protocol(p) if matches!(p.kind(), ProtocolErrorKind::Discovery { .. })),
            "{e:?}"
        );
    }
    let uri: http::Uri = "https://id.example/jwks".parse().expect("a URI");
    let request = build_key_set_request(&uri);
    assert_eq!((request.method(), request.uri()), (&http::Method::GET, &uri));
}

// ---------------------------------------------------------------------------------------
// at_hash, errors
// ---------------------------------------------------------------------------------------

#[test]
fn at_hash_vectors() {
    // OIDC Core 1.0 Appendix A.3 (RS256).
    assert!(at_hash_matches(
        Algorithm::Rs256,
        "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
        "77QmUPtjPfzWtF2AnpK9RQ"
    ));
    let token = "SlAV32hkKG";
    for alg in Algorithm::ALL {
        let (hash, half) = match alg.name() {
            n if n.ends_with("256") => (&digest::SHA256, 16),
            n if n.ends_with("384") => (&digest::SHA384, 24),
            _ => (&digest::SHA512, 32),
        };
        let want = b64(&digest::digest(hash, token.as_bytes()).as_ref()[..half]);
        assert!(at_hash_matches(alg, token, &want), "{alg}");
        assert!(!at_hash_matches(alg, "SlAV32hkKH", &want), "{alg}");
        assert!(!at_hash_matches(alg, token, &want.to_lowercase()), "{alg}");
    }
}

#[test]
fn signature_errors_keep_the_rotated_token_and_show_no_secret() {
    for e in [SignatureError::BadSignature, SignatureError::UnknownKid, SignatureError::WeakKey] {
        assert!(!IdTokenErrorKind::Signature(e).is_identity_mismatch());
    }
    assert!(!IdTokenErrorKind::AtHashMismatch.is_identity_mismatch());
    assert!(SignatureError::NoCandidate.may_need_new_keys());
    assert!(!SignatureError::BadSignature.may_need_new_keys());
    let secret = ClientSecret::new("super-secret-value-123");
    let hs = hs_token("HS256", b"wrong", &json!({"alg": "HS256"}));
    let verdict = cache().verify(t(T0), &hs, Some(&secret));
    let shown =
        format!("{verdict:?} {} {:?}", IdTokenErrorKind::Signature(SignatureError::BadSignature), cache());
    assert!(!shown.contains("super-secret"), "{shown}");
}
