//! The `id_token` target: every invariant of `decode_id_token` on one string, judged against
//! the independent base64url/JOSE reference ([`crate::reference::jose`]): a well-formed ID
//! token must decode, a decoded one must say what its segments say, a refused one must be
//! refused the same way everywhere and without showing the token.
//!
//! Input: the whole input, as (lossy) UTF-8.

use oidc_refresh_core::http::Response;
use oidc_refresh_core::{
    AuthResult, Error, IdTokenPayload, JwtHeader, ProtocolErrorKind, decode_id_token,
    decode_id_token_with_header, parse_refresh_response,
};
use serde_json::Value;

use crate::common::response;
use crate::reference::jose::{base64url_decode, base64url_decode_strict, id_token_ok, is_known_claim};
use crate::reference::json::{collect_strings, json_object_of, string_list};

/// The whole body of the `id_token` fuzz target: the input as an ID token.
pub fn run(data: &[u8]) {
    check(&String::from_utf8_lossy(data));
}

/// The keys of the `IdTokenPayload` JSON for known claims (contract.md).
const PAYLOAD_KEYS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "authTime",
    "nonce",
    "acr",
    "amr",
    "azp",
    "atHash",
    "name",
    "givenName",
    "familyName",
    "middleName",
    "nickname",
    "preferredUsername",
    "profile",
    "picture",
    "website",
    "email",
    "emailVerified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phoneNumber",
    "phoneNumberVerified",
    "address",
    "updatedAt",
    "authType",
    "newUser",
    "customFields",
    "customIdentifier",
    "externalId",
];
/// String claims: (wire name, payload key).
const STRING_CLAIMS: &[(&str, &str)] = &[
    ("iss", "iss"),
    ("sub", "sub"),
    ("nonce", "nonce"),
    ("acr", "acr"),
    ("azp", "azp"),
    ("at_hash", "atHash"),
    ("name", "name"),
    ("given_name", "givenName"),
    ("family_name", "familyName"),
    ("preferred_username", "preferredUsername"),
    ("email", "email"),
    ("phone_number", "phoneNumber"),
    ("auth_type", "authType"),
    ("custom_identifier", "customIdentifier"),
    ("external_id", "externalId"),
];

/// That an error about `jwt` does not show it: no run of 16 or more base64url symbols of the
/// token appears in `shown`, unless the message quotes it from the decoded JSON (a repeated
/// claim name is named, and may be such a run). The message's own prose has no such run:
/// a "token" that is a piece of the prose (which the fuzzer builds from what it sees, e.g.
/// `the server broke the protocol: the ID token cannot be decoded: e`) is not a leak.
fn assert_no_token_in(shown: &str, jwt: &str) {
    let decoded: Vec<String> = jwt
        .split('.')
        .take(2)
        .filter_map(base64url_decode)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    for run in jwt.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        if run.len() >= 16 && shown.contains(run) && !decoded.iter().any(|d| d.contains(run)) {
            panic!("the error shows the token: {run:?} in {shown:?}");
        }
    }
}

/// The decoders an ID token goes through: the core's ([`CORE`]), or stand-ins, to show that
/// the oracle catches a broken decoder ([`check_with`]).
#[derive(Clone, Copy, Debug)]
pub struct Decoders {
    /// As `decode_id_token`.
    pub decode: fn(&str) -> Result<IdTokenPayload, Error>,
    /// As `decode_id_token_with_header`.
    pub decode_with_header: fn(&str) -> Result<(JwtHeader, IdTokenPayload), Error>,
    /// As `parse_refresh_response`, which decodes the `id_token` of a token response.
    pub parse_response: fn(&Response<Vec<u8>>) -> Result<AuthResult, Error>,
}

/// The core's decoders.
pub const CORE: Decoders = Decoders {
    decode: decode_id_token,
    decode_with_header: decode_id_token_with_header,
    parse_response: parse_refresh_response::<Vec<u8>>,
};

/// Every invariant of `decode_id_token` on one string (panics when one fails).
pub fn check(jwt: &str) {
    check_with(CORE, jwt);
}

/// [`check`] with the given decoders in place of the core's.
pub fn check_with(decoders: Decoders, jwt: &str) {
    let plain = (decoders.decode)(jwt);
    let with_header = (decoders.decode_with_header)(jwt);
    // A well-formed ID token by the contract must decode: an oracle that only checked what
    // the decoder accepts would pass a decoder that refused everything.
    if id_token_ok(jwt) {
        assert!(
            plain.is_ok() && with_header.is_ok(),
            "a well-formed ID token was refused: {plain:?} / {with_header:?}"
        );
    }
    match (&plain, &with_header) {
        (Ok(p), Ok((header, p2))) => {
            assert_eq!(p, p2, "decode_id_token and decode_id_token_with_header disagree");
            check_payload(p);
            check_jwt_reference(jwt, header, p);
        }
        (Err(a), Err(b)) => {
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "the two decoders fail differently");
            let display = a.to_string();
            assert!(!display.contains(['\n', '\r']), "an error message on more than one line: {display:?}");
            assert!(
                matches!(a, Error::Protocol(p) if matches!(p.kind(), ProtocolErrorKind::IdToken(_))),
                "not an ID-token protocol error: {a:?}"
            );
            assert_eq!(a.status(), None, "no response is involved");
            assert!(a.rotated_refresh_token().is_none());
            assert_no_token_in(&format!("{a} {a:?}"), jwt);
        }
        _ => panic!("decode_id_token and decode_id_token_with_header disagree: {plain:?} / {with_header:?}"),
    }

    // The same token inside a 200 token response decodes the same way.
    let body = format!(
        r#"{{"access_token":"at-fuzz-0001","token_type":"Bearer","id_token":{}}}"#,
        serde_json::to_string(jwt).unwrap_or_default()
    );
    let in_response = (decoders.parse_response)(&response(200, &[], body.into_bytes()));
    match (&with_header, &in_response) {
        (Ok((h, p)), Ok(r)) => {
            assert_eq!(r.id_token_payload(), Some(p), "the token response decodes the ID token differently");
            assert_eq!(r.id_token_header(), Some(h));
        }
        (Err(Error::Protocol(a)), Err(Error::Protocol(b))) => {
            assert_eq!(a.kind(), b.kind(), "the token response refuses the ID token differently");
        }
        _ => panic!("decode_id_token and parse_refresh_response disagree: {with_header:?} / {in_response:?}"),
    }
}

/// The `IdTokenPayload` JSON has the contract's shape; returns it.
pub(crate) fn check_payload(p: &IdTokenPayload) -> Value {
    let out = json_object_of(p, "IdTokenPayload");
    for key in PAYLOAD_KEYS {
        assert!(out.get(*key).is_none_or(|v| !v.is_null()), "`{key}` is null: absent claims are omitted");
    }
    assert_eq!(out.get("aud").map(string_list), p.aud().map(|a| Some(a.to_vec())), "aud is always a list");
    assert_eq!(out.get("amr").map(string_list), p.amr().map(|a| Some(a.to_vec())), "amr is always a list");
    for (key, date) in [("exp", p.exp()), ("iat", p.iat()), ("authTime", p.auth_time())] {
        let shown = out.get(key).and_then(Value::as_f64);
        assert_eq!(shown.is_some(), date.is_some(), "{key}");
        if let (Some(shown), Some(date)) = (shown, date) {
            // The member is the date as the date serialises, read back the same way (serde_json
            // without `float_roundtrip` may read a float one unit in the last place off: a
            // 26-digit `exp` found that), and that serialisation is the date's exact value.
            let own = serde_json::to_string(&date).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok());
            assert!(
                shown >= 0.0 && Some(shown) == own.as_ref().and_then(Value::as_f64),
                "{key}: {shown} / {date:?}"
            );
            let exact = serde_json::to_value(date).ok();
            assert_eq!(exact.as_ref().and_then(Value::as_f64), Some(date.as_secs_f64()), "{key}: {date:?}");
        }
    }
    for (key, flag) in [
        ("emailVerified", p.email_verified()),
        ("phoneNumberVerified", p.phone_number_verified()),
        ("newUser", p.new_user()),
    ] {
        assert_eq!(out.get(key).and_then(Value::as_bool), flag, "{key} is a boolean");
    }
    assert!(out.get("address").is_none_or(Value::is_object), "address is an object");
    assert!(out.get("customFields").is_none_or(Value::is_object), "customFields is an object");
    assert!(out.get("updatedAt").is_none_or(|v| v.is_number() || v.is_string()), "updatedAt");
    let accessors: [(&str, Option<&str>); 4] =
        [("iss", p.iss()), ("sub", p.sub()), ("email", p.email()), ("nonce", p.nonce())];
    for (key, value) in accessors {
        assert_eq!(out.get(key).and_then(Value::as_str), value, "{key}");
    }

    // Debug lists claim names only: no claim value shows (a value that is itself part of
    // a claim name, or holds Debug punctuation, could show legitimately and is skipped).
    let shown = format!("{p:?}");
    let mut values = Vec::new();
    for v in out.values() {
        collect_strings(v, &mut values);
    }
    for value in values {
        let structural = value.contains(|c: char| "\"[]{},: <>".contains(c) || c.is_control());
        let part_of_a_name =
            out.keys().any(|k| k.contains(&value)) || "IdTokenPayload claims extra <other>".contains(&value);
        if value.len() >= 8 && !structural && !part_of_a_name {
            assert!(
                !shown.contains(&value),
                "IdTokenPayload's Debug shows the claim value {value:?}: {shown}"
            );
        }
    }
    Value::Object(out)
}

/// The decoded header and claims say what the token's segments say, read independently.
fn check_jwt_reference(jwt: &str, header: &JwtHeader, p: &IdTokenPayload) {
    let segments: Vec<&str> = jwt.split('.').collect();
    assert_eq!(segments.len(), 3, "a decoded token without exactly three segments");
    // Strict unpadded base64url (contract.md), the signature possibly empty.
    let Some(header_bytes) = base64url_decode_strict(segments[0]) else {
        panic!("the header is not strict base64url")
    };
    let Some(payload_bytes) = base64url_decode_strict(segments[1]) else {
        panic!("the payload is not strict base64url")
    };
    assert!(base64url_decode_strict(segments[2]).is_some(), "the signature is not strict base64url");
    if let Ok(Value::Object(h)) = serde_json::from_slice::<Value>(&header_bytes) {
        let text = |k: &str| h.get(k).and_then(Value::as_str);
        assert_eq!(
            (header.alg(), header.typ(), header.kid()),
            (text("alg"), text("typ"), text("kid")),
            "the decoded JOSE header differs from the header segment"
        );
        assert_eq!(header.has_crit(), h.get("crit").is_some_and(|c| !c.is_null()), "crit");
    }
    let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(&payload_bytes) else { return };
    let out = json_object_of(p, "IdTokenPayload");
    for (wire, key) in STRING_CLAIMS {
        match claims.get(*wire) {
            Some(Value::String(s)) => {
                assert_eq!(out.get(*key).and_then(Value::as_str), Some(s.as_str()), "{wire}")
            }
            None | Some(Value::Null) => assert!(out.get(*key).is_none(), "{wire} absent or null"),
            Some(other) => panic!("{wire} is {other:?} but decoded"),
        }
    }
    for (name, value) in &claims {
        if !is_known_claim(name) && !PAYLOAD_KEYS.contains(&name.as_str()) {
            assert_eq!(out.get(name), Some(value), "unknown claim {name:?} not kept as an equal value");
        }
    }
    for key in out.keys() {
        assert!(
            PAYLOAD_KEYS.contains(&key.as_str()) || claims.contains_key(key),
            "payload key {key:?} came from nowhere"
        );
    }
}
