//! base64url and compact JWS (ID token) reference decoding, written independently of the
//! core: which ID tokens are well-formed by the contract (and so must decode), and the
//! encoder the oracles build their own tokens with.
//!
//! The contract (`contract.md`, "Parsing decisions"): exactly three segments; header and
//! payload strict base64url without padding, the signature base64url and possibly empty; the
//! header a JSON object, the payload a UTF-8 JSON object whose known claims are well typed
//! (with three leniencies: `aud` and `amr` may be a single string, boolean claims may be the
//! strings `"true"`/`"false"`, `updated_at` may be a number or a string); a known claim that
//! is `null` counts as absent; NumericDates are non-negative numbers, fractions allowed; no
//! member name repeated anywhere.

use serde_json::{Map, Value};

use crate::reference::json::BodyRef;

/// Decodes base64url symbols (`A-Z a-z 0-9 - _`), no padding. `strict`: refuse a length of
/// one more than a multiple of four and bits left over in the last symbol.
fn decode(s: &str, strict: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Left over: 0 bits (a length of 4n), 4 (4n + 2), 2 (4n + 3), or a whole symbol (4n + 1).
    (!strict || (bits < 6 && acc == 0)).then_some(out)
}

/// Lenient base64url (either alphabet's padding-free form; trailing bits ignored).
#[must_use]
pub fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    decode(s, false)
}

/// Strict base64url without padding (RFC 7515 §2): the only encoding of its bytes.
#[must_use]
pub fn base64url_decode_strict(s: &str) -> Option<Vec<u8>> {
    decode(s, true)
}

/// base64url without padding.
#[must_use]
pub fn base64url_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// The ID-token claims the SDK types as strings (wire names).
pub const STRING_CLAIM_NAMES: &[&str] = &[
    "iss",
    "sub",
    "nonce",
    "acr",
    "azp",
    "at_hash",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "auth_type",
    "custom_identifier",
    "external_id",
];
/// Claims that are a string or an array of strings.
pub const LIST_CLAIM_NAMES: &[&str] = &["aud", "amr"];
/// NumericDate claims.
pub const DATE_CLAIM_NAMES: &[&str] = &["exp", "iat", "auth_time", "nbf"];
/// Boolean claims (`true`/`false`, or the strings `"true"`/`"false"`).
pub const BOOLEAN_CLAIM_NAMES: &[&str] = &["email_verified", "phone_number_verified", "new_user"];
/// The members of `address` typed as strings.
pub const ADDRESS_FIELD_NAMES: &[&str] =
    &["formatted", "street_address", "locality", "region", "postal_code", "country"];

/// Whether `name` is a claim the SDK knows (so `null` means absent).
#[must_use]
pub fn is_known_claim(name: &str) -> bool {
    STRING_CLAIM_NAMES.contains(&name)
        || LIST_CLAIM_NAMES.contains(&name)
        || DATE_CLAIM_NAMES.contains(&name)
        || BOOLEAN_CLAIM_NAMES.contains(&name)
        || ["address", "updated_at", "custom_fields"].contains(&name)
}

/// A NumericDate (RFC 7519 §2): a non-negative JSON number, fractions allowed (`-0` is
/// negative).
#[must_use]
pub fn numeric_date_ok(v: &Value) -> bool {
    let Value::Number(n) = v else { return false };
    n.is_u64() || (!n.is_i64() && n.as_f64().is_some_and(|f| f.is_finite() && f.is_sign_positive()))
}

/// Whether one claim is well typed by the contract.
#[must_use]
pub fn claim_ok(name: &str, v: &Value) -> bool {
    if v.is_null() && is_known_claim(name) {
        return true;
    }
    let string_or_list =
        |v: &Value| v.is_string() || v.as_array().is_some_and(|items| items.iter().all(Value::is_string));
    match name {
        _ if STRING_CLAIM_NAMES.contains(&name) => v.is_string(),
        _ if LIST_CLAIM_NAMES.contains(&name) => string_or_list(v),
        _ if DATE_CLAIM_NAMES.contains(&name) => numeric_date_ok(v),
        _ if BOOLEAN_CLAIM_NAMES.contains(&name) => {
            v.is_boolean() || matches!(v.as_str(), Some("true" | "false"))
        }
        "address" => v.as_object().is_some_and(|a| {
            ADDRESS_FIELD_NAMES.iter().all(|f| a.get(*f).is_none_or(|x| x.is_null() || x.is_string()))
        }),
        "updated_at" => v.is_number() || v.is_string(),
        "custom_fields" => v.is_object(),
        _ => true,
    }
}

/// A segment decoded (strictly) as strict JSON: one object, no name repeated at any depth,
/// no member nested deeper than 64 levels.
fn strict_object_segment(segment: &str) -> Option<Map<String, Value>> {
    if segment.is_empty() {
        return None;
    }
    let bytes = base64url_decode_strict(segment)?;
    std::str::from_utf8(&bytes).ok()?;
    BodyRef::of(&bytes).strict_object().cloned()
}

/// Whether `jwt` is a well-formed ID token by the contract, which the core must decode:
/// three segments, each strict base64url (the signature possibly empty), the header and the
/// payload strict JSON objects, every known claim well typed.
///
/// It claims nothing about what it refuses (a lone surrogate or a number beyond `f64` that
/// serde_json refuses, for instance, may still be fine).
#[must_use]
pub fn id_token_ok(jwt: &str) -> bool {
    let segments: Vec<&str> = jwt.split('.').collect();
    let [header, payload, signature] = segments[..] else { return false };
    strict_object_segment(header).is_some()
        && base64url_decode_strict(signature).is_some()
        && strict_object_segment(payload).is_some_and(|claims| claims.iter().all(|(k, v)| claim_ok(k, v)))
}

/// A compact JWS (unsigned: an empty signature) of `header` and `claims`, as given.
#[must_use]
pub fn unsigned_jwt(header: &str, claims: &str) -> String {
    format!("{}.{}.", base64url_encode(header.as_bytes()), base64url_encode(claims.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64url() {
        assert_eq!(base64url_decode("eyJhIjoxfQ").as_deref(), Some(&b"{\"a\":1}"[..]));
        for bytes in [&b""[..], b"a", b"ab", b"abc", b"abcd", &[0xff, 0xfe, 0x00, 0x3e, 0x3f]] {
            let text = base64url_encode(bytes);
            assert_eq!(base64url_decode_strict(&text).as_deref(), Some(bytes), "{text}");
        }
        // Bits left over, and a lone symbol: fine leniently, refused strictly.
        assert_eq!(base64url_decode("YR").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64url_decode_strict("YR"), None);
        assert_eq!(base64url_decode("YWJjZ").as_deref(), Some(&b"abc"[..]));
        assert_eq!(base64url_decode_strict("YWJjZ"), None);
        assert_eq!(base64url_decode_strict("YQ=="), None);
        assert_eq!(base64url_decode_strict("Y+8/"), None);
    }

    #[test]
    fn well_formed_id_tokens() {
        let ok = |h: &str, c: &str| id_token_ok(&unsigned_jwt(h, c));
        assert!(ok(r#"{"alg":"RS256"}"#, r#"{"sub":"u1"}"#));
        assert!(ok(r#"{"alg":1,"crit":["exp"]}"#, r#"{}"#));
        assert!(ok(r#"{}"#, r#"{"aud":"app","amr":["pwd"],"email_verified":"true","new_user":false}"#));
        assert!(ok(r#"{}"#, r#"{"exp":1.5,"iat":0,"auth_time":1e3,"nbf":18446744073709551615}"#));
        assert!(ok(r#"{}"#, r#"{"updated_at":"2025-01-21","address":{"country":null,"x":1}}"#));
        assert!(ok(r#"{}"#, r#"{"sub":null,"custom_fields":{},"authTime":"dropped","x":[1,{"y":null}]}"#));
        assert!(id_token_ok(&format!("{}YWJj", unsigned_jwt("{}", "{}"))));

        assert!(!ok(r#"{"alg":"RS256","alg":"none"}"#, "{}"));
        assert!(!ok("[]", "{}"));
        assert!(!ok("{}", r#"{"sub":1}"#));
        assert!(!ok("{}", r#"{"aud":["a",1]}"#));
        assert!(!ok("{}", r#"{"exp":-1}"#));
        assert!(!ok("{}", r#"{"exp":-0}"#));
        assert!(!ok("{}", r#"{"exp":"1"}"#));
        assert!(!ok("{}", r#"{"email_verified":"yes"}"#));
        assert!(!ok("{}", r#"{"address":{"country":1}}"#));
        assert!(!ok("{}", r#"{"custom_fields":[]}"#));
        assert!(!ok("{}", r#"{"x":{"k":1,"k":2}}"#));
        assert!(!id_token_ok(&format!("{}.x", unsigned_jwt("{}", "{}"))));
        assert!(!id_token_ok(&format!(".{}.", base64url_encode(b"{}"))));
        assert!(!id_token_ok(&format!("{}Y", unsigned_jwt("{}", "{}"))));
        assert!(!is_known_claim("authTime") && is_known_claim("updated_at"));
        assert!(numeric_date_ok(&json!(0.0)) && !numeric_date_ok(&json!(-0.5)));
    }
}
