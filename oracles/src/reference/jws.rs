//! JWK Sets (RFC 7517), JWS signatures (RFC 7515, RFC 7518, RFC 8037) and `at_hash` (Core
//! §3.1.3.6), written from the contract ("Verified ID tokens") without the core's code: which
//! members of a set are usable keys, which keys are candidates for a token, and whether a
//! token verifies. The cryptography itself is `ring`'s, as in the core: what is independent
//! here is everything around it (reading the set and the header, choosing the key, the
//! algorithm's parameters, the hash of `at_hash`).
//!
//! The contract: a JWK is a candidate only when its `kty` (and `crv`) fit the header's `alg`,
//! its `use`, if present, is `sig`, its `alg`, if present, equals the header's, and its
//! `key_ops`, if present, includes `verify`; with a `kid` in the header only candidates with
//! that `kid` count, without one there must be exactly one candidate; `none` and every `alg`
//! but the twelve fail, HS* only with the client secret's octets, never with a key of the set;
//! RSA keys under 2048 bits fail; ECDSA signatures are `R || S`; a header with `crit` fails.
//! RFC 7517 §5: a member of `keys` that cannot be used is skipped. A member that is `null`
//! counts as absent, as everywhere in the contract.

use ring::{digest, hmac, signature};
use serde_json::{Map, Value};

use super::jose::{base64url_decode_strict, base64url_encode};

/// The twelve algorithms, in the order of `oidc_refresh_core::Algorithm::ALL` (the fuzz
/// inputs choose among them by bit).
pub const ALGS: [&str; 12] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA", "HS256", "HS384",
    "HS512",
];

/// A base64url member of a JWK: unpadded and strict (RFC 7515 §2), trailing `=` tolerated
/// (some servers pad, and the padding says nothing the length does not).
#[must_use]
pub fn jwk_base64url(text: &str) -> Option<Vec<u8>> {
    base64url_decode_strict(text.trim_end_matches('='))
}

/// A member that must be a string when present: `Ok(None)` when absent or `null`, `Err(())`
/// when it is something else (the key is then unusable).
fn text<'v>(key: &'v Map<String, Value>, name: &str) -> Result<Option<&'v str>, ()> {
    match key.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(()),
    }
}

/// The public key of a usable JWK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Material {
    /// RSA: the modulus and exponent, big-endian, leading zero bytes dropped (RFC 7518
    /// §6.3.1 forbids them; they do not change the number).
    Rsa {
        /// The modulus.
        n: Vec<u8>,
        /// The public exponent.
        e: Vec<u8>,
    },
    /// EC P-256: `0x04 || x || y`.
    P256(Vec<u8>),
    /// EC P-384: `0x04 || x || y`.
    P384(Vec<u8>),
    /// OKP Ed25519: the 32-byte public key.
    Ed25519(Vec<u8>),
}

/// A usable JWK: its material and the members that decide where it may be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jwk {
    /// `kid`.
    pub kid: Option<String>,
    /// The public key.
    pub material: Material,
    use_: Option<String>,
    alg: Option<String>,
    key_ops: Option<Vec<String>>,
}

/// What one member of a set's `keys` is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A key of a type this crate verifies with, whose members are well typed and whose
    /// material decodes.
    Key(Jwk),
    /// Skipped: not an object, an unknown `kty` or `crv`, `oct`, a missing or mistyped member,
    /// material that does not decode or has the wrong length.
    Skipped,
    /// An RSA key whose `n` is longer (over 4096 symbols, so over 24,000 bits with no zero
    /// bytes) than any key `ring` verifies with: whether it is kept (as a weak key) or skipped
    /// is the implementation's choice. It never verifies.
    Unsure {
        /// `kid`.
        kid: Option<String>,
    },
}

impl Entry {
    /// Reads one member of `keys`.
    #[must_use]
    pub fn read(v: &Value) -> Entry {
        Self::read_key(v).unwrap_or(Entry::Skipped)
    }

    fn read_key(v: &Value) -> Option<Entry> {
        let key = v.as_object()?;
        let kty = text(key, "kty").ok()??;
        let crv = text(key, "crv").ok()?;
        let kid = text(key, "kid").ok()?.map(str::to_owned);
        let use_ = text(key, "use").ok()?.map(str::to_owned);
        let alg = text(key, "alg").ok()?.map(str::to_owned);
        let key_ops = match key.get("key_ops") {
            None | Some(Value::Null) => None,
            Some(Value::Array(ops)) => {
                Some(ops.iter().map(|op| op.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>()?)
            }
            Some(_) => return None,
        };
        let exact = |name: &str, len: usize| {
            let bytes = jwk_base64url(text(key, name).ok()??)?;
            (bytes.len() == len).then_some(bytes)
        };
        let point = |len: usize| {
            let (x, y) = (exact("x", len)?, exact("y", len)?);
            Some([&[4][..], &x, &y].concat())
        };
        let material = match (kty, crv) {
            ("RSA", _) => {
                let (n, e) = (text(key, "n").ok()??, text(key, "e").ok()??);
                if n.len() > 4096 {
                    return Some(Entry::Unsure { kid });
                }
                let strip =
                    |v: Vec<u8>| v.iter().position(|&b| b != 0).map_or_else(Vec::new, |i| v[i..].to_vec());
                Material::Rsa { n: strip(jwk_base64url(n)?), e: strip(jwk_base64url(e)?) }
            }
            ("EC", Some("P-256")) => Material::P256(point(32)?),
            ("EC", Some("P-384")) => Material::P384(point(48)?),
            ("OKP", Some("Ed25519")) => Material::Ed25519(exact("x", 32)?),
            _ => return None,
        };
        Some(Entry::Key(Jwk { kid, material, use_, alg, key_ops }))
    }

    /// The entry's `kid`, when it is a key (or may be one).
    #[must_use]
    pub fn kid(&self) -> Option<Option<&str>> {
        match self {
            Entry::Key(k) => Some(k.kid.as_deref()),
            Entry::Unsure { kid } => Some(kid.as_deref()),
            Entry::Skipped => None,
        }
    }
}

/// The members of `keys` of a JWK Set, read one by one; `None` when `set` is not an object
/// whose `keys` is an array.
#[must_use]
pub fn read_set(set: &Value) -> Option<Vec<Entry>> {
    Some(set.as_object()?.get("keys")?.as_array()?.iter().map(Entry::read).collect())
}

/// The kind of key an algorithm needs (`None` for HS* and every other name).
fn family(alg: &str) -> Option<fn(&Material) -> bool> {
    Some(match alg {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => |m| matches!(m, Material::Rsa { .. }),
        "ES256" => |m| matches!(m, Material::P256(_)),
        "ES384" => |m| matches!(m, Material::P384(_)),
        "EdDSA" => |m| matches!(m, Material::Ed25519(_)),
        _ => return None,
    })
}

impl Jwk {
    /// Whether this key is a candidate for `alg`: its type and curve, `use`, `alg`, `key_ops`.
    #[must_use]
    pub fn fits(&self, alg: &str) -> bool {
        family(alg).is_some_and(|f| f(&self.material))
            && self.use_.as_deref().is_none_or(|u| u == "sig")
            && self.alg.as_deref().is_none_or(|a| a == alg)
            && self.key_ops.as_ref().is_none_or(|ops| ops.iter().any(|op| op == "verify"))
    }

    /// Whether `sig` is a signature of `message` by this key under `alg` (with `ring`; RSA
    /// between 2048 and 8192 bits).
    #[must_use]
    pub fn verifies(&self, alg: &str, message: &[u8], sig: &[u8]) -> bool {
        let unparsed = |params: &'static dyn signature::VerificationAlgorithm, key: &[u8]| {
            signature::UnparsedPublicKey::new(params, key).verify(message, sig).is_ok()
        };
        match (&self.material, alg) {
            (Material::Rsa { n, e }, _) => {
                let params: &signature::RsaParameters = match alg {
                    "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                    "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                    "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                    "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
                    "PS384" => &signature::RSA_PSS_2048_8192_SHA384,
                    "PS512" => &signature::RSA_PSS_2048_8192_SHA512,
                    _ => return false,
                };
                signature::RsaPublicKeyComponents { n, e }.verify(params, message, sig).is_ok()
            }
            (Material::P256(point), "ES256") => unparsed(&signature::ECDSA_P256_SHA256_FIXED, point),
            (Material::P384(point), "ES384") => unparsed(&signature::ECDSA_P384_SHA384_FIXED, point),
            (Material::Ed25519(x), "EdDSA") => unparsed(&signature::ED25519, x),
            _ => false,
        }
    }
}

/// A compact JWS as the contract reads it: three segments, the header a JSON object (strict
/// base64url), the signature strict base64url.
#[derive(Clone, Debug)]
pub struct Jws<'t> {
    /// The header, as serde_json reads it.
    pub header: Map<String, Value>,
    /// The header's `alg`, when it is a string.
    pub alg: Option<String>,
    /// The header's `kid`, when it is a string (any other `kid` is no `kid`).
    pub kid: Option<String>,
    /// The header has a `crit` member that is not `null`.
    pub crit: bool,
    /// The token up to its second dot.
    pub signing_input: &'t str,
    /// The signature segment, decoded.
    pub signature: Vec<u8>,
}

impl<'t> Jws<'t> {
    /// Reads `jwt`; `None` when it is not three segments, a header that is strict base64url
    /// of a JSON object serde_json reads, and a strict base64url signature.
    #[must_use]
    pub fn read(jwt: &'t str) -> Option<Jws<'t>> {
        let segments: Vec<&str> = jwt.split('.').collect();
        let [header, _, signature] = segments[..] else { return None };
        let Ok(Value::Object(header)) = serde_json::from_slice(&base64url_decode_strict(header)?) else {
            return None;
        };
        let signature = base64url_decode_strict(signature)?;
        let alg = header.get("alg").and_then(Value::as_str).map(str::to_owned);
        let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
        let crit = header.get("crit").is_some_and(|c| !c.is_null());
        let signing_input = &jwt[..jwt.rfind('.').unwrap_or(0)];
        Some(Jws { header, alg, kid, crit, signing_input, signature })
    }
}

/// What the contract says of a token against a key set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// It verifies, with this algorithm.
    Verifies(&'static str),
    /// It is refused.
    Fails,
    /// It depends on an implementation's choice (an [`Entry::Unsure`] key counted or not
    /// among the candidates of a token without `kid`): no claim.
    Unsure,
}

/// Whether `jws` verifies against the members of a key set (`entries`, as [`read_set`]
/// reads them), the client secret `secret` (HS* only) and the algorithms `allowed` (`None`:
/// all twelve).
#[must_use]
pub fn decide(jws: &Jws<'_>, entries: &[Entry], secret: Option<&str>, allowed: Option<&[&str]>) -> Decision {
    let Some(alg) = jws.alg.as_deref().and_then(|a| ALGS.iter().find(|n| **n == a)).copied() else {
        return Decision::Fails;
    };
    if allowed.is_some_and(|allowed| !allowed.contains(&alg)) || jws.crit {
        return Decision::Fails;
    }
    let (message, sig) = (jws.signing_input.as_bytes(), &jws.signature[..]);
    let verdict = |ok: bool| if ok { Decision::Verifies(alg) } else { Decision::Fails };
    if family(alg).is_none() {
        // HS*: the client secret's octets, never a key of the set.
        let algorithm = match alg {
            "HS256" => hmac::HMAC_SHA256,
            "HS384" => hmac::HMAC_SHA384,
            _ => hmac::HMAC_SHA512,
        };
        let Some(secret) = secret.filter(|s| !s.is_empty()) else { return Decision::Fails };
        return verdict(hmac::verify(&hmac::Key::new(algorithm, secret.as_bytes()), message, sig).is_ok());
    }
    let candidates = || entries.iter().filter_map(|e| if let Entry::Key(k) = e { Some(k) } else { None });
    let candidates = candidates().filter(|k| k.fits(alg));
    match &jws.kid {
        Some(kid) => {
            verdict(candidates.filter(|k| k.kid.as_ref() == Some(kid)).any(|k| k.verifies(alg, message, sig)))
        }
        None => {
            let unsure = entries.iter().any(|e| matches!(e, Entry::Unsure { .. }) && rsa_alg(alg));
            let keys: Vec<&Jwk> = candidates.collect();
            match keys[..] {
                _ if unsure => Decision::Unsure,
                [key] => verdict(key.verifies(alg, message, sig)),
                _ => Decision::Fails,
            }
        }
    }
}

fn rsa_alg(alg: &str) -> bool {
    alg.starts_with("RS") || alg.starts_with("PS")
}

/// The `at_hash` of `access_token` for an ID token signed with `alg` (Core §3.1.3.6): the
/// left half of the hash of its ASCII octets, base64url; SHA-256 for the `*256` algorithms,
/// SHA-384 for `*384`, SHA-512 for `*512` and for EdDSA with Ed25519. `None` for another `alg`.
#[must_use]
pub fn at_hash(alg: &str, access_token: &str) -> Option<String> {
    let algorithm = match alg {
        "RS256" | "PS256" | "ES256" | "HS256" => &digest::SHA256,
        "RS384" | "PS384" | "ES384" | "HS384" => &digest::SHA384,
        "RS512" | "PS512" | "HS512" | "EdDSA" => &digest::SHA512,
        _ => return None,
    };
    let hash = digest::digest(algorithm, access_token.as_bytes());
    Some(base64url_encode(&hash.as_ref()[..hash.as_ref().len() / 2]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// RFC 8037 Appendix A.2 and A.4.
    const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    #[test]
    fn rfc8037_vector_and_candidates() {
        let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X});
        let jws = Jws::read(RFC8037_JWS).expect("a JWS");
        let decide_with =
            |keys: Value| decide(&jws, &read_set(&json!({ "keys": keys })).expect("a set"), None, None);
        assert_eq!(decide_with(json!([ed])), Decision::Verifies("EdDSA"));
        assert_eq!(decide_with(json!([ed, ed])), Decision::Fails, "two candidates, no kid");
        assert_eq!(
            decide_with(json!([ed, {"kty": "OKP", "crv": "X25519", "x": RFC8037_X}])),
            Decision::Verifies("EdDSA")
        );
        let mut enc = ed.clone();
        enc["use"] = json!("enc");
        assert_eq!(decide_with(json!([enc])), Decision::Fails);
        let mut padded = ed.clone();
        padded["x"] = json!(format!("{RFC8037_X}="));
        assert_eq!(decide_with(json!([padded])), Decision::Verifies("EdDSA"));
        let mut ops = ed.clone();
        ops["key_ops"] = json!(["sign"]);
        assert_eq!(decide_with(json!([ops])), Decision::Fails);
        let mut bad = ed.clone();
        bad["use"] = json!(1);
        assert_eq!(Entry::read(&bad), Entry::Skipped);
        assert_eq!(
            decide_with(json!([ed, {"kty": "RSA", "n": "A".repeat(4097), "e": "AQAB"}])),
            Decision::Verifies("EdDSA")
        );
        assert_eq!(
            decide(&jws, &read_set(&json!({"keys": [ed]})).expect("a set"), None, Some(&["RS256"])),
            Decision::Fails
        );
    }

    #[test]
    fn at_hash_vector() {
        // Core 1.0, Appendix A.3.
        assert_eq!(
            at_hash("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y").as_deref(),
            Some("77QmUPtjPfzWtF2AnpK9RQ")
        );
        assert_eq!(at_hash("none", "x"), None);
    }
}
