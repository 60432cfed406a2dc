//! The `verify` target: every invariant of `verify_signature` (and of `KeySetCache` and
//! `at_hash_matches` beside it) on one token, key set, client secret and list of accepted
//! algorithms, judged against the independent JWS reference ([`crate::reference::jws`]); and
//! on genuine tokens, signed here with fixed keys, that every single-byte change to the
//! token, or to the members of the key that verifies it, makes it fail.
//!
//! Input, after a first byte of flags:
//!
//! - flags bit 0 clear, any token: `[flags] [allowed lo] [allowed hi] [pick] token 0xFF
//!   secret 0xFF key set…`. [`F_SECRET`]: the client secret is given (else none);
//!   [`F_ALLOWED`]: the accepted algorithms are the bits of `allowed` (bit *i* for
//!   [`ALGS`]`[i]`, none set: none accepted), else all; [`F_GENUINE_KEYS`]: the key set is the
//!   genuine one ([`Genuine::key_set`]) instead of the input's; [`F_GENUINE_TOKEN`]: the token
//!   is the genuine one `pick` chooses instead of the input's. Token and secret are read as
//!   (lossy) UTF-8, the key set as bytes. `pick` also chooses the algorithm of the `at_hash`
//!   checks.
//! - flags bit 0 set ([`F_MUTATE`]), one change to a genuine token: `[flags] [token] [what]
//!   [pos lo] [pos hi] [byte]`: genuine token `token` (modulo their number); `what` bit 0: the
//!   change is to the genuine key set rather than to the token, bits 1–2: the change
//!   ([`Op`]: replace the byte at `pos` with `byte`, insert `byte` before `pos`, delete the
//!   byte at `pos`, flip bit `byte % 8` of the byte at `pos`), bit 3: only the token's own
//!   algorithm is accepted. Positions wrap around the text's length.
//!
//! Invariants, on any input: an answer (never a panic), the same twice. A token that verifies
//! is three strict base64url segments whose header names that algorithm, accepted, without
//! `crit`; HS* only with a non-empty secret, the others only with a key of the header's `kid`;
//! and the reference ([`decide`]: the contract's candidate rules, the signature checked with
//! `ring`) says it verifies. A token the reference says verifies is not refused (but as
//! malformed for a header that is not strict JSON), and each refusal agrees with the
//! reference's reading of the header and the set (`AlgNone` for `none`, `UnknownKid` only when
//! no key with that `kid` fits, ...). `KeySetCache` agrees with `verify_signature` on the
//! same token: with no keys it asks for them, within the cool-down it answers the same, after
//! it an unknown `kid` makes it fetch, a stale set is never used. `at_hash_matches` agrees
//! with the reference `at_hash`. On a genuine token: unchanged, it verifies; after any one
//! change, it does not; after a change to the member of the key set that decides its key
//! (material, `kty`, `crv`, `kid`, `use`, `alg`, `key_ops`) it does not; an HS* token
//! verifies whatever becomes of the key set.
//!
//! The genuine keys: an RSA 2048-bit key (`core/tests/fixtures/rsa-2048.pk8.der`), EC P-256 and
//! P-384 keys, an Ed25519 key from a fixed seed, and the client secret [`SECRET`]; the genuine
//! key set holds their public keys as a provider serves them, an `oct` key and a 1024-bit RSA
//! key (`core/tests/fixtures/rsa-1024.jwks.json`) beside them. RS* and EdDSA tokens are signed
//! when the oracle starts (both deterministic), PS* and ES* tokens (randomised signatures) were
//! signed once with the same RSA key and the EC keys (not kept) and are constants here, so that
//! an input means the same token in every run.

use std::sync::OnceLock;

use oidc_refresh_core::http::Uri;
use oidc_refresh_core::{
    Algorithm, ClientSecret, JwkSet, KeySetCache, SignatureError, UnixTime, Verdict, at_hash_matches,
    verify_signature,
};
use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::{self as sig, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use serde_json::Value;

use crate::common::{Reader, SEP};
use crate::reference::jose::{base64url_decode_strict, base64url_encode};
use crate::reference::json::BodyRef;
use crate::reference::jws::{ALGS, Decision, Entry, Jws, at_hash, decide, read_set};

/// Flags bit 0: one change to a genuine token or to the genuine key set.
pub const F_MUTATE: u8 = 1;
/// Flags bit 1 (any token): the client secret is given.
pub const F_SECRET: u8 = 2;
/// Flags bit 2 (any token): only the algorithms of the `allowed` bits are accepted.
pub const F_ALLOWED: u8 = 4;
/// Flags bit 3 (any token): the genuine key set instead of the input's.
pub const F_GENUINE_KEYS: u8 = 8;
/// Flags bit 4 (any token): the genuine token `pick` chooses instead of the input's.
pub const F_GENUINE_TOKEN: u8 = 16;

/// The client secret of the genuine HS* tokens.
pub const SECRET: &str = "a-client-secret-of-some-length-0123456789";
/// The claims of every genuine token.
pub const CLAIMS: &str = r#"{"iss":"https://id.example","sub":"user-1","aud":"my-app","iat":1700000000,"exp":1700003600,"nonce":"n-0S6_WzA2Mj"}"#;
/// The seed of the genuine Ed25519 key.
const ED25519_SEED: [u8; 32] = *b"oidc-refresh fuzz: Ed25519 seed.";
/// The seed of another Ed25519 key (an attacker's), for the seeds of this target.
const OTHER_ED25519_SEED: [u8; 32] = *b"oidc-refresh fuzz: another seed.";
const RSA_2048_PKCS8: &[u8] = include_bytes!("../../core/tests/fixtures/rsa-2048.pk8.der");
/// A JWK Set holding a 1024-bit RSA key, and an RS256 token it signed.
pub const RSA_1024_JWKS: &str = include_str!("../../core/tests/fixtures/rsa-1024.jwks.json");
/// An RS256 token signed by the 1024-bit key of [`RSA_1024_JWKS`] (`kid` `weak-1024`).
pub const RSA_1024_JWT: &str = include_str!("../../core/tests/fixtures/rsa-1024.jwt");

/// The public key of the genuine EC P-256 key (its private key was not kept).
const P256_X: &str = "TxaxGfzlD1GTmEArb7lzvI6tez4e_EbUDI6ydKoHMwg";
const P256_Y: &str = "mIoXJwHCLm-lvKtphFUVvY_AOfTR3laK76toI--woOo";
/// The public key of the genuine EC P-384 key.
const P384_X: &str = "rzW4HpY7us0CcIvVsA5bjv2z06AhUeii0FIrQkGMg_2lcwtz255Jye-ov5xMnNKb";
const P384_Y: &str = "gxAbf2e7H3rcMochZHN1cdUPtOEYzBhhNFmVX8QHG7P-eWg2vyFnI2XZER9_PcdG";
/// Signed once with ring (`RsaKeyPair::sign` with `RSA_PSS_SHA*`, `EcdsaKeyPair::sign` with the
/// `*_FIXED_SIGNING` algorithms): header `{"alg":ALG,"kid":KID,"typ":"JWT"}`, claims [`CLAIMS`].
const PS256_JWT: &str = "eyJhbGciOiJQUzI1NiIsImtpZCI6InJzYS0yMDQ4IiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUiLCJzdWIiOiJ1c2VyLTEiLCJhdWQiOiJteS1hcHAiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwibm9uY2UiOiJuLTBTNl9XekEyTWoifQ.ESi1Y3T3g8cpa65cRQx-CJfeOJFNSHlvDs1zC6vrk16_i7ejPjN-hMOprMhaYNIBiqpDA-8XmAvaJ4auFe0NI74ByPo4A_qU6TJjXYvYoacMcuLP7aHg9DubxKJZO_xqbdBnJTEaLOCuh0GezlAxI9q_qyqQi_09-HFMKBm5RqO5J2x3CmF8ZxrSUohceUgcvRLUJV9Fv75qq-EQaO4U8o5xJP6WYPn12k17gWpCRtEHILIP-NHKvIlFxGwtnhwmKY67g36wqPI0APFxDshFOIFqicVf7GKHWGIpCuz7_EXfSjm5yCwgrWNHv6yZ5YnRpr8EVRPImEdLbvxKzPEvmg";
const PS384_JWT: &str = "eyJhbGciOiJQUzM4NCIsImtpZCI6InJzYS0yMDQ4IiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUiLCJzdWIiOiJ1c2VyLTEiLCJhdWQiOiJteS1hcHAiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwibm9uY2UiOiJuLTBTNl9XekEyTWoifQ.yTUaQiGduVgmzc1wRJvWJNOtb5qCaJ3JJkWOMb6dqOlqqOSBS7eTRL1PvMiaGvjKNAkQ-SXMDsbac3EDiAgKYbuv6WdSTn4Va4-ENFtZNbppArbpcv7gWAOKzBUWcY4KeTMbcf0LD9zL8A8Me4rZf9uAqF37ww-qMJtZZ0XXEf1E-0uM4eZR8ZloXAbdD_bPpyZsBkrla-cEAMfjdB9L-EAg9NEKLG7XWajdvLmJyth7hclfkCqumcdNd7ZseD-NO2L43k29URdMT9glaoLGjckKx-XaSl8J5Vz8Tqm4bYnmQE8lfr9M0s2PVcfdrfvgpp1GFdtsWlRm8lVzOxxK8w";
const PS512_JWT: &str = "eyJhbGciOiJQUzUxMiIsImtpZCI6InJzYS0yMDQ4IiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUiLCJzdWIiOiJ1c2VyLTEiLCJhdWQiOiJteS1hcHAiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwibm9uY2UiOiJuLTBTNl9XekEyTWoifQ.DYT-m6Beo7R0e25AVu44u7raOvbCTrJyF_Lwy3QH3SksFONuoA5-tcXA6ItKMyTCgvfJPiTm7J5VfSBONwqFQ4dIae-74B_qwJxWhEf_4rKx08TjzCPitOFZDq2Ibqd8FPezKc2WqpfkmAsoo2f_u2pIcFbAZKAnSpmCWY3AE6oanoPnGUZIoI548248vQqwzWhswf5BHsEhOVlfmOb681mvDJIY4wEI23r3RRMqzMEIbeE5pXxgPahGerD_m0MnzyRqJnUOcQCY9RzxsVPzEXon-VV65k22LFSSlta9dyUpq1zMYsAoDgicD2b0uGG8Arsjg-TOi_vQQ4tnAa-rYg";
const ES256_JWT: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjLXAyNTYiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUiLCJzdWIiOiJ1c2VyLTEiLCJhdWQiOiJteS1hcHAiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwibm9uY2UiOiJuLTBTNl9XekEyTWoifQ.4QlWHte9D_lH-Z-eovVnDXnABYGWhluHqFCNVdGKrcxa0unNQUZmUVRhX5xOLm8UpxKCMp411YE7sb9ZXS2Ktg";
const ES384_JWT: &str = "eyJhbGciOiJFUzM4NCIsImtpZCI6ImVjLXAzODQiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUiLCJzdWIiOiJ1c2VyLTEiLCJhdWQiOiJteS1hcHAiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwibm9uY2UiOiJuLTBTNl9XekEyTWoifQ.kUDRHpzz4xyPpVt2g6b4sFKsTiYoxD32-3OJ8IiRISwQAfbJQKfbS4f8T28VUHnIOKaHcH8Xfl1-il5nLZd_reM99rzKhuXbVIq9By7r5JQBJ4Q84Y8Z3uMQptdesIav";

/// A signature verifier: the core's `verify_signature`, or a stand-in.
pub type Verifier =
    fn(&str, &JwkSet, Option<&ClientSecret>, Option<&[Algorithm]>) -> Result<Algorithm, SignatureError>;

/// One change to a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// The byte at the position replaced.
    Replace = 0,
    /// A byte inserted before the position (the end included).
    Insert = 1,
    /// The byte at the position deleted.
    Delete = 2,
    /// One bit of the byte at the position flipped.
    Flip = 3,
}

impl Op {
    fn of(bits: u8) -> Op {
        match bits & 3 {
            0 => Op::Replace,
            1 => Op::Insert,
            2 => Op::Delete,
            _ => Op::Flip,
        }
    }

    /// Applies the change to `text` at `pos` (wrapped around its length) with `byte`; returns
    /// the position used.
    #[must_use]
    pub fn apply(self, text: &mut Vec<u8>, pos: usize, byte: u8) -> usize {
        if text.is_empty() {
            if self == Op::Insert {
                text.push(byte);
            }
            return 0;
        }
        match self {
            Op::Insert => {
                let p = pos % (text.len() + 1);
                text.insert(p, byte);
                p
            }
            Op::Replace | Op::Delete | Op::Flip => {
                let p = pos % text.len();
                match self {
                    Op::Replace => text[p] = byte,
                    Op::Delete => {
                        text.remove(p);
                    }
                    _ => text[p] ^= 1 << (byte % 8),
                }
                p
            }
        }
    }
}

/// A genuine token: it verifies against the genuine key set (or, HS*, the secret [`SECRET`]).
#[derive(Clone, Debug)]
pub struct GenuineToken {
    /// Its algorithm.
    pub alg: Algorithm,
    /// Its header's `kid`.
    pub kid: Option<&'static str>,
    /// The compact JWS.
    pub jwt: String,
}

/// Where one member of a key of the genuine set lies in its text.
#[derive(Clone, Debug)]
struct Member {
    /// The opening quote of its name.
    name_quote: usize,
    /// Its name (without quotes).
    name: std::ops::Range<usize>,
    /// Its string value (for `key_ops`, the string `verify` in it), without quotes.
    value: std::ops::Range<usize>,
    /// Renaming it (or deleting it) makes the key fail.
    name_matters: bool,
    /// The value is base64url (where a trailing `=` is tolerated).
    base64: bool,
}

/// The members of one key of the genuine set.
#[derive(Clone, Debug)]
struct KeyText {
    kid: &'static str,
    members: Vec<Member>,
}

/// The genuine keys and tokens.
#[derive(Debug)]
pub struct Genuine {
    /// The key set, as a provider serves it (compact JSON): RSA, EC P-256, EC P-384 and OKP
    /// Ed25519 keys, an `oct` key and a 1024-bit RSA key.
    pub key_set: String,
    /// The genuine tokens, one per algorithm, and an EdDSA token without `kid`.
    pub tokens: Vec<GenuineToken>,
    set: JwkSet,
    keys: Vec<KeyText>,
}

/// Writes a key set's text, noting where each member lies.
struct SetWriter {
    text: String,
    keys: Vec<KeyText>,
}

impl SetWriter {
    /// A key of string members (`key_ops`, when named, is written as `[value]`). Members
    /// whose name matters: `kty`, `crv`, `kid` and the material.
    fn key(&mut self, kid: &'static str, members: &[(&str, &str)]) {
        self.text.push_str(if self.keys.is_empty() { "" } else { "," });
        self.text.push('{');
        let mut written = Vec::new();
        for (i, (name, value)) in members.iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            let name_quote = self.text.len();
            self.text.push('"');
            let name_start = self.text.len();
            self.text.push_str(name);
            let name_end = self.text.len();
            self.text.push_str("\":");
            let list = *name == "key_ops";
            self.text.push_str(if list { "[\"" } else { "\"" });
            let value_start = self.text.len();
            self.text.push_str(value);
            let value_end = self.text.len();
            self.text.push_str(if list { "\"]" } else { "\"" });
            written.push(Member {
                name_quote,
                name: name_start..name_end,
                value: value_start..value_end,
                name_matters: ["kty", "crv", "kid", "n", "e", "x", "y"].contains(name),
                base64: ["n", "e", "x", "y"].contains(name),
            });
        }
        self.text.push('}');
        self.keys.push(KeyText { kid, members: written });
    }
}

fn b64(bytes: &[u8]) -> String {
    base64url_encode(bytes)
}

fn signing_input(alg: &str, kid: Option<&str>) -> String {
    let header = match kid {
        Some(kid) => format!(r#"{{"alg":"{alg}","kid":"{kid}","typ":"JWT"}}"#),
        None => format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
    };
    format!("{}.{}", b64(header.as_bytes()), b64(CLAIMS.as_bytes()))
}

/// A token of `header` and `claims` signed with HMAC (`alg` HS256, HS384 or HS512) keyed with
/// `key` (the seeds sign one with a public key's bytes).
#[must_use]
pub fn hs_token(alg: &str, key: &[u8], header: &str, claims: &str) -> String {
    let algorithm = match alg {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        _ => hmac::HMAC_SHA512,
    };
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let tag = hmac::sign(&hmac::Key::new(algorithm, key), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// A token of `header` and `claims` signed with the genuine Ed25519 key (or, `other`, with
/// another one the genuine set does not hold).
#[must_use]
pub fn ed25519_token(header: &str, claims: &str, other: bool) -> String {
    let pair = ed25519(if other { &OTHER_ED25519_SEED } else { &ED25519_SEED });
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    format!("{input}.{}", b64(pair.sign(input.as_bytes()).as_ref()))
}

/// The public key (`x`) of the Ed25519 key [`ed25519_token`] signs with when `other`.
#[must_use]
pub fn other_ed25519_x() -> String {
    b64(ed25519(&OTHER_ED25519_SEED).public_key().as_ref())
}

fn ed25519(seed: &[u8; 32]) -> Ed25519KeyPair {
    match Ed25519KeyPair::from_seed_unchecked(seed) {
        Ok(pair) => pair,
        Err(e) => panic!("an Ed25519 seed: {e}"),
    }
}

/// The genuine keys and tokens (made once).
pub fn genuine() -> &'static Genuine {
    static GENUINE: OnceLock<Genuine> = OnceLock::new();
    GENUINE.get_or_init(make_genuine)
}

fn make_genuine() -> Genuine {
    let rsa = match RsaKeyPair::from_pkcs8(RSA_2048_PKCS8) {
        Ok(pair) => pair,
        Err(e) => panic!("the RSA fixture: {e}"),
    };
    let rsa_public: sig::RsaPublicKeyComponents<Vec<u8>> = rsa.public().into();
    let ed = ed25519(&ED25519_SEED);
    let weak: Value = serde_json::from_str(RSA_1024_JWKS).unwrap_or_default();
    let weak_n = weak["keys"][0]["n"].as_str().unwrap_or_default();

    let mut w = SetWriter { text: String::from(r#"{"keys":["#), keys: Vec::new() };
    let (n, e, ed_x) = (b64(&rsa_public.n), b64(&rsa_public.e), b64(ed.public_key().as_ref()));
    w.key("rsa-2048", &[("kty", "RSA"), ("kid", "rsa-2048"), ("use", "sig"), ("n", &n), ("e", &e)]);
    w.key(
        "ec-p256",
        &[
            ("kty", "EC"),
            ("kid", "ec-p256"),
            ("use", "sig"),
            ("alg", "ES256"),
            ("crv", "P-256"),
            ("x", P256_X),
            ("y", P256_Y),
        ],
    );
    w.key(
        "ec-p384",
        &[
            ("kty", "EC"),
            ("kid", "ec-p384"),
            ("crv", "P-384"),
            ("key_ops", "verify"),
            ("x", P384_X),
            ("y", P384_Y),
        ],
    );
    w.key(
        "ed25519",
        &[
            ("kty", "OKP"),
            ("kid", "ed25519"),
            ("use", "sig"),
            ("alg", "EdDSA"),
            ("crv", "Ed25519"),
            ("x", &ed_x),
        ],
    );
    // Never a key for HS*: the client secret is (an `oct` key holding the very same octets).
    w.key("hmac", &[("kty", "oct"), ("kid", "hmac"), ("k", &b64(SECRET.as_bytes()))]);
    w.key(
        "weak-1024",
        &[
            ("kty", "RSA"),
            ("kid", "weak-1024"),
            ("use", "sig"),
            ("alg", "RS256"),
            ("n", weak_n),
            ("e", "AQAB"),
        ],
    );
    w.text.push_str("]}");

    let rng = SystemRandom::new();
    let mut tokens = Vec::new();
    let mut push = |alg: &str, kid: Option<&'static str>, jwt: String| {
        let Some(alg) = Algorithm::from_name(alg) else { panic!("{alg} is not an algorithm") };
        tokens.push(GenuineToken { alg, kid, jwt });
    };
    for (alg, padding) in [
        ("RS256", &sig::RSA_PKCS1_SHA256 as &'static dyn sig::RsaEncoding),
        ("RS384", &sig::RSA_PKCS1_SHA384),
        ("RS512", &sig::RSA_PKCS1_SHA512),
    ] {
        let input = signing_input(alg, Some("rsa-2048"));
        let mut out = vec![0; rsa.public().modulus_len()];
        if let Err(e) = rsa.sign(padding, &rng, input.as_bytes(), &mut out) {
            panic!("an RSA signature: {e}");
        }
        push(alg, Some("rsa-2048"), format!("{input}.{}", b64(&out)));
    }
    for (alg, jwt) in [("PS256", PS256_JWT), ("PS384", PS384_JWT), ("PS512", PS512_JWT)] {
        push(alg, Some("rsa-2048"), jwt.to_owned());
    }
    push("ES256", Some("ec-p256"), ES256_JWT.to_owned());
    push("ES384", Some("ec-p384"), ES384_JWT.to_owned());
    for kid in [Some("ed25519"), None] {
        let input = signing_input("EdDSA", kid);
        push("EdDSA", kid, format!("{input}.{}", b64(ed.sign(input.as_bytes()).as_ref())));
    }
    for alg in ["HS256", "HS384", "HS512"] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        push(alg, None, hs_token(alg, SECRET.as_bytes(), &header, CLAIMS));
    }

    let set = match JwkSet::parse(w.text.as_bytes()) {
        Ok(set) => set,
        Err(e) => panic!("the genuine key set is refused: {e}"),
    };
    // Every genuine token verifies by the reference: the constants are what they claim.
    let entries = read_set(&serde_json::from_str(&w.text).unwrap_or_default()).unwrap_or_default();
    for t in &tokens {
        let jws = Jws::read(&t.jwt).unwrap_or_else(|| panic!("a genuine token does not read: {}", t.jwt));
        assert_eq!(
            decide(&jws, &entries, Some(SECRET), None),
            Decision::Verifies(ALGS[alg_index(t.alg)]),
            "a genuine token does not verify by the reference: {}",
            t.jwt
        );
    }
    Genuine { key_set: w.text, tokens, set, keys: w.keys }
}

impl Genuine {
    /// The parsed genuine key set.
    #[must_use]
    pub fn set(&self) -> &JwkSet {
        &self.set
    }

    /// Whether a change (`op` with `byte` at `pos`, as [`Op::apply`] placed it) to the genuine
    /// key set must make `token` fail: it falls in a member of the key that verifies it that
    /// decides the key's material, type, curve, `kid` (when the token names one), `use`, `alg`
    /// or `key_ops`. The one change there that may keep it: a `=` appended to base64url.
    fn protects(&self, token: &GenuineToken, op: Op, pos: usize, byte: u8) -> bool {
        let kid = match (token.alg, token.kid) {
            (_, Some(kid)) => kid,
            (Algorithm::EdDsa, None) => "ed25519",
            _ => return false,
        };
        let Some(key) = self.keys.iter().find(|k| k.kid == kid) else { return false };
        key.members.iter().any(|m| {
            let is_kid = &self.key_set[m.name.clone()] == "kid";
            if is_kid && token.kid.is_none() {
                return false;
            }
            let name_matters = m.name_matters;
            match op {
                Op::Insert => {
                    let in_value = (m.value.start..=m.value.end).contains(&pos)
                        && !(m.base64 && pos == m.value.end && byte == b'=');
                    in_value || (name_matters && (m.name.start..=m.name.end).contains(&pos))
                }
                Op::Replace | Op::Delete | Op::Flip => {
                    let from = if name_matters { m.name_quote } else { m.value.start - 1 };
                    (from..=m.value.end).contains(&pos)
                }
            }
        })
    }
}

fn alg_index(alg: Algorithm) -> usize {
    Algorithm::ALL.iter().position(|a| *a == alg).unwrap_or(0)
}

/// An input of the any-token form.
#[must_use]
pub fn input(flags: u8, allowed: &[&str], pick: u8, token: &str, secret: &str, key_set: &[u8]) -> Vec<u8> {
    let bits = allowed.iter().filter_map(|a| ALGS.iter().position(|n| n == a)).fold(0u16, |b, i| b | 1 << i);
    let mut out = vec![flags & !F_MUTATE, bits as u8, (bits >> 8) as u8, pick];
    out.extend_from_slice(token.as_bytes());
    out.push(SEP);
    out.extend_from_slice(secret.as_bytes());
    out.push(SEP);
    out.extend_from_slice(key_set);
    out
}

/// An input of the one-change form: genuine token `token`, the change `op` at `pos` with
/// `byte`, to the key set when `in_key_set`, only the token's algorithm accepted when `only`.
#[must_use]
pub fn mutation_input(token: u8, in_key_set: bool, op: Op, only: bool, pos: u16, byte: u8) -> Vec<u8> {
    let what = u8::from(in_key_set) | (op as u8) << 1 | u8::from(only) << 3;
    vec![F_MUTATE, token, what, pos as u8, (pos >> 8) as u8, byte]
}

/// The whole body of the `verify` fuzz target.
pub fn run(data: &[u8]) {
    let _ = run_with(verify_signature, data);
}

/// Runs the target's checks with `verify` in place of the core's `verify_signature`; returns
/// what the main call gave (for the seeds' replay).
pub fn run_with(verify: Verifier, data: &[u8]) -> Result<Algorithm, SignatureError> {
    let mut r = Reader(data);
    let flags = r.byte();
    if flags & F_MUTATE != 0 {
        return mutate(verify, &mut r);
    }
    let bits = u16::from(r.byte()) | u16::from(r.byte()) << 8;
    let pick = r.byte();
    let mut fields = r.0.splitn(3, |&b| b == SEP);
    let (token, secret, key_set) = (
        fields.next().unwrap_or_default(),
        fields.next().unwrap_or_default(),
        fields.next().unwrap_or_default(),
    );
    let g = genuine();
    let token = if flags & F_GENUINE_TOKEN != 0 {
        g.tokens[usize::from(pick) % g.tokens.len()].jwt.clone()
    } else {
        String::from_utf8_lossy(token).into_owned()
    };
    let secret = (flags & F_SECRET != 0).then(|| String::from_utf8_lossy(secret).into_owned());
    let allowed: Option<Vec<&str>> =
        (flags & F_ALLOWED != 0).then(|| (0..12).filter(|i| bits & 1 << i != 0).map(|i| ALGS[i]).collect());
    let key_set = if flags & F_GENUINE_KEYS != 0 { g.key_set.as_bytes() } else { key_set };
    let alg = Algorithm::ALL[usize::from(pick) % 12];
    check_at_hash(alg, secret.as_deref().unwrap_or(&token), &token);
    check_with(verify, &token, key_set, secret.as_deref(), allowed.as_deref())
}

fn mutate(verify: Verifier, r: &mut Reader<'_>) -> Result<Algorithm, SignatureError> {
    let g = genuine();
    let token = &g.tokens[r.below(g.tokens.len())];
    let what = r.byte();
    let pos = usize::from(r.byte()) | usize::from(r.byte()) << 8;
    let byte = r.byte();
    let (in_key_set, op, only) = (what & 1 != 0, Op::of(what >> 1), what & 8 != 0);
    let allowed_names = only.then(|| vec![ALGS[alg_index(token.alg)]]);
    let allowed = only.then(|| vec![token.alg]);
    let secret = ClientSecret::new(SECRET);
    if !in_key_set {
        let mut bytes = token.jwt.clone().into_bytes();
        let at = op.apply(&mut bytes, pos, byte);
        // A change that is not UTF-8 cannot be a `&str`: its replacement character is a change too.
        let changed = String::from_utf8_lossy(&bytes).into_owned();
        let result = verify(&changed, &g.set, Some(&secret), allowed.as_deref());
        if changed == token.jwt {
            assert_eq!(result, Ok(token.alg), "a genuine token does not verify: {changed}");
        } else {
            assert!(
                result.is_err(),
                "a genuine {} token still verifies after {op:?} of byte {at} with {byte:#04x}: {changed}",
                token.alg
            );
        }
        check_at_hash(token.alg, &changed, &token.jwt);
        let checked =
            check_with(verify, &changed, g.key_set.as_bytes(), Some(SECRET), allowed_names.as_deref());
        assert_eq!(checked, result);
        return result;
    }
    let mut text = g.key_set.clone().into_bytes();
    let at = op.apply(&mut text, pos, byte);
    let changed = JwkSet::parse(&text);
    let protected = g.protects(token, op, at, byte);
    let set = changed
        .clone()
        .unwrap_or_else(|_| JwkSet::parse(br#"{"keys":[]}"#).unwrap_or_else(|_| g.set.clone()));
    let result = verify(&token.jwt, &set, Some(&secret), allowed.as_deref());
    if text == g.key_set.as_bytes() || token.alg.is_hmac() {
        // HS* is checked with the secret: no key set, changed or not, read or not, matters.
        assert_eq!(result, Ok(token.alg), "a genuine {} token does not verify", token.alg);
    } else if protected && changed.is_ok() {
        assert!(
            result.is_err(),
            "a genuine {} token still verifies after {op:?} of byte {at} of the key set with {byte:#04x}: {}",
            token.alg,
            String::from_utf8_lossy(&text)
        );
    }
    let checked = check_with(verify, &token.jwt, &text, Some(SECRET), allowed_names.as_deref());
    assert_eq!(checked, result);
    result
}

/// `at_hash_matches` against the reference `at_hash`: the access token's own hash matches,
/// any other claimed value (here, a piece of `other`) matches only if it is that hash.
fn check_at_hash(alg: Algorithm, access_token: &str, other: &str) {
    let Some(want) = at_hash(ALGS[alg_index(alg)], access_token) else { panic!("no hash for {alg}") };
    assert!(
        at_hash_matches(alg, access_token, &want),
        "{alg}: the access token's own at_hash does not match"
    );
    for claimed in [other.split('.').nth(1).unwrap_or(other), &want[1..], ""] {
        assert_eq!(
            at_hash_matches(alg, access_token, claimed),
            claimed == want,
            "{alg}: at_hash {claimed:?}"
        );
    }
}

/// Every invariant of `verify_signature` on one token, key set (bytes: an unreadable set
/// stands for the empty set), client secret and list of accepted algorithms (names of
/// [`ALGS`]); returns what `verify` gave.
pub fn check_with(
    verify: Verifier,
    jwt: &str,
    key_set: &[u8],
    secret: Option<&str>,
    allowed: Option<&[&str]>,
) -> Result<Algorithm, SignatureError> {
    let parsed = JwkSet::parse(key_set);
    let set = match &parsed {
        Ok(set) => set.clone(),
        Err(_) => match JwkSet::parse(br#"{"keys":[]}"#) {
            Ok(empty) => empty,
            Err(e) => panic!("the empty set is refused: {e}"),
        },
    };
    // The entries the reference reads; none when the set is refused (the empty set is used),
    // unknown (`None`) when serde_json cannot read a set the core could.
    let entries: Option<Vec<Entry>> = match &parsed {
        Ok(_) => BodyRef::of(key_set).value.as_ref().and_then(read_set),
        Err(_) => Some(Vec::new()),
    };
    let client_secret = secret.map(ClientSecret::new);
    let algorithms: Option<Vec<Algorithm>> = allowed.map(|names| {
        names
            .iter()
            .map(|n| Algorithm::from_name(n).unwrap_or_else(|| panic!("{n} is not an algorithm")))
            .collect()
    });
    let result = verify(jwt, &set, client_secret.as_ref(), algorithms.as_deref());
    let again = verify(jwt, &set, client_secret.as_ref(), algorithms.as_deref());
    assert_eq!(result, again, "verify_signature is not deterministic");

    let segments: Vec<&str> = jwt.split('.').collect();
    let header_ok =
        segments.len() == 3 && base64url_decode_strict(segments[0]).is_some_and(|h| !h.is_empty());
    let structure_ok = header_ok && base64url_decode_strict(segments[2]).is_some();
    let jws = Jws::read(jwt);
    let decision = match (&jws, &entries) {
        (Some(jws), Some(entries)) => Some(decide(jws, entries, secret, allowed)),
        _ => None,
    };
    match result {
        Ok(alg) => {
            assert!(structure_ok, "a token that is not three strict base64url segments verifies: {jwt}");
            assert!(allowed.is_none_or(|a| a.contains(&alg.name())), "{alg} is not accepted, yet verifies");
            if alg.is_hmac() {
                assert!(secret.is_some_and(|s| !s.is_empty()), "an HS* token verifies without a secret");
            } else {
                assert!(!set.is_empty(), "a token verifies against an empty key set");
            }
            if let Some(jws) = &jws {
                assert_eq!(
                    jws.alg.as_deref(),
                    Some(alg.name()),
                    "verified with another alg than the header's"
                );
                assert!(!jws.crit, "a token with crit verifies");
                if let Some(kid) = jws.kid.as_ref().filter(|_| !alg.is_hmac()) {
                    assert!(
                        set.kids().any(|k| k == Some(kid.as_str())),
                        "verified by no key with kid {kid:?}"
                    );
                }
            }
            if let Some(decision) = decision {
                assert!(
                    decision == Decision::Verifies(alg.name()) || decision == Decision::Unsure,
                    "verifies as {alg}, but the reference says {decision:?}: {jwt}"
                );
            }
        }
        Err(e) => {
            let shown = e.to_string();
            assert!(!shown.is_empty() && !shown.contains(['\n', '\r']), "{e:?}: {shown:?}");
            if let (Some(Decision::Verifies(alg)), Some(jws)) = (decision, &jws) {
                // A header serde_json reads but the contract's strict JSON refuses (a repeated
                // name, deep nesting) may be malformed; nothing else may stop a good token.
                let header =
                    base64url_decode_strict(jwt.split('.').next().unwrap_or_default()).unwrap_or_default();
                let strict = BodyRef::of(&header).strict_object().is_some();
                assert!(
                    e == SignatureError::Malformed && !strict,
                    "a token that verifies by the reference ({alg}, kid {:?}) is refused: {e:?}",
                    jws.kid
                );
            }
            if let Some(jws) = &jws {
                check_refusal(e, jws, entries.as_deref(), secret, allowed);
            }
            if !header_ok {
                assert_eq!(
                    e,
                    SignatureError::Malformed,
                    "not three segments, or a header not base64url: {jwt}"
                );
            } else if !structure_ok {
                // The header is read before the signature: a refused header says so first.
                assert!(
                    !matches!(
                        e,
                        SignatureError::UnknownKid
                            | SignatureError::NoCandidate
                            | SignatureError::Ambiguous
                            | SignatureError::WeakKey
                            | SignatureError::NoSecret
                    ),
                    "{e:?} for a signature that is not base64url: {jwt}"
                );
            }
        }
    }
    check_cache(jwt, &set, client_secret.as_ref(), algorithms.as_deref());
    result
}

/// Each refusal says why, by the reference's reading of the token and the set.
fn check_refusal(
    e: SignatureError,
    jws: &Jws<'_>,
    entries: Option<&[Entry]>,
    secret: Option<&str>,
    allowed: Option<&[&str]>,
) {
    let alg = jws.alg.as_deref().unwrap_or_default();
    let fitting = |entries: &[Entry]| -> (usize, usize) {
        let keys = entries.iter().filter(|e| matches!(e, Entry::Key(k) if k.fits(alg))).count();
        let rsa = alg.starts_with("RS") || alg.starts_with("PS");
        let unsure = entries.iter().filter(|e| matches!(e, Entry::Unsure { .. }) && rsa).count();
        (keys, unsure)
    };
    let with_kid = |entries: &[Entry], kid: &str| {
        entries.iter().any(|e| matches!(e, Entry::Key(k) if k.fits(alg) && k.kid.as_deref() == Some(kid)))
    };
    match e {
        SignatureError::AlgNone => assert!(alg.eq_ignore_ascii_case("none"), "{e:?} for alg {alg:?}"),
        SignatureError::UnsupportedAlg => assert!(!ALGS.contains(&alg), "{e:?} for alg {alg:?}"),
        SignatureError::AlgNotAllowed => {
            assert!(allowed.is_some_and(|a| !a.contains(&alg)), "{e:?} for alg {alg:?} in {allowed:?}")
        }
        SignatureError::CritHeader => assert!(jws.crit, "{e:?} without crit"),
        SignatureError::NoSecret => {
            assert!(alg.starts_with("HS") && secret.is_none_or(str::is_empty), "{e:?} for {alg:?}")
        }
        SignatureError::UnknownKid => {
            let Some(kid) = &jws.kid else { panic!("{e:?} for a token without kid") };
            assert!(
                entries.is_none_or(|es| !with_kid(es, kid)),
                "{e:?}, but a key has kid {kid:?} and fits {alg}"
            );
        }
        SignatureError::NoCandidate => {
            assert!(jws.kid.is_none(), "{e:?} for a token with a kid");
            assert!(entries.is_none_or(|es| fitting(es).0 == 0), "{e:?}, but a key fits {alg}");
        }
        SignatureError::Ambiguous => {
            assert!(jws.kid.is_none(), "{e:?} for a token with a kid");
            assert!(
                entries.is_none_or(|es| {
                    let (keys, unsure) = fitting(es);
                    keys + unsure >= 2
                }),
                "{e:?}, but fewer than two keys fit {alg}"
            );
        }
        SignatureError::WeakKey => {
            assert!(alg.starts_with("RS") || alg.starts_with("PS"), "{e:?} for {alg:?}")
        }
        // Malformed (a header the core's strict JSON refuses), BadSignature: the comparison
        // with the reference's decision covers them.
        _ => {}
    }
}

/// `KeySetCache` agrees with `verify_signature` on the same token: with no keys it asks for
/// them first, within the cool-down it verifies with what it holds, after it a kid it does
/// not know makes it fetch again, and a stale set is never used for a key-set algorithm.
fn check_cache(jwt: &str, set: &JwkSet, secret: Option<&ClientSecret>, allowed: Option<&[Algorithm]>) {
    if allowed.is_some_and(<[Algorithm]>::is_empty) {
        // An empty list means "all" to the cache, "none" to verify_signature.
        return;
    }
    const T0: u64 = 1_700_000_000;
    let uri: Uri = match "https://id.example/jwks".parse() {
        Ok(uri) => uri,
        Err(e) => panic!("a jwks_uri: {e}"),
    };
    let mut cache =
        KeySetCache::new(uri).with_algorithms(allowed.map(<[Algorithm]>::to_vec).unwrap_or_default());
    let at = UnixTime::from_secs;
    let verdict = |r: Result<Algorithm, SignatureError>| match r {
        Ok(alg) => Verdict::Verified(alg),
        Err(e) => Verdict::Refused(e),
    };
    let fetch_if_new_keys_help = |r: Result<Algorithm, SignatureError>| match r {
        Err(e) if e.may_need_new_keys() => Verdict::FetchKeys,
        r => verdict(r),
    };
    let empty = JwkSet::parse(br#"{"keys":[]}"#).unwrap_or_else(|_| set.clone());
    let with_none = verify_signature(jwt, &empty, secret, allowed);
    assert_eq!(cache.verify(at(T0), jwt, secret), fetch_if_new_keys_help(with_none), "an empty cache");
    cache.handle_key_set(at(T0), set.clone());
    let with_keys = verify_signature(jwt, set, secret, allowed);
    assert_eq!(cache.verify(at(T0 + 59), jwt, secret), verdict(with_keys), "within the cool-down");
    assert_eq!(
        cache.verify(at(T0 + 60), jwt, secret),
        fetch_if_new_keys_help(with_keys),
        "after the cool-down"
    );
    let stale = cache.verify(at(T0 + 3600), jwt, secret);
    match with_keys {
        Ok(alg) if alg.is_hmac() => assert_eq!(stale, Verdict::Verified(alg), "HS* never needs the key set"),
        Ok(_) => assert_eq!(stale, Verdict::FetchKeys, "a stale key set was used"),
        Err(e) => {
            assert!(stale == Verdict::FetchKeys || stale == Verdict::Refused(e), "stale: {stale:?} for {e:?}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genuine_tokens_verify_and_their_changes_do_not() {
        let g = genuine();
        assert_eq!(g.tokens.len(), 13);
        assert_eq!(g.set().len(), 5, "the oct key is skipped");
        for (i, t) in g.tokens.iter().enumerate() {
            let i = i as u8;
            // Unchanged (a replacement by the same byte), then changed in the signature, the
            // header and a dot.
            let last = t.jwt.len() - 1;
            assert_eq!(
                run_with(
                    verify_signature,
                    &mutation_input(i, false, Op::Replace, false, last as u16, t.jwt.as_bytes()[last])
                ),
                Ok(t.alg)
            );
            for pos in [0, t.jwt.find('.').unwrap_or(0), last] {
                assert!(
                    run_with(verify_signature, &mutation_input(i, false, Op::Flip, true, pos as u16, 0))
                        .is_err()
                );
            }
        }
    }

    /// Every single-byte change to every genuine token (each byte replaced by each of the 256
    /// values, each insertion, each deletion), and to every byte of the genuine key set that
    /// the key verifying a token depends on: none verifies. Too slow for every run (a few
    /// million signature checks): `cargo test --release -p oidc-refresh-oracles -- --ignored
    /// every_single_byte_change`.
    #[test]
    #[ignore = "minutes of signature checks; run by hand in release"]
    fn every_single_byte_change() {
        let g = genuine();
        let secret = ClientSecret::new(SECRET);
        let mut tried = 0u64;
        for t in &g.tokens {
            let len = t.jwt.len();
            for op in [Op::Replace, Op::Insert, Op::Delete] {
                let positions = if op == Op::Insert { len + 1 } else { len };
                let bytes = if op == Op::Delete { 1 } else { 256 };
                for pos in 0..positions {
                    for byte in 0..bytes {
                        let mut text = t.jwt.clone().into_bytes();
                        let _ = op.apply(&mut text, pos, byte as u8);
                        let changed = String::from_utf8_lossy(&text);
                        let result = verify_signature(&changed, &g.set, Some(&secret), None);
                        assert_eq!(result.is_ok(), changed == t.jwt, "{op:?} {pos} {byte:#04x}: {changed}");
                        tried += 1;
                    }
                }
            }
            if t.alg.is_hmac() {
                continue;
            }
            for op in [Op::Replace, Op::Insert, Op::Delete] {
                for pos in 0..=g.key_set.len() {
                    for byte in 0..=255u8 {
                        if !g.protects(t, op, pos, byte) || (op == Op::Delete && byte > 0) {
                            continue;
                        }
                        let mut text = g.key_set.clone().into_bytes();
                        let at = op.apply(&mut text, pos, byte);
                        if at != pos || text == g.key_set.as_bytes() {
                            continue;
                        }
                        if let Ok(set) = JwkSet::parse(&text) {
                            let result = verify_signature(&t.jwt, &set, Some(&secret), None);
                            assert!(result.is_err(), "{} key set {op:?} {pos} {byte:#04x}", t.alg);
                        }
                        tried += 1;
                    }
                }
            }
        }
        assert!(tried > 1_000_000, "{tried}");
    }

    #[test]
    fn protected_members_of_the_key_set() {
        let g = genuine();
        let es256 =
            g.tokens.iter().find(|t| t.alg == Algorithm::Es256).cloned().unwrap_or_else(|| panic!("ES256"));
        let x = g.key_set.find(P256_X).unwrap_or(0);
        assert!(g.protects(&es256, Op::Replace, x + 3, b'A'));
        assert!(g.protects(&es256, Op::Insert, x + P256_X.len(), b'A'));
        assert!(!g.protects(&es256, Op::Insert, x + P256_X.len(), b'='), "padding is tolerated");
        let ed_no_kid = g.tokens.iter().find(|t| t.alg == Algorithm::EdDsa && t.kid.is_none()).cloned();
        let ed_no_kid = ed_no_kid.unwrap_or_else(|| panic!("EdDSA without kid"));
        let kid = g.key_set.find("\"ed25519\"").unwrap_or(0) + 1;
        assert!(!g.protects(&ed_no_kid, Op::Replace, kid, b'x'), "a token without kid needs no kid");
        assert!(!g.protects(&es256, Op::Replace, kid, b'x'), "another key's kid");
    }
}
