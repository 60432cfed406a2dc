//! A private JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2) read into [`KeyParts`]: RSA with
//! its CRT parameters, EC P-256, OKP Ed25519. Every string read out of the text is zeroed
//! once the parts are decoded.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::parts::{KeyParts, RsaParts, check_rsa_public, strip_zeros};
use super::{Algorithm, SignError};
use crate::json::{self, ObjectError};
use crate::secret::wipe;

/// A private JWK as read: its parts and the members that say how it may be used.
pub(super) struct PrivateJwk {
    pub(super) parts: KeyParts,
    pub(super) kid: Option<String>,
    /// The algorithm its `alg` member names, if any.
    pub(super) alg: Option<Algorithm>,
}

/// The JSON read from the text, every string in it zeroed when it is dropped.
struct Wiped(Value);

impl Drop for Wiped {
    fn drop(&mut self) {
        fn wipe_all(value: &mut Value) {
            match value {
                Value::String(s) => wipe(s),
                Value::Array(items) => items.iter_mut().for_each(wipe_all),
                Value::Object(members) => members.values_mut().for_each(wipe_all),
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
            }
        }
        wipe_all(&mut self.0);
    }
}

const fn invalid(reason: &'static str) -> SignError {
    SignError::InvalidKey { reason }
}

/// Reads a private JWK.
pub(super) fn parse(text: &str) -> Result<PrivateJwk, SignError> {
    let value = Wiped(serde_json::from_str(text).map_err(|_| invalid("the text is not JSON"))?);
    let Value::Object(m) = &value.0 else {
        return Err(invalid("the JWK is not a JSON object"));
    };
    if let Err(ObjectError::Duplicate(_)) = json::check_text(text) {
        return Err(invalid("the JWK repeats a member name"));
    }
    if m.contains_key("keys") {
        return Err(invalid("a JWK Set, not a JWK: give the one private key"));
    }
    let alg = usage(m)?;
    let kid = string(m, "kid")?.map(str::to_owned);
    let kty = string(m, "kty")?.ok_or(invalid("the JWK has no `kty`"))?;
    let parts = match kty {
        "RSA" => rsa(m)?,
        "EC" => match string(m, "crv")? {
            Some("P-256") => {
                let d = fixed(m, "d")?;
                let mut point = [0u8; 65];
                point[0] = 0x04;
                point[1..33].copy_from_slice(&*fixed(m, "x")?);
                point[33..].copy_from_slice(&*fixed(m, "y")?);
                KeyParts::P256 { d, point }
            }
            Some(_) => {
                return Err(SignError::UnsupportedKey { reason: "an EC key on a curve other than P-256" });
            }
            None => return Err(invalid("the EC JWK has no `crv`")),
        },
        "OKP" => match string(m, "crv")? {
            Some("Ed25519") => {
                let seed = fixed(m, "d")?;
                KeyParts::Ed25519 { seed, public: Some(*fixed(m, "x")?) }
            }
            Some(_) => return Err(SignError::UnsupportedKey { reason: "an OKP key other than Ed25519" }),
            None => return Err(invalid("the OKP JWK has no `crv`")),
        },
        "oct" => {
            return Err(SignError::UnsupportedKey {
                reason: "a symmetric (`oct`) key: client_secret_jwt signs with the client secret",
            });
        }
        _ => return Err(SignError::UnsupportedKey { reason: "a `kty` other than RSA, EC and OKP" }),
    };
    Ok(PrivateJwk { parts, kid, alg })
}

/// The members that say how the key may be used (RFC 7517 §4.2-4.4): `use` must be `sig`,
/// `key_ops` must hold `sign`; the algorithm `alg` names, if any.
fn usage(m: &Map<String, Value>) -> Result<Option<Algorithm>, SignError> {
    if string(m, "use")?.is_some_and(|u| u != "sig") {
        return Err(SignError::UsageForbidden { reason: "its `use` is not `sig`" });
    }
    match m.get("key_ops") {
        None | Some(Value::Null) => {}
        Some(Value::Array(ops)) if ops.iter().all(Value::is_string) => {
            if !ops.iter().any(|op| op == "sign") {
                return Err(SignError::UsageForbidden { reason: "its `key_ops` does not hold `sign`" });
            }
        }
        Some(_) => return Err(invalid("the JWK's `key_ops` is not an array of strings")),
    }
    match string(m, "alg")? {
        None => Ok(None),
        Some(name) => Algorithm::from_name(name).map(Some).ok_or(SignError::UsageForbidden {
            reason: "its `alg` is not a JWS signature algorithm this crate knows",
        }),
    }
}

/// A string member; `None` when absent or `null`.
fn string<'m>(m: &'m Map<String, Value>, name: &str) -> Result<Option<&'m str>, SignError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid("a JWK member that must be a string is not one")),
    }
}

/// A required base64url member (trailing `=` tolerated), decoded.
fn bytes(m: &Map<String, Value>, name: &'static str) -> Result<Zeroizing<Vec<u8>>, SignError> {
    let text = string(m, name)?.ok_or_else(|| {
        if name == "d" {
            invalid("a public JWK: the private key (`d`) is missing")
        } else {
            invalid("the JWK lacks a member its key type requires")
        }
    })?;
    let text = text.trim_end_matches('=');
    // Decoded into a buffer zeroed on drop, large enough that it is never reallocated (a
    // failed decode leaves nothing behind either).
    let mut decoded = Zeroizing::new(Vec::with_capacity(text.len() / 4 * 3 + 3));
    URL_SAFE_NO_PAD.decode_vec(text, &mut decoded).map_err(|_| invalid("a JWK member is not base64url"))?;
    Ok(decoded)
}

/// A required base64url member of exactly 32 bytes (a P-256 coordinate or scalar, an
/// Ed25519 key: RFC 7518 §6.2.1.2, §6.2.2.1, RFC 8037 §2).
fn fixed(m: &Map<String, Value>, name: &'static str) -> Result<Zeroizing<[u8; 32]>, SignError> {
    let decoded = bytes(m, name)?;
    if decoded.len() != 32 {
        return Err(invalid("a JWK member of a P-256 or Ed25519 key is not 32 bytes long"));
    }
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&decoded);
    Ok(out)
}

/// An RSA private key with its CRT parameters (RFC 7518 §6.3.2); multi-prime keys are not
/// supported.
fn rsa(m: &Map<String, Value>) -> Result<KeyParts, SignError> {
    if m.get("oth").is_some_and(|v| !v.is_null()) {
        return Err(SignError::UnsupportedKey { reason: "a multi-prime RSA key (`oth`)" });
    }
    let stripped = |name| bytes(m, name).map(|v| Zeroizing::new(strip_zeros(&v).to_vec()));
    let (n, e) = (stripped("n")?, stripped("e")?);
    check_rsa_public(&n, &e)?;
    let d = stripped("d")?;
    let crt = ["p", "q", "dp", "dq", "qi"];
    if crt.iter().any(|name| string(m, name).is_ok_and(|v| v.is_none())) {
        return Err(invalid("the RSA JWK lacks its CRT parameters (`p`, `q`, `dp`, `dq`, `qi`)"));
    }
    Ok(KeyParts::Rsa(Box::new(RsaParts {
        n: n.to_vec(),
        e: e.to_vec(),
        d,
        p: stripped("p")?,
        q: stripped("q")?,
        dp: stripped("dp")?,
        dq: stripped("dq")?,
        qi: stripped("qi")?,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> SignError {
        match parse(text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e,
        }
    }

    const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";

    #[test]
    fn okp_members() {
        let ok =
            parse(&format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","d":"{D}","kid":"k","alg":"EdDSA"}}"#));
        let jwk = ok.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(jwk.kid.as_deref(), Some("k"));
        assert_eq!(jwk.alg, Some(Algorithm::EdDsa));
        assert!(matches!(jwk.parts, KeyParts::Ed25519 { public: Some(_), .. }));
        // Padding tolerated, as in key sets.
        assert!(parse(&format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}=","d":"{D}="}}"#)).is_ok());
    }

    #[test]
    fn refusals_name_no_key_material() {
        let okp = |extra: &str| format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","d":"{D}"{extra}}}"#);
        let cases = [
            ("[]".to_owned(), "the JWK is not a JSON object"),
            ("{".to_owned(), "the text is not JSON"),
            (okp(r#","d":"AA""#), "the JWK repeats a member name"),
            (r#"{"keys":[]}"#.to_owned(), "a JWK Set, not a JWK: give the one private key"),
            (r#"{"crv":"Ed25519"}"#.to_owned(), "the JWK has no `kty`"),
            (
                format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}"}}"#),
                "a public JWK: the private key (`d`) is missing",
            ),
            (okp(r#","kid":7"#), "a JWK member that must be a string is not one"),
            (okp(r#","key_ops":"sign""#), "the JWK's `key_ops` is not an array of strings"),
            (
                format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","d":"{D}!"}}"#),
                "a JWK member is not base64url",
            ),
            (
                format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","d":"AAAA"}}"#),
                "a JWK member of a P-256 or Ed25519 key is not 32 bytes long",
            ),
            (r#"{"kty":"EC","d":"AA"}"#.to_owned(), "the EC JWK has no `crv`"),
        ];
        for (text, reason) in cases {
            let e = err(&text);
            assert_eq!(e, SignError::InvalidKey { reason }, "{text}");
            assert!(!e.to_string().contains(D), "{e}");
        }
        for (extra, reason) in [
            (r#","use":"enc""#, "its `use` is not `sig`"),
            (r#","key_ops":["verify"]"#, "its `key_ops` does not hold `sign`"),
            (r#","alg":"RSA-OAEP""#, "its `alg` is not a JWS signature algorithm this crate knows"),
        ] {
            assert_eq!(err(&okp(extra)), SignError::UsageForbidden { reason }, "{extra}");
        }
        assert!(parse(&okp(r#","use":"sig","key_ops":["sign","verify"],"use2":null"#)).is_ok());
        for text in [
            r#"{"kty":"oct","k":"c2VjcmV0"}"#,
            r#"{"kty":"EC","crv":"P-384"}"#,
            r#"{"kty":"OKP","crv":"X25519"}"#,
            r#"{"kty":"RSA","oth":[{}]}"#,
            r#"{"kty":"XYZ"}"#,
        ] {
            assert!(matches!(err(text), SignError::UnsupportedKey { .. }), "{text}");
        }
    }
}
