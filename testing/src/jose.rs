//! JOSE for tests: signing keys (the committed 2048-bit RSA key of `core/tests/fixtures/`,
//! EC P-256 / P-384 and Ed25519 keys made on the spot with `ring`), their public JWKs, compact
//! JWS tokens over any header and claims, and the hostile tokens of issue 13, each with the
//! key set it must be refused against and a genuine twin that verifies.
//!
//! Every [`Hostile`] case differs from its genuine twin only in what makes it hostile (the
//! payload, one bit, the `alg`, the key set's `use`, ...), so a test that sees the twin
//! verify and the hostile token fail knows the refusal is for that reason and no other.
//!
//! `ring` cannot generate RSA keys, nor sign with one under 2048 bits: the RSA key is a
//! fixture, and the 1024-bit case reuses the fixture token and key set made with `openssl`
//! (see `core/tests/fixtures/README.md`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use serde_json::{Value, json};

/// A 2048-bit RSA private key, PKCS#8 DER (test key only).
pub const RSA_2048_PKCS8: &[u8] = include_bytes!("../../core/tests/fixtures/rsa-2048.pk8.der");
/// The public key of [`RSA_2048_PKCS8`] as a DER SubjectPublicKeyInfo.
pub const RSA_2048_SPKI_DER: &[u8] = include_bytes!("../../core/tests/fixtures/rsa-2048.spki.der");
/// The public key of [`RSA_2048_PKCS8`] as PEM.
pub const RSA_2048_SPKI_PEM: &str = include_str!("../../core/tests/fixtures/rsa-2048.spki.pem");
/// An RS256 token (`kid` `weak-1024`) genuinely signed by a 1024-bit RSA key (with a
/// trailing newline).
pub const RSA_1024_JWT: &str = include_str!("../../core/tests/fixtures/rsa-1024.jwt");
/// The JWK Set holding the public key that signed [`RSA_1024_JWT`].
pub const RSA_1024_JWKS: &str = include_str!("../../core/tests/fixtures/rsa-1024.jwks.json");

/// Base64url without padding, as JOSE writes every segment.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `BASE64URL(header).BASE64URL(claims)`, the bytes a JWS signs.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!("{}.{}", b64(header.to_string()), b64(claims.to_string()))
}

/// `jwt` with its signature segment replaced by `signature`.
pub fn with_signature(jwt: &str, signature: &[u8]) -> String {
    let cut = jwt.rfind('.').expect("a compact JWS");
    format!("{}.{}", &jwt[..cut], b64(signature))
}

/// The decoded signature segment of `jwt`.
pub fn signature_of(jwt: &str) -> Vec<u8> {
    let cut = jwt.rfind('.').expect("a compact JWS");
    URL_SAFE_NO_PAD.decode(&jwt[cut + 1..]).expect("a base64url signature")
}

/// The JSON text of a JWK Set holding `keys`.
pub fn key_set(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

/// Typical ID-token claims: `iss`, `sub` `user-1`, `aud`, `iat` = `now` and `exp` an hour
/// later.
pub fn claims(iss: &str, aud: &str, now: u64) -> Value {
    json!({"iss": iss, "sub": "user-1", "aud": aud, "iat": now, "exp": now + 3600})
}

/// A compact JWS of `claims` with `header`, MACed with `key` (`alg` HS256, HS384 or HS512).
pub fn hs_token(alg: &str, key: &[u8], header: &Value, claims: &Value) -> String {
    let algorithm = match alg {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        other => panic!("not an HMAC alg: {other}"),
    };
    let input = signing_input(header, claims);
    let tag = hmac::sign(&hmac::Key::new(algorithm, key), input.as_bytes());
    format!("{input}.{}", b64(tag))
}

/// A private signing key of a kind the verifier knows.
pub enum Key {
    /// RSA (RS256/384/512, PS256/384/512).
    Rsa(RsaKeyPair),
    /// ECDSA on P-256 (ES256) or P-384 (ES384).
    Ec {
        /// The key, signing in the JOSE `R || S` form.
        pair: EcdsaKeyPair,
        /// The same key, PKCS#8 DER (to sign in the DER form too).
        pkcs8: Vec<u8>,
        /// `P-256` or `P-384`.
        crv: &'static str,
    },
    /// Ed25519 (EdDSA).
    Ed(Ed25519KeyPair),
}

impl Key {
    /// The 2048-bit RSA key of the fixtures (the same key every time).
    pub fn rsa_2048() -> Key {
        Key::Rsa(RsaKeyPair::from_pkcs8(RSA_2048_PKCS8).expect("the RSA PKCS#8 fixture"))
    }

    /// A fresh P-256 key.
    pub fn p256() -> Key {
        Key::ec(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256")
    }

    /// A fresh P-384 key.
    pub fn p384() -> Key {
        Key::ec(&sig::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384")
    }

    fn ec(alg: &'static sig::EcdsaSigningAlgorithm, crv: &'static str) -> Key {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("an EC key").as_ref().to_vec();
        let pair = EcdsaKeyPair::from_pkcs8(alg, &pkcs8, &rng).expect("an EC key");
        Key::Ec { pair, pkcs8, crv }
    }

    /// A fresh Ed25519 key.
    pub fn ed25519() -> Key {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("an Ed25519 key");
        Key::Ed(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("an Ed25519 key"))
    }

    /// The `alg` this key signs with by default: RS256, ES256, ES384 or EdDSA.
    pub fn alg(&self) -> &'static str {
        match self {
            Key::Rsa(_) => "RS256",
            Key::Ec { crv: "P-256", .. } => "ES256",
            Key::Ec { .. } => "ES384",
            Key::Ed(_) => "EdDSA",
        }
    }

    /// The public JWK (`kty`, `crv`, `n`/`e` or `x`/`y`), with the members of `extra` (an
    /// object: `kid`, `alg`, `use`, `key_ops`, ...) merged in; a `null` in `extra` removes
    /// that member.
    pub fn jwk(&self, extra: &Value) -> Value {
        let mut jwk = match self {
            Key::Rsa(pair) => {
                let c: sig::RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
                json!({"kty": "RSA", "n": b64(&c.n), "e": b64(&c.e)})
            }
            Key::Ec { pair, crv, .. } => {
                // An uncompressed point: 0x04 || x || y.
                let point = pair.public_key().as_ref();
                let len = (point.len() - 1) / 2;
                json!({"kty": "EC", "crv": crv, "x": b64(&point[1..=len]), "y": b64(&point[1 + len..])})
            }
            Key::Ed(pair) => json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key())}),
        };
        for (name, value) in extra.as_object().into_iter().flatten() {
            let members = jwk.as_object_mut().expect("a JWK is an object");
            if value.is_null() {
                members.remove(name);
            } else {
                members.insert(name.clone(), value.clone());
            }
        }
        jwk
    }

    /// The raw JWS signature of `input` for `alg` (for RSA: RS256/384/512, PS256/384/512;
    /// ECDSA and Ed25519 keys have one algorithm each and ignore `alg`).
    pub fn sign(&self, alg: &str, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Key::Rsa(pair) => {
                let padding: &'static dyn sig::RsaEncoding = match alg {
                    "RS256" => &sig::RSA_PKCS1_SHA256,
                    "RS384" => &sig::RSA_PKCS1_SHA384,
                    "RS512" => &sig::RSA_PKCS1_SHA512,
                    "PS256" => &sig::RSA_PSS_SHA256,
                    "PS384" => &sig::RSA_PSS_SHA384,
                    "PS512" => &sig::RSA_PSS_SHA512,
                    other => panic!("not an RSA alg: {other}"),
                };
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(padding, &rng, input, &mut out).expect("an RSA signature");
                out
            }
            Key::Ec { pair, .. } => pair.sign(&rng, input).expect("an ECDSA signature").as_ref().to_vec(),
            Key::Ed(pair) => pair.sign(input).as_ref().to_vec(),
        }
    }

    /// A compact JWS of `claims` with `header`, signed for the header's `alg` (this key's
    /// default [`alg`](Key::alg) when the header has none).
    pub fn token(&self, header: &Value, claims: &Value) -> String {
        let input = signing_input(header, claims);
        let alg = header["alg"].as_str().unwrap_or_else(|| self.alg());
        format!("{input}.{}", b64(self.sign(alg, input.as_bytes())))
    }

    /// A compact JWS like [`token`](Key::token), but with the ECDSA signature in the DER
    /// (ASN.1) form `ring` makes for TLS, not the JOSE `R || S` form. ECDSA keys only.
    pub fn der_token(&self, header: &Value, claims: &Value) -> String {
        let Key::Ec { pkcs8, crv, .. } = self else { panic!("a DER signature needs an ECDSA key") };
        let asn1 = if *crv == "P-256" {
            &sig::ECDSA_P256_SHA256_ASN1_SIGNING
        } else {
            &sig::ECDSA_P384_SHA384_ASN1_SIGNING
        };
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(asn1, pkcs8, &rng).expect("the same EC key");
        let input = signing_input(header, claims);
        let der = pair.sign(&rng, input.as_bytes()).expect("a DER ECDSA signature");
        format!("{input}.{}", b64(der.as_ref()))
    }
}

/// The bytes of the RSA public key an attacker uses as an HMAC key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicKeyBytes {
    /// The modulus `n`, big-endian.
    Modulus,
    /// The DER SubjectPublicKeyInfo.
    SpkiDer,
    /// The PEM SubjectPublicKeyInfo, as text.
    SpkiPem,
}

/// A hostile token of issue 13, the key set it must be refused against, and its genuine
/// twin, which verifies.
#[derive(Clone, Debug)]
pub struct Hostile {
    /// A short name for messages, e.g. `alg-none`.
    pub name: &'static str,
    /// The hostile token.
    pub token: String,
    /// The JWK Set (JSON text) the hostile token is verified against, and refused.
    pub jwks: String,
    /// A token that differs from [`token`](Hostile::token) only in what makes it hostile
    /// (for some cases it is the very same token), and verifies against
    /// [`genuine_jwks`](Hostile::genuine_jwks).
    pub genuine_token: String,
    /// The JWK Set the genuine twin verifies against (for some cases [`jwks`](Hostile::jwks)
    /// itself, for others the same keys without the hostile member).
    pub genuine_jwks: String,
    /// For the `jwk` and `jku` cases: the attacker's own key set, under which the hostile
    /// token does verify (it is genuinely signed, just not by the provider).
    pub attacker_jwks: Option<String>,
}

impl Hostile {
    fn same_keys(name: &'static str, token: String, genuine_token: String, jwks: String) -> Hostile {
        Hostile { name, token, genuine_token, genuine_jwks: jwks.clone(), jwks, attacker_jwks: None }
    }

    fn same_token(name: &'static str, token: String, jwks: String, genuine_jwks: String) -> Hostile {
        Hostile { name, genuine_token: token.clone(), token, jwks, genuine_jwks, attacker_jwks: None }
    }

    /// RS256: the claims changed after signing (an `email` of the attacker's), under the
    /// original signature.
    pub fn tampered_payload(claims: &Value) -> Hostile {
        let key = Key::rsa_2048();
        let header = json!({"alg": "RS256", "kid": "k", "typ": "JWT"});
        let genuine = key.token(&header, claims);
        let mut forged = claims.clone();
        forged["email"] = json!("attacker@evil.example");
        forged["email_verified"] = json!(true);
        let token = format!("{}.{}", signing_input(&header, &forged), b64(signature_of(&genuine)));
        Hostile::same_keys("tampered-payload", token, genuine, key_set(&[key.jwk(&json!({"kid": "k"}))]))
    }

    /// EdDSA: one bit of the signature flipped (bit `bit` counted from the first byte's
    /// least significant bit; taken modulo the signature's length).
    pub fn flipped_signature_bit(claims: &Value, bit: usize) -> Hostile {
        let key = Key::ed25519();
        let genuine = key.token(&json!({"alg": "EdDSA", "kid": "k"}), claims);
        let mut signature = signature_of(&genuine);
        let bit = bit % (signature.len() * 8);
        signature[bit / 8] ^= 1 << (bit % 8);
        let token = with_signature(&genuine, &signature);
        Hostile::same_keys("flipped-signature-bit", token, genuine, key_set(&[key.jwk(&json!({"kid": "k"}))]))
    }

    /// `alg: none`, an empty signature, the `kid` of the set's RSA key.
    pub fn alg_none(claims: &Value) -> Hostile {
        let key = Key::rsa_2048();
        let token = format!("{}.", signing_input(&json!({"alg": "none", "kid": "k"}), claims));
        let genuine = key.token(&json!({"alg": "RS256", "kid": "k"}), claims);
        Hostile::same_keys("alg-none", token, genuine, key_set(&[key.jwk(&json!({"kid": "k"}))]))
    }

    /// HS256 MACed with the set's RSA public key (as `bytes`): the key-confusion attack.
    /// The JWK carries no `alg`, so only the key's type can stop it.
    pub fn hs256_with_public_key(claims: &Value, bytes: PublicKeyBytes) -> Hostile {
        let key = Key::rsa_2048();
        let jwk = key.jwk(&json!({"kid": "k", "use": "sig"}));
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().expect("n")).expect("base64url n");
        let (name, mac_key) = match bytes {
            PublicKeyBytes::Modulus => ("hs256-with-public-key-n", &n[..]),
            PublicKeyBytes::SpkiDer => ("hs256-with-public-key-der", RSA_2048_SPKI_DER),
            PublicKeyBytes::SpkiPem => ("hs256-with-public-key-pem", RSA_2048_SPKI_PEM.as_bytes()),
        };
        let token = hs_token("HS256", mac_key, &json!({"alg": "HS256", "kid": "k"}), claims);
        let genuine = key.token(&json!({"alg": "RS256", "kid": "k"}), claims);
        Hostile::same_keys(name, token, genuine, key_set(&[jwk]))
    }

    /// ES384: signed by the set's key, but under a `kid` the set does not have.
    pub fn unknown_kid(claims: &Value) -> Hostile {
        let key = Key::p384();
        let token = key.token(&json!({"alg": "ES384", "kid": "2025"}), claims);
        let genuine = key.token(&json!({"alg": "ES384", "kid": "2024"}), claims);
        Hostile::same_keys("unknown-kid", token, genuine, key_set(&[key.jwk(&json!({"kid": "2024"}))]))
    }

    /// ES256 signed by the attacker, whose public key rides in the header's `jwk` (no `kid`,
    /// so the set's one P-256 key is the only candidate). The twin is signed by the set's key
    /// and carries the same `jwk` member.
    pub fn embedded_jwk(claims: &Value) -> Hostile {
        let provider = Key::p256();
        let attacker = Key::p256();
        let attacker_jwk = attacker.jwk(&json!({"kid": "attacker"}));
        let token = attacker.token(&json!({"alg": "ES256", "jwk": attacker_jwk}), claims);
        let genuine = provider.token(&json!({"alg": "ES256", "jwk": attacker_jwk}), claims);
        Hostile {
            attacker_jwks: Some(key_set(&[attacker.jwk(&json!({}))])),
            ..Hostile::same_keys(
                "embedded-jwk",
                token,
                genuine,
                key_set(&[provider.jwk(&json!({"kid": "p"}))]),
            )
        }
    }

    /// EdDSA signed by the attacker, with `jku` pointing at `jku_url` (where the attacker
    /// serves [`attacker_jwks`](Hostile::attacker_jwks)) and the `kid` of the attacker's key.
    /// The twin is signed by the set's key and carries the same `jku`.
    pub fn jku(claims: &Value, jku_url: &str) -> Hostile {
        let provider = Key::ed25519();
        let attacker = Key::ed25519();
        let token = attacker.token(&json!({"alg": "EdDSA", "kid": "attacker", "jku": jku_url}), claims);
        let genuine = provider.token(&json!({"alg": "EdDSA", "kid": "p", "jku": jku_url}), claims);
        Hostile {
            attacker_jwks: Some(key_set(&[attacker.jwk(&json!({"kid": "attacker"}))])),
            ..Hostile::same_keys("jku", token, genuine, key_set(&[provider.jwk(&json!({"kid": "p"}))]))
        }
    }

    /// ES256, but the set's key under that `kid` is an RSA key. The twin is the same token
    /// against the right P-256 key.
    pub fn wrong_key_type(claims: &Value) -> Hostile {
        let key = Key::p256();
        let token = key.token(&json!({"alg": "ES256", "kid": "k"}), claims);
        let wrong = key_set(&[Key::rsa_2048().jwk(&json!({"kid": "k"}))]);
        Hostile::same_token("wrong-key-type", token, wrong, key_set(&[key.jwk(&json!({"kid": "k"}))]))
    }

    /// ES256, but the set's key under that `kid` is on P-384. The twin is the same token
    /// against the right P-256 key.
    pub fn wrong_curve(claims: &Value) -> Hostile {
        let key = Key::p256();
        let token = key.token(&json!({"alg": "ES256", "kid": "k"}), claims);
        let wrong = key_set(&[Key::p384().jwk(&json!({"kid": "k"}))]);
        Hostile::same_token("wrong-curve", token, wrong, key_set(&[key.jwk(&json!({"kid": "k"}))]))
    }

    /// EdDSA signed by the set's key, whose JWK says `use: enc`. The twin is the same token
    /// against the same key with `use: sig`.
    pub fn use_enc(claims: &Value) -> Hostile {
        let key = Key::ed25519();
        let token = key.token(&json!({"alg": "EdDSA", "kid": "k"}), claims);
        Hostile::same_token(
            "use-enc",
            token,
            key_set(&[key.jwk(&json!({"kid": "k", "use": "enc"}))]),
            key_set(&[key.jwk(&json!({"kid": "k", "use": "sig"}))]),
        )
    }

    /// PS256 signed by the set's key, whose JWK has `key_ops: ["sign"]` (no `verify`). The
    /// twin is the same token against the same key with `key_ops: ["verify"]`.
    pub fn key_ops_without_verify(claims: &Value) -> Hostile {
        let key = Key::rsa_2048();
        let token = key.token(&json!({"alg": "PS256", "kid": "k"}), claims);
        Hostile::same_token(
            "key-ops-without-verify",
            token,
            key_set(&[key.jwk(&json!({"kid": "k", "key_ops": ["sign"]}))]),
            key_set(&[key.jwk(&json!({"kid": "k", "key_ops": ["verify"]}))]),
        )
    }

    /// RS256 genuinely signed by a 1024-bit RSA key (the committed fixture, with its own
    /// claims: `sub` `weak`, `aud` `my-app`, expired in 2023). The twin has the same header
    /// and claims, signed by the 2048-bit key, published under the same `kid`, `use` and
    /// `alg`.
    pub fn rsa_1024() -> Hostile {
        let token = RSA_1024_JWT.trim().to_owned();
        let (header, rest) = token.split_once('.').expect("a compact JWS");
        let (payload, _) = rest.split_once('.').expect("a compact JWS");
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url"))
            .expect("a JSON header");
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
            .expect("JSON claims");
        let strong = Key::rsa_2048();
        let genuine = strong.token(&header, &claims);
        let genuine_jwks = key_set(&[strong.jwk(&json!({"kid": "weak-1024", "use": "sig", "alg": "RS256"}))]);
        Hostile {
            name: "rsa-1024",
            token,
            jwks: RSA_1024_JWKS.to_owned(),
            genuine_token: genuine,
            genuine_jwks,
            attacker_jwks: None,
        }
    }

    /// ES256 signed by the set's key, the signature in DER (ASN.1) form. The twin is signed
    /// by the same key over the same input, in the JOSE `R || S` form.
    pub fn der_ecdsa_signature(claims: &Value) -> Hostile {
        let key = Key::p256();
        let header = json!({"alg": "ES256", "kid": "k"});
        let token = key.der_token(&header, claims);
        let genuine = key.token(&header, claims);
        Hostile::same_keys("der-ecdsa-signature", token, genuine, key_set(&[key.jwk(&json!({"kid": "k"}))]))
    }

    /// EdDSA signed by the set's key, with `crit: ["exp"]` (and an `exp` header member). The
    /// twin has the same `exp` header member but no `crit`.
    pub fn crit(claims: &Value) -> Hostile {
        let key = Key::ed25519();
        let token = key.token(&json!({"alg": "EdDSA", "kid": "k", "crit": ["exp"], "exp": 1}), claims);
        let genuine = key.token(&json!({"alg": "EdDSA", "kid": "k", "exp": 1}), claims);
        Hostile::same_keys("crit", token, genuine, key_set(&[key.jwk(&json!({"kid": "k"}))]))
    }

    /// Every case above (all three [`PublicKeyBytes`], the signature's bit 77 flipped), with
    /// `claims` (but [`rsa_1024`](Hostile::rsa_1024), which has its own) and `jku_url`.
    pub fn all(claims: &Value, jku_url: &str) -> Vec<Hostile> {
        vec![
            Hostile::tampered_payload(claims),
            Hostile::flipped_signature_bit(claims, 77),
            Hostile::alg_none(claims),
            Hostile::hs256_with_public_key(claims, PublicKeyBytes::Modulus),
            Hostile::hs256_with_public_key(claims, PublicKeyBytes::SpkiDer),
            Hostile::hs256_with_public_key(claims, PublicKeyBytes::SpkiPem),
            Hostile::unknown_kid(claims),
            Hostile::embedded_jwk(claims),
            Hostile::jku(claims, jku_url),
            Hostile::wrong_key_type(claims),
            Hostile::wrong_curve(claims),
            Hostile::use_enc(claims),
            Hostile::key_ops_without_verify(claims),
            Hostile::rsa_1024(),
            Hostile::der_ecdsa_signature(claims),
            Hostile::crit(claims),
        ]
    }
}
