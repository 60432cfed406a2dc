//! Differential test of the core's parser against a plain serde_json reference.
//!
//! The core reads token responses and ID tokens with a purpose-built single-pass scanner
//! (`core/src/json/`). This file holds an independent, deliberately plain implementation of
//! the contract's parsing decisions (`contract.md`, "Parsing decisions"; `docs/rules.md` R10–R19)
//! on top of serde_json — members read in order as `RawValue`s, nested values walked by a
//! serde visitor, claims typed one by one — and checks, on every vector below, that both give
//! the same success JSON or the same error class (with the same offending field, segment or
//! repeated name, and the same rotated refresh token, R18 rotated-token-survives-broken-response).
//!
//! Vectors: a hand-written corpus of edge cases (escapes, surrogates, control characters,
//! numbers, nesting, duplicates, base64), generated token responses and ID tokens (proptest,
//! valid and mistyped), and mutations of valid bodies (byte flips, insertions, deletions,
//! truncations). The borrowing entry point is checked to agree with the owning one.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oidc_refresh_core::http::Response;
use oidc_refresh_core::{
    Error, JwtError, ProtocolErrorKind, parse_refresh_response, parse_refresh_response_borrowed,
};
use proptest::prelude::*;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

// =======================================================================================
// The reference
// =======================================================================================

/// What parsing a response gives, as compared: the success JSON (canonical: sorted keys),
/// or an error class, and the rotated refresh token an error hands over.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Success(Value),
    OAuth(String),
    Protocol(String, Option<String>),
}

/// One member of an object: its unescaped name and raw value.
type Members = Vec<(String, Box<RawValue>)>;

enum Top {
    Object(Members),
    Other,
}

impl<'de> de::Deserialize<'de> for Top {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Top;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
                let mut members = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    members.push((name, map.next_value::<Box<RawValue>>()?));
                }
                Ok(Top::Object(members))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Top::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Top, E> {
                Ok(Top::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Top, E> {
                Ok(Top::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Top, E> {
                Ok(Top::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Top, E> {
                Ok(Top::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<Top, E> {
                Ok(Top::Other)
            }
            fn visit_unit<E>(self) -> Result<Top, E> {
                Ok(Top::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// Why an object could not be read.
enum ReadError {
    NotJson,
    NotAnObject,
}

fn read_members(bytes: &[u8]) -> Result<Members, ReadError> {
    match serde_json::from_slice::<Top>(bytes) {
        Err(_) => Err(ReadError::NotJson),
        Ok(Top::Other) => Err(ReadError::NotAnObject),
        Ok(Top::Object(m)) => Ok(m),
    }
}

/// The first name (in order) that occurs again later.
fn first_repeat(members: &Members) -> Option<String> {
    let names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    if names.len() <= 24 {
        (0..names.len()).find(|&i| names[i + 1..].contains(&names[i])).map(|i| names[i].to_owned())
    } else {
        let mut seen = std::collections::HashSet::new();
        names.into_iter().find(|n| !seen.insert(*n)).map(str::to_owned)
    }
}

/// Walks a kept value: repeated names in nested objects, nesting of at most 64 levels
/// (the contract keeps output readable by every JSON reader), and serde_json's string rules.
struct Walk(u16);

fn deeper<E: de::Error>(depth: u16) -> Result<u16, E> {
    if depth >= 64 { Err(E::custom("too deep")) } else { Ok(depth + 1) }
}

impl<'de> DeserializeSeed<'de> for Walk {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let depth = deeper(self.0)?;
        let mut names = Vec::new();
        let mut found = None;
        while let Some(name) = map.next_key::<String>()? {
            let inner = map.next_value_seed(Walk(depth))?;
            if found.is_none() {
                found = if names.contains(&name) { Some(name.clone()) } else { inner };
            }
            names.push(name);
        }
        Ok(found)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let depth = deeper(self.0)?;
        let mut found = None;
        while let Some(inner) = seq.next_element_seed(Walk(depth))? {
            found = found.or(inner);
        }
        Ok(found)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A kept value's check: `Ok` or the error class (`NotJson`, `Duplicate:name`).
fn check_kept(raw: &RawValue) -> Result<(), String> {
    if !raw.get().contains(['{', '[']) {
        return Ok(());
    }
    match Walk(0).deserialize(&mut serde_json::Deserializer::from_str(raw.get())) {
        Ok(None) => Ok(()),
        Ok(Some(name)) => Err(format!("Duplicate:{name}")),
        Err(_) => Err("NotJson".into()),
    }
}

fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

/// The value as a string serde_json reads (`None`: not a string, or a lone surrogate).
fn string(raw: &RawValue) -> Option<String> {
    if !raw.get().starts_with('"') {
        return None;
    }
    serde_json::from_str::<String>(raw.get()).ok()
}

fn string_list(raw: &RawValue) -> Option<Vec<String>> {
    string(raw).map(|s| vec![s]).or_else(|| {
        raw.get().starts_with('[').then(|| serde_json::from_str::<Vec<String>>(raw.get()).ok()).flatten()
    })
}

const UNREPRESENTABLE: &str = "<unrepresentable>";

/// A kept raw value as a `Value` (or a marker that makes the whole result "unrepresentable").
fn value(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or_else(|_| Value::String(UNREPRESENTABLE.into()))
}

fn mentions_unrepresentable(v: &Value) -> bool {
    match v {
        Value::String(s) => s == UNREPRESENTABLE,
        Value::Array(a) => a.iter().any(mentions_unrepresentable),
        Value::Object(m) => m.values().any(mentions_unrepresentable),
        _ => false,
    }
}

const RESPONSE_KNOWN: &[&str] = &[
    "access_token",
    "token_type",
    "expires_in",
    "refresh_token",
    "id_token",
    "scope",
    "code",
    "state",
    "step_up_token",
    "amr",
    "provider_name",
    "provider_access_token",
    "error",
];

const RESPONSE_OUTPUT: &[&str] = &[
    "accessToken",
    "tokenType",
    "expiresIn",
    "refreshToken",
    "idToken",
    "idTokenPayload",
    "scope",
    "code",
    "state",
    "stepUpToken",
    "amr",
    "providerName",
    "providerAccessToken",
];

fn printable(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| (0x20..=0x7E).contains(&b))
}

/// The reference: a response (status, body) to its outcome.
fn reference(status: u16, body: &[u8]) -> Outcome {
    let protocol = |class: &str| Outcome::Protocol(class.into(), None);
    let members = match read_members(body) {
        Ok(m) => m,
        Err(ReadError::NotJson) => return protocol("NotJson"),
        Err(ReadError::NotAnObject) => return protocol("NotAnObject"),
    };
    let field = |name: &str| members.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_ref());
    // R10, R11.
    if let Some(e) = field("error").filter(|v| !is_null(v)) {
        return match string(e) {
            Some(code) if !code.is_empty() => match first_repeat(&members) {
                Some(name) => protocol(&format!("Duplicate:{name}")),
                // Every value of an error body is held to the same strictness.
                None => match members.iter().try_for_each(|(_, v)| check_kept(v)) {
                    Ok(()) => Outcome::OAuth(code),
                    Err(class) => protocol(&class),
                },
            },
            _ => protocol("Invalid:error"),
        };
    }
    if !(200..300).contains(&status) {
        return protocol("UnexpectedStatus");
    }
    // R18 rotated-token-survives-broken-response.
    let rts: Vec<&RawValue> =
        members.iter().filter(|(k, _)| k == "refresh_token").map(|(_, v)| v.as_ref()).collect();
    let rotated = match rts.as_slice() {
        [one] => string(one).filter(|t| printable(t)),
        _ => None,
    };
    let fail = |class: String| Outcome::Protocol(class, rotated.clone());
    if let Some(name) = first_repeat(&members) {
        return fail(format!("Duplicate:{name}"));
    }
    let mut out = Map::new();
    let mut extras = Map::new();
    for (name, raw) in &members {
        let known = RESPONSE_KNOWN.contains(&name.as_str());
        if known && is_null(raw) {
            continue;
        }
        let non_empty = |f: &str| string(raw).filter(|s| !s.is_empty()).ok_or_else(|| format!("Invalid:{f}"));
        let any_string = |f: &str| string(raw).ok_or_else(|| format!("Invalid:{f}"));
        let r: Result<(), String> = (|| {
            match name.as_str() {
                "access_token" => {
                    out.insert("accessToken".into(), json!(non_empty("access_token")?));
                }
                "token_type" => {
                    let t = non_empty("token_type")?;
                    let t = if t.eq_ignore_ascii_case("bearer") { "Bearer".to_owned() } else { t };
                    out.insert("tokenType".into(), json!(t));
                }
                "expires_in" => {
                    let digits = string(raw).unwrap_or_else(|| raw.get().to_owned());
                    let ok = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
                    let n = ok.then(|| digits.parse::<u64>().ok()).flatten().ok_or("Invalid:expires_in")?;
                    out.insert("expiresIn".into(), json!(n));
                }
                "refresh_token" => {
                    let t = non_empty("refresh_token")?;
                    if !printable(&t) {
                        return Err("Invalid:refresh_token".into());
                    }
                    out.insert("refreshToken".into(), json!(t));
                }
                "id_token" => {
                    let jwt = any_string("id_token")?;
                    let claims = reference_id_token(&jwt).map_err(|e| format!("IdToken:{e}"))?;
                    out.insert("idToken".into(), json!(jwt));
                    out.insert("idTokenPayload".into(), claims);
                }
                "scope" | "code" | "state" | "step_up_token" | "provider_name" | "provider_access_token" => {
                    let key = match name.as_str() {
                        "step_up_token" => "stepUpToken",
                        "provider_name" => "providerName",
                        "provider_access_token" => "providerAccessToken",
                        other => other,
                    };
                    out.insert(key.into(), json!(any_string(name)?));
                }
                "amr" => {
                    out.insert("amr".into(), json!(string_list(raw).ok_or("Invalid:amr")?));
                }
                // Dropped (it collides with an output name), but checked all the same.
                other if RESPONSE_OUTPUT.contains(&other) => check_kept(raw)?,
                _ => {
                    check_kept(raw)?;
                    extras.insert(name.clone(), value(raw));
                }
            }
            Ok(())
        })();
        if let Err(class) = r {
            return fail(class);
        }
    }
    if !out.contains_key("accessToken") {
        return fail("Missing:access_token".into());
    }
    if !out.contains_key("tokenType") {
        return fail("Missing:token_type".into());
    }
    for (k, v) in extras {
        out.entry(k).or_insert(v);
    }
    let out = Value::Object(out);
    if mentions_unrepresentable(&out) {
        return Outcome::Success(json!(UNREPRESENTABLE));
    }
    Outcome::Success(out)
}

/// The reference ID-token decoder: the claims JSON, or the error class
/// (`Kind:Segment` / `InvalidClaim:claim`).
fn reference_id_token(jwt: &str) -> Result<Value, String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, p, s] = parts.as_slice() else { return Err("SegmentCount".into()) };
    let b64 = |t: &str, seg: &str| {
        if t.is_empty() {
            return Err(format!("Base64:{seg}"));
        }
        URL_SAFE_NO_PAD.decode(t).map_err(|_| format!("Base64:{seg}"))
    };
    let header = b64(h, "Header")?;
    let payload = b64(p, "Payload")?;
    if !s.is_empty() {
        URL_SAFE_NO_PAD.decode(s).map_err(|_| "Base64:Signature".to_owned())?;
    }
    let object = |bytes: &[u8], seg: &str| -> Result<Members, String> {
        std::str::from_utf8(bytes).map_err(|_| format!("NotUtf8:{seg}"))?;
        let members = read_members(bytes).map_err(|e| match e {
            ReadError::NotJson => format!("NotJson:{seg}"),
            ReadError::NotAnObject => format!("NotAnObject:{seg}"),
        })?;
        if let Some(n) = first_repeat(&members) {
            return Err(format!("Duplicate:{seg}:{n}"));
        }
        Ok(members)
    };
    let kept = |raw: &RawValue, seg: &str| {
        check_kept(raw).map_err(|e| match e.strip_prefix("Duplicate:") {
            Some(n) => format!("Duplicate:{seg}:{n}"),
            None => format!("{e}:{seg}"),
        })
    };
    for (_, v) in object(&header, "Header")? {
        kept(&v, "Header")?;
    }
    let claims = object(&payload, "Payload")?;
    let mut out = Map::new();
    let mut extras = Map::new();
    for (name, raw) in &claims {
        kept(raw, "Payload")?;
        let known = CLAIM_STRINGS.iter().any(|(w, _)| w == name)
            || [
                "aud",
                "amr",
                "exp",
                "iat",
                "auth_time",
                "nbf",
                "email_verified",
                "phone_number_verified",
                "new_user",
                "address",
                "updated_at",
                "custom_fields",
            ]
            .contains(&name.as_str());
        if known && is_null(raw) {
            continue;
        }
        let invalid = |c: &str| format!("InvalidClaim:{c}");
        if let Some((wire, camel)) = CLAIM_STRINGS.iter().find(|(w, _)| w == name) {
            out.insert((*camel).into(), json!(string(raw).ok_or_else(|| invalid(wire))?));
            continue;
        }
        let date = |c: &str| -> Result<Value, String> {
            let t = raw.get();
            let number = t.bytes().next().is_some_and(|b| b == b'-' || b.is_ascii_digit());
            if !number || t.starts_with('-') {
                return Err(invalid(c));
            }
            if let Some(n) = t.bytes().all(|b| b.is_ascii_digit()).then(|| t.parse::<u64>().ok()).flatten() {
                return Ok(json!(n));
            }
            let f: f64 = t.parse().map_err(|_| invalid(c))?;
            if f.is_finite() && f >= 0.0 { Ok(json!(f)) } else { Err(invalid(c)) }
        };
        let boolean = |c: &str| match (raw.get(), string(raw).as_deref()) {
            ("true", _) | (_, Some("true")) => Ok(json!(true)),
            ("false", _) | (_, Some("false")) => Ok(json!(false)),
            _ => Err(invalid(c)),
        };
        match name.as_str() {
            "aud" | "amr" => {
                out.insert(name.clone(), json!(string_list(raw).ok_or_else(|| invalid(name))?));
            }
            "exp" | "iat" => {
                out.insert(name.clone(), date(name)?);
            }
            "auth_time" => {
                out.insert("authTime".into(), date("auth_time")?);
            }
            "nbf" => {
                date("nbf")?;
                extras.insert("nbf".into(), value(raw));
            }
            "email_verified" => {
                out.insert("emailVerified".into(), boolean(name)?);
            }
            "phone_number_verified" => {
                out.insert("phoneNumberVerified".into(), boolean(name)?);
            }
            "new_user" => {
                out.insert("newUser".into(), boolean(name)?);
            }
            "address" => {
                let members = read_members(raw.get().as_bytes()).map_err(|_| invalid("address"))?;
                let mut a = Map::new();
                let mut more = Map::new();
                for (k, v) in &members {
                    if let Some((_, camel)) = ADDRESS.iter().find(|(w, _)| w == k) {
                        if !is_null(v) {
                            a.insert((*camel).into(), json!(string(v).ok_or_else(|| invalid("address"))?));
                        }
                    } else if !ADDRESS.iter().any(|(_, c)| c == k) {
                        more.insert(k.clone(), value(v));
                    }
                }
                for (k, v) in more {
                    a.entry(k).or_insert(v);
                }
                out.insert("address".into(), Value::Object(a));
            }
            "updated_at" => {
                let v = match string(raw) {
                    Some(s) => json!(s),
                    None => {
                        let t = raw.get();
                        let number = t.bytes().next().is_some_and(|b| b == b'-' || b.is_ascii_digit());
                        let n = number
                            .then(|| serde_json::from_str::<serde_json::Number>(t).ok())
                            .flatten()
                            .ok_or_else(|| invalid("updated_at"))?;
                        Value::Number(n)
                    }
                };
                out.insert("updatedAt".into(), v);
            }
            "custom_fields" => {
                if !raw.get().starts_with('{') {
                    return Err(invalid("custom_fields"));
                }
                out.insert("customFields".into(), value(raw));
            }
            other if CLAIM_OUTPUT.contains(&other) => {}
            _ => {
                extras.insert(name.clone(), value(raw));
            }
        }
    }
    for (k, v) in extras {
        out.entry(k).or_insert(v);
    }
    Ok(Value::Object(out))
}

const CLAIM_STRINGS: &[(&str, &str)] = &[
    ("iss", "iss"),
    ("sub", "sub"),
    ("nonce", "nonce"),
    ("acr", "acr"),
    ("azp", "azp"),
    ("at_hash", "atHash"),
    ("name", "name"),
    ("given_name", "givenName"),
    ("family_name", "familyName"),
    ("middle_name", "middleName"),
    ("nickname", "nickname"),
    ("preferred_username", "preferredUsername"),
    ("profile", "profile"),
    ("picture", "picture"),
    ("website", "website"),
    ("email", "email"),
    ("gender", "gender"),
    ("birthdate", "birthdate"),
    ("zoneinfo", "zoneinfo"),
    ("locale", "locale"),
    ("phone_number", "phoneNumber"),
    ("auth_type", "authType"),
    ("custom_identifier", "customIdentifier"),
    ("external_id", "externalId"),
];

const CLAIM_OUTPUT: &[&str] = &[
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

const ADDRESS: &[(&str, &str)] = &[
    ("formatted", "formatted"),
    ("street_address", "streetAddress"),
    ("locality", "locality"),
    ("region", "region"),
    ("postal_code", "postalCode"),
    ("country", "country"),
];

// =======================================================================================
// The core, in the same terms
// =======================================================================================

fn jwt_class(e: &JwtError) -> String {
    match e {
        JwtError::SegmentCount { .. } => "SegmentCount".into(),
        JwtError::Base64 { segment } => format!("Base64:{segment:?}"),
        JwtError::NotUtf8 { segment } => format!("NotUtf8:{segment:?}"),
        JwtError::NotJson { segment, .. } => format!("NotJson:{segment:?}"),
        JwtError::NotAnObject { segment } => format!("NotAnObject:{segment:?}"),
        JwtError::Duplicate { segment, name } => format!("Duplicate:{segment:?}:{name}"),
        JwtError::InvalidClaim { claim, .. } => format!("InvalidClaim:{claim}"),
        other => format!("{other:?}"),
    }
}

fn class(e: &Error) -> Outcome {
    match e {
        Error::Server(s) => Outcome::OAuth(s.code().to_owned()),
        Error::Protocol(p) => {
            let c = match p.kind() {
                ProtocolErrorKind::NotJson { .. } => "NotJson".into(),
                ProtocolErrorKind::NotAnObject => "NotAnObject".into(),
                ProtocolErrorKind::UnexpectedStatus { .. } => "UnexpectedStatus".into(),
                ProtocolErrorKind::MissingField { field } => format!("Missing:{field}"),
                ProtocolErrorKind::InvalidField { field, .. } => format!("Invalid:{field}"),
                ProtocolErrorKind::DuplicateMember { name } => format!("Duplicate:{name}"),
                ProtocolErrorKind::IdToken(j) => format!("IdToken:{}", jwt_class(j)),
                other => format!("{other:?}"),
            };
            Outcome::Protocol(c, e.rotated_refresh_token().map(|t| t.expose_secret().to_owned()))
        }
        other => panic!("unexpected error class {other:?}"),
    }
}

fn core(status: u16, body: &[u8]) -> Outcome {
    let response = Response::builder().status(status).body(body.to_vec()).expect("a response");
    let owned = parse_refresh_response(&response);
    let borrowed = parse_refresh_response_borrowed(&response);
    // A kept value serde_json cannot hold as a `Value` (a lone surrogate in an unknown
    // member's string, kept verbatim) is compared as "unrepresentable" on both sides.
    let outcome = match &owned {
        Ok(r) => Outcome::Success(serde_json::to_value(r).unwrap_or_else(|_| json!(UNREPRESENTABLE))),
        Err(e) => class(e),
    };
    let again = match &borrowed {
        Ok(r) => Outcome::Success(serde_json::to_value(r).unwrap_or_else(|_| json!(UNREPRESENTABLE))),
        Err(e) => class(e),
    };
    assert_eq!(outcome, again, "owned and borrowed disagree on {:?}", String::from_utf8_lossy(body));
    outcome
}

/// Sanitised names are compared sanitised on both sides (the core bounds them in errors).
fn normalise(o: Outcome) -> Outcome {
    match o {
        Outcome::Protocol(c, rt) => {
            let c = if let Some(name) = c.strip_prefix("Duplicate:") {
                format!("Duplicate:{}", mask(name))
            } else if let Some(rest) = c.strip_prefix("IdToken:Duplicate:") {
                let (seg, name) = rest.split_once(':').unwrap_or((rest, ""));
                format!("IdToken:Duplicate:{seg}:{}", mask(name))
            } else {
                c
            };
            Outcome::Protocol(c, rt)
        }
        other => other,
    }
}

/// What the core's error sanitising keeps of a name: the comparison is about *which* name,
/// so both sides are reduced the same coarse way (length-bounded, no control characters).
fn mask(name: &str) -> String {
    name.chars().take(8).map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn check(status: u16, body: &[u8]) {
    let want = normalise(reference(status, body));
    let got = normalise(core(status, body));
    assert_eq!(got, want, "status {status}, body {:?}", String::from_utf8_lossy(body));
}

// =======================================================================================
// Vectors
// =======================================================================================

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn jwt(header: &str, payload: &str, sig: &str) -> String {
    format!("{}.{}.{sig}", b64(header), b64(payload))
}

fn body_with(id_token: &str) -> String {
    format!(
        r#"{{"access_token":"at-1","token_type":"Bearer","refresh_token":"rt-2","id_token":{}}}"#,
        serde_json::to_string(id_token).expect("a string serialises")
    )
}

const HDR: &str = r#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#;

#[test]
fn hand_written_responses() {
    let nested_deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let mut bodies: Vec<String> = vec![
        r#"{"access_token":"a","token_type":"bearer"}"#.into(),
        r#" {"access_token" : "a" , "token_type" : "DPoP" , "expires_in" : "3599" } "#.into(),
        r#"{"access_token":"a","token_type":"Bearer","expires_in":18446744073709551615}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","expires_in":18446744073709551616}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","expires_in":"\u0033\u0036"}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","expires_in":-0}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","expires_in":1.0}"#.into(),
        r#"{"access_token":"a\u0062\n\"\\\/","token_type":"Be\u0061rer"}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","scope":"\ud83d\ude00"}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","scope":"\ud83d"}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","x":"\ud83d"}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","x":["\ud83d"]}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","x":{"\ud83d":1}}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","\ud83d":1}"#.into(),
        // A string holding a bracket is walked as a nested value (a lone surrogate: not JSON).
        r#"{"access_token":"a","token_type":"Bearer","x":"[\ud83d"}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","scope":"{\ud83d"}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","x":"[\ud83d\ude00]"}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","x":[1e400]}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","x":{"a":1,"a":2}}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","x":{"a":1,"\u0061":2}}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","x":[{"k":[{"z":1,"z":2}]}]}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","x":{"a":{"a":{"a":1}}}}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","access_token":"b"}"#.into(),
        r#"{"access_token":"a","\u0074oken_type":"Bearer","token_type":"x"}"#.into(),
        r#"{"refresh_token":"rt-9","access_token":"","token_type":"Bearer"}"#.into(),
        r#"{"refresh_token":"rt-9","refresh_token":"rt-9","token_type":"Bearer"}"#.into(),
        r#"{"refresh_token":"rt\u0009x","access_token":"a","token_type":"Bearer"}"#.into(),
        r#"{"error":"invalid_grant","error":"x"}"#.into(),
        r#"{"error":"invalid_grant","access_token":"a","token_type":"Bearer"}"#.into(),
        r#"{"error":"","access_token":"a","token_type":"Bearer"}"#.into(),
        r#"{"error":null,"access_token":"a","token_type":"Bearer"}"#.into(),
        r#"{"error":"\u0069nvalid","error_description":"d\u00e9"}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","amr":"pwd"}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","amr":["pwd", "otp"]}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","amr":["pwd",1]}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","amr":[["pwd"]]}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","accessToken":"x","idTokenPayload":{}}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","n":-12.5e3,"t":true,"f":false,"z":null}"#.into(),
        r#"{"access_token":"a","token_type":"Bearer","s":"é ü 日本"}"#.into(),
        format!(r#"{{"access_token":"a","token_type":"Bearer","x":{}}}"#, nested_deep(60)),
        format!(r#"{{"access_token":"a","token_type":"Bearer","x":{}}}"#, nested_deep(100)),
        format!(r#"{{"access_token":"a","token_type":"Bearer","x":{}}}"#, nested_deep(64)),
        format!(r#"{{"access_token":"a","token_type":"Bearer","x":{}}}"#, nested_deep(65)),
        format!(r#"{{"access_token":"a","token_type":"Bearer","x":{}}}"#, nested_deep(127)),
        format!(r#"{{"access_token":"a","token_type":"Bearer","x":{}}}"#, nested_deep(128)),
        format!(r#"{{"access_token":"a","token_type":"Bearer","scope":{}}}"#, nested_deep(200)),
        format!(
            r#"{{"access_token":"a","token_type":"Bearer",{}}}"#,
            (0..60).map(|i| format!(r#""k{i}":{i}"#)).collect::<Vec<_>>().join(",")
        ),
        format!(
            r#"{{"access_token":"a","token_type":"Bearer",{},"k7":1}}"#,
            (0..30).map(|i| format!(r#""k{i}":{i}"#)).collect::<Vec<_>>().join(",")
        ),
        format!(r#"{{"access_token":"{}","token_type":"Bearer"}}"#, "x".repeat(5000)),
        format!(r#"{{"access_token":"{}\n","token_type":"Bearer"}}"#, "x".repeat(5000)),
        "{}".into(),
        "[]".into(),
        "null".into(),
        "".into(),
        "{".into(),
        r#"{"access_token":"a","token_type":"Bearer"} x"#.into(),
        r#"{"access_token":"a","token_type":"Bearer",}"#.into(),
        r#"{"access_token":01,"token_type":"Bearer"}"#.into(),
        "{\"access_token\":\"a\u{1}\",\"token_type\":\"Bearer\"}".into(),
        r#"{"access_token":"\x","token_type":"Bearer"}"#.into(),
        "<html>502</html>".into(),
    ];
    // ID tokens.
    let ok_claims = r#"{"iss":"https://id.example","sub":"u1","aud":"app","exp":1700000000.5,"iat":1700000000,"auth_time":0,"email_verified":"true","amr":["pwd"],"address":{"street_address":"1 Main","country":null,"x":1,"postalCode":"z"},"updated_at":"2025-01-21","custom_fields":{"a":[1]},"sid":"s","nbf":5,"givenName":"drop","groups":["g1","g2"]}"#;
    for token in [
        jwt(HDR, ok_claims, "c2ln"),
        jwt(HDR, ok_claims, ""),
        jwt(HDR, r#"{"sub":"a","sub":"b"}"#, "c2ln"),
        jwt(HDR, r#"{"x":{"k":1,"k":2}}"#, "c2ln"),
        jwt(r#"{"alg":"RS256","alg":"none"}"#, "{}", "c2ln"),
        jwt(r#"{"alg":"RS256","x":{"a":1,"a":1}}"#, "{}", "c2ln"),
        jwt(HDR, r#"{"aud":["a",1]}"#, "c2ln"),
        jwt(HDR, r#"{"exp":-1}"#, "c2ln"),
        jwt(HDR, r#"{"exp":"1"}"#, "c2ln"),
        jwt(HDR, r#"{"exp":1e400}"#, "c2ln"),
        jwt(HDR, r#"{"updated_at":1e400}"#, "c2ln"),
        jwt(HDR, r#"{"updated_at":true}"#, "c2ln"),
        jwt(HDR, r#"{"email_verified":"yes"}"#, "c2ln"),
        jwt(HDR, r#"{"new_user":"\u0074rue"}"#, "c2ln"),
        jwt(HDR, r#"{"address":"x"}"#, "c2ln"),
        jwt(HDR, r#"{"address":{"locality":7}}"#, "c2ln"),
        jwt(HDR, r#"{"address":{"locality":"\ud800"}}"#, "c2ln"),
        jwt(HDR, r#"{"sub":"\ud800"}"#, "c2ln"),
        jwt(HDR, r#"{"sub":"{\ud800"}"#, "c2ln"),
        jwt(HDR, r#"{"x":"[\udc00"}"#, "c2ln"),
        jwt(r#"{"alg":"[\ud800"}"#, "{}", "c2ln"),
        jwt(HDR, r#"{"custom_fields":[1]}"#, "c2ln"),
        jwt(HDR, r#"{"sub":null,"aud":null,"exp":null,"nbf":null,"flag":null}"#, "c2ln"),
        jwt(HDR, "[]", "c2ln"),
        jwt(HDR, "{", "c2ln"),
        jwt("[]", "{}", "c2ln"),
        format!("{}.{}.c2ln", b64(HDR), b64([b'{', b'"', 0xff, b'"', b':', b'1', b'}'])),
        format!("{}.{}.c2ln", b64(HDR), b64("{}")).replace("e30", "e30="),
        format!("{}.{}.c2ln+", b64(HDR), b64("{}")),
        format!("{}.{}.c2lnbg==", b64(HDR), b64("{}")),
        format!("{}.{}.c2ln", b64(HDR), b64("{}")) + ".x",
        format!("{}..c2ln", b64(HDR)),
        format!(".{}.c2ln", b64("{}")),
        "a.b".into(),
    ] {
        bodies.push(body_with(&token));
    }
    for body in &bodies {
        for status in [200, 201, 400, 302] {
            check(status, body.as_bytes());
        }
    }
    // Not UTF-8.
    for body in [
        &b"{\"access_token\":\"\xff\",\"token_type\":\"Bearer\"}"[..],
        b"\xef\xbb\xbf{}",
        b"{\"a\":\"\xed\xa0\x80\"}",
    ] {
        check(200, body);
    }
}

/// JSON strings with the characters that matter to a string scanner.
fn tricky_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            6 => "[a-zA-Z0-9 ._-]{0,12}",
            1 => Just("\"".to_owned()),
            1 => Just("\\".to_owned()),
            1 => Just("/".to_owned()),
            1 => Just("\u{e9}\u{65e5}".to_owned()),
            1 => Just("\u{1F600}".to_owned()),
            1 => Just("\n\t".to_owned()),
            1 => "[a-z]{20,80}",
        ],
        0..6,
    )
    .prop_map(|parts| parts.concat())
}

/// A JSON value, written with escapes, whitespace and number forms chosen at random.
fn json_value(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        (any::<u32>(), 0u32..1000).prop_map(|(a, b)| format!("{a}.{b}")),
        (1u32..9, -20i32..20).prop_map(|(a, e)| format!("{a}e{e}")),
        tricky_string().prop_map(|s| escape(&s, false)),
        tricky_string().prop_map(|s| escape(&s, true)),
        Just(r#""\ud83d""#.to_owned()),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        4 => leaf,
        1 => proptest::collection::vec(json_value(depth - 1), 0..4).prop_map(|v| format!("[{}]", v.join(" , "))),
        1 => proptest::collection::vec(("[a-c]{1,2}", json_value(depth - 1)), 0..4)
            .prop_map(|m| format!("{{{}}}", m.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(","))),
    ]
    .boxed()
}

/// A JSON string literal for `s`; with `ascii`, everything but printable ASCII as `\u` escapes.
fn escape(s: &str, ascii: bool) -> String {
    if !ascii {
        return serde_json::to_string(s).expect("a string serialises");
    }
    let mut out = String::from("\"");
    for u in s.encode_utf16() {
        match u {
            0x22 => out.push_str("\\\""),
            0x5C => out.push_str("\\\\"),
            0x20..=0x7E => out.push(char::from(u as u8)),
            _ => out.push_str(&format!("\\u{u:04x}")),
        }
    }
    out.push('"');
    out
}

/// A value for a known member: mostly of the right type, sometimes not.
fn member_value(name: &'static str) -> BoxedStrategy<String> {
    let right = match name {
        "expires_in" => prop_oneof![
            any::<u32>().prop_map(|n| n.to_string()),
            any::<u32>().prop_map(|n| format!("\"{n}\"")),
            Just("\"60s\"".to_owned()),
            Just("-1".to_owned()),
        ]
        .boxed(),
        "amr" => prop_oneof![
            tricky_string().prop_map(|s| escape(&s, false)),
            proptest::collection::vec(tricky_string(), 0..3)
                .prop_map(|v| serde_json::to_string(&v).expect("strings serialise")),
        ]
        .boxed(),
        "refresh_token" => prop_oneof![
            "[ -~]{0,20}".prop_map(|s| escape(&s, false)),
            tricky_string().prop_map(|s| escape(&s, true))
        ]
        .boxed(),
        "token_type" => {
            prop_oneof![Just("\"bearer\"".to_owned()), Just("\"DPoP\"".to_owned()), Just("\"\"".to_owned())]
                .boxed()
        }
        _ => tricky_string().prop_map(|s| escape(&s, false)).boxed(),
    };
    prop_oneof![8 => right, 1 => json_value(1), 1 => Just("null".to_owned())].boxed()
}

/// A claims set: typical claims, mostly well typed, plus unknown ones.
fn claims() -> impl Strategy<Value = String> {
    let known = proptest::sample::subsequence(
        vec![
            ("iss", "s"),
            ("sub", "s"),
            ("aud", "list"),
            ("exp", "date"),
            ("iat", "date"),
            ("auth_time", "date"),
            ("nbf", "date"),
            ("nonce", "s"),
            ("amr", "list"),
            ("email", "s"),
            ("email_verified", "bool"),
            ("new_user", "bool"),
            ("updated_at", "updated"),
            ("address", "address"),
            ("custom_fields", "object"),
            ("preferred_username", "s"),
            ("givenName", "s"),
        ],
        0..12,
    );
    let typed = |kind: &'static str| -> BoxedStrategy<String> {
        match kind {
            "s" => tricky_string().prop_map(|s| escape(&s, true)).boxed(),
            "list" => prop_oneof![
                tricky_string().prop_map(|s| escape(&s, false)),
                proptest::collection::vec(tricky_string(), 0..3)
                    .prop_map(|v| serde_json::to_string(&v).expect("strings serialise"))
            ]
            .boxed(),
            "date" => prop_oneof![
                any::<u32>().prop_map(|n| n.to_string()),
                (any::<u32>(), 1u32..99).prop_map(|(a, b)| format!("{a}.{b}")),
                Just("-1".to_owned()),
            ]
            .boxed(),
            "bool" => {
                prop_oneof![Just("true".to_owned()), Just("\"false\"".to_owned()), Just("\"no\"".to_owned())]
                    .boxed()
            }
            "updated" => {
                prop_oneof![any::<u32>().prop_map(|n| n.to_string()), Just("\"2025-01-21\"".to_owned())]
                    .boxed()
            }
            "address" => proptest::collection::vec(
                (
                    prop_oneof![Just("locality"), Just("country"), Just("x"), Just("postalCode")],
                    json_value(0),
                ),
                0..3,
            )
            .prop_map(|m| {
                format!("{{{}}}", m.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(","))
            })
            .boxed(),
            _ => json_value(2),
        }
    };
    let known = known.prop_flat_map(move |names| {
        names
            .into_iter()
            .map(|(n, kind)| {
                prop_oneof![9 => typed(kind), 1 => json_value(1)].prop_map(move |v| (n.to_owned(), v))
            })
            .collect::<Vec<_>>()
    });
    let unknown = proptest::collection::vec(("[a-z_]{1,6}", json_value(2)), 0..4);
    (known, unknown, any::<bool>()).prop_map(|(k, u, dup)| {
        let mut all: Vec<(String, String)> = k.into_iter().chain(u).collect();
        if dup && let Some(first) = all.first().cloned() {
            all.push(first);
        }
        format!(
            "{{{}}}",
            all.iter().map(|(k, v)| format!("{}:{v}", escape(k, false))).collect::<Vec<_>>().join(",")
        )
    })
}

/// A token response: some known members, some unknown, an ID token, in any order, with
/// whitespace, sometimes a repeated name.
fn response() -> impl Strategy<Value = String> {
    let names = [
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "state",
        "amr",
        "provider_name",
        "code",
        "error",
        "refreshToken",
    ];
    let known = proptest::sample::subsequence(names.to_vec(), 0..names.len()).prop_flat_map(|ns| {
        ns.into_iter()
            .map(|n| {
                member_value(if n == "error" { "scope" } else { n }).prop_map(move |v| (n.to_owned(), v))
            })
            .collect::<Vec<_>>()
    });
    let id_token = prop_oneof![
        2 => claims().prop_map(|c| Some(jwt(HDR, &c, "c2lnbmF0dXJl"))),
        1 => Just(None),
    ];
    let unknown = proptest::collection::vec(("[a-z_]{1,8}", json_value(3)), 0..4);
    (known, id_token, unknown, any::<bool>(), any::<bool>(), any::<u64>()).prop_map(
        |(known, idt, unknown, dup, spaced, seed)| {
            let mut all: Vec<(String, String)> =
                vec![("access_token".into(), "\"at\"".into()), ("token_type".into(), "\"Bearer\"".into())];
            all.retain(|(n, _)| !known.iter().any(|(k, _)| k == n));
            all.extend(known);
            if let Some(t) = idt {
                all.push(("id_token".into(), serde_json::to_string(&t).expect("a string serialises")));
            }
            all.extend(unknown);
            // A deterministic shuffle.
            let mut s = seed;
            for i in (1..all.len()).rev() {
                s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                all.swap(i, (s >> 33) as usize % (i + 1));
            }
            if dup && let Some(first) = all.first().cloned() {
                all.push(first);
            }
            let sep = if spaced { " ,\n " } else { "," };
            format!(
                "{{{}}}",
                all.iter().map(|(k, v)| format!("{}:{v}", escape(k, false))).collect::<Vec<_>>().join(sep)
            )
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 768, ..ProptestConfig::default() })]

    #[test]
    fn generated_responses_agree(body in response(), status in prop_oneof![Just(200u16), Just(201), Just(400), Just(503)]) {
        check(status, body.as_bytes());
    }

    #[test]
    fn generated_values_agree(value in json_value(4)) {
        check(200, format!(r#"{{"access_token":"a","token_type":"Bearer","x":{value}}}"#).as_bytes());
        check(200, body_with(&jwt(HDR, &format!(r#"{{"sub":"s","x":{value}}}"#), "")).as_bytes());
    }

    #[test]
    fn mutated_responses_agree(body in response(), edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..4)) {
        let mut bytes = body.into_bytes();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                2 => { bytes.remove(i); }
                _ => bytes.truncate(i),
            }
        }
        check(200, &bytes);
    }

    #[test]
    fn mutated_claims_agree(claims in claims(), edits in proptest::collection::vec((any::<prop::sample::Index>(), prop_oneof![Just(b'"'), Just(b'\\'), Just(b','), Just(b'{'), Just(b']'), any::<u8>()]), 1..3)) {
        let mut bytes = claims.into_bytes();
        for (at, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let token = format!("{}.{}.", b64(HDR), b64(&bytes));
        check(200, body_with(&token).as_bytes());
    }
}
