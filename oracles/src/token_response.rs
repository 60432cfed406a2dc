//! The `token_response` target: every invariant of `parse_refresh_response` on one response,
//! judged against serde_json's independent reading of the body ([`crate::reference::json`]).
//!
//! Input: `[s] body…`, the status [`STATUSES`]`[s % 9]` and the rest as the body.

use oidc_refresh_core::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use oidc_refresh_core::http::{Response, StatusCode};
use oidc_refresh_core::{
    AuthResult, ClientConfig, Continuity, Error, Fault, ProtocolErrorKind, RefreshToken, UnixTime,
    check_refresh_response, decode_id_token, decode_id_token_with_header, parse_refresh_response,
    validate_auth_result,
};
use serde_json::{Map, Value};

use crate::common::{find, is_printable_ascii, occurrences, response, rotated};
use crate::id_token::check_payload;
use crate::reference::json::{BodyRef, collect_strings, depth, json_object_of, string_list};

/// The statuses the target chooses from with its first byte.
pub const STATUSES: [u16; 9] = [200, 201, 204, 302, 400, 401, 429, 500, 502];

/// The whole body of the `token_response` fuzz target: a status from the first byte, the
/// rest as the body.
pub fn run(data: &[u8]) {
    let Some((&s, body)) = data.split_first() else { return };
    let status = STATUSES[usize::from(s) % STATUSES.len()];
    let _ = check(&response(status, &[], body.to_vec()));
}

/// Wire names of the members `parse_refresh_response` types.
const KNOWN_MEMBERS: &[&str] = &[
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
/// The keys of the `AuthResult` JSON (contract.md).
const AUTH_RESULT_KEYS: &[&str] = &[
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
/// Opaque credentials of a token response: (wire name, `AuthResult` key).
const SECRET_MEMBERS: &[(&str, &str)] = &[
    ("access_token", "accessToken"),
    ("refresh_token", "refreshToken"),
    ("code", "code"),
    ("step_up_token", "stepUpToken"),
    ("provider_access_token", "providerAccessToken"),
];

/// Every invariant of `parse_refresh_response` on one response (panics when one fails);
/// returns its outcome.
pub fn check(response: &Response<Vec<u8>>) -> Result<AuthResult, Error> {
    let status = response.status();
    let parsed = parse_refresh_response(response);
    let again = parse_refresh_response(response);
    assert_eq!(outcome_text(&parsed), outcome_text(&again), "parse_refresh_response is not deterministic");
    let reference = BodyRef::of(response.body());
    match &parsed {
        Ok(result) => check_success(status, &reference, result),
        Err(e) => check_failure(response, &reference, e),
    }
    check_classification(status, &reference, &parsed);
    check_masking(response.body(), &reference, &parsed);
    check_secret_independence(response, &reference, &parsed);
    check_validation_agrees(response, &parsed);
    parsed
}

fn outcome_text(outcome: &Result<AuthResult, Error>) -> String {
    match outcome {
        Ok(r) => format!("Ok({r:?}) {}", serde_json::to_string(r).unwrap_or_default()),
        Err(e) => format!("Err({e:?}) {e}"),
    }
}

/// A success: its JSON has the contract's shape and says what the body said.
fn check_success(status: StatusCode, reference: &BodyRef, r: &AuthResult) {
    assert!(status.is_success(), "a success from HTTP {status}");
    let out = json_object_of(r, "AuthResult");
    let text = |key: &str| out.get(key).and_then(Value::as_str);

    assert!(!r.access_token().is_empty(), "an empty access token");
    assert_eq!(text("accessToken"), Some(r.access_token().expose_secret()));
    assert!(!r.token_type().is_empty(), "an empty token type");
    assert_eq!(text("tokenType"), Some(r.token_type()));
    assert!(
        !r.token_type().eq_ignore_ascii_case("bearer") || r.token_type() == "Bearer",
        "bearer not normalised"
    );
    for key in AUTH_RESULT_KEYS {
        assert!(
            out.get(*key).is_none_or(|v| !v.is_null()),
            "`{key}` is null in {out:?}: absent fields are omitted"
        );
    }
    assert_eq!(out.get("expiresIn").map(Value::as_u64), r.expires_in().map(Some), "expiresIn");
    assert_eq!(r.expires_at(UnixTime::EPOCH).map(UnixTime::as_secs), r.expires_in());
    let _ = r.expires_at(UnixTime::from_secs(u64::MAX));
    let refresh = r.refresh_token().map(RefreshToken::expose_secret);
    assert_eq!(text("refreshToken"), refresh);
    assert!(refresh.is_none_or(is_printable_ascii), "a refresh token outside %x20-7E");
    assert_eq!(text("scope"), r.scope());
    assert_eq!(text("state"), r.state());
    assert_eq!(text("providerName"), r.provider_name());
    assert_eq!(text("code"), r.code().map(|c| c.expose_secret()));
    assert_eq!(text("stepUpToken"), r.step_up_token().map(|c| c.expose_secret()));
    assert_eq!(text("providerAccessToken"), r.provider_access_token().map(|c| c.expose_secret()));
    assert_eq!(
        out.get("amr").map(string_list),
        r.amr().map(|a| Some(a.to_vec())),
        "amr is a list of strings"
    );

    match (r.id_token(), r.id_token_header(), r.id_token_payload()) {
        (Some(jwt), Some(header), Some(payload)) => {
            assert_eq!(text("idToken"), Some(jwt.expose_secret()));
            match decode_id_token_with_header(jwt.expose_secret()) {
                Ok((h, p)) => {
                    assert!(&h == header && &p == payload, "idTokenPayload differs from decode_id_token")
                }
                Err(e) => panic!("a success holds an ID token that decode_id_token refuses: {e:?}"),
            }
            let shown = check_payload(payload);
            if let Some(member) = out.get("idTokenPayload") {
                assert_eq!(member, &shown, "idTokenPayload");
            }
        }
        (None, None, None) => {
            assert!(
                !out.contains_key("idToken") && !out.contains_key("idTokenPayload"),
                "idToken without a payload"
            );
        }
        other => panic!("id_token, its header and its payload come together: {other:?}"),
    }

    // Against serde_json's reading of the body.
    let Some(body) = reference.object() else { return };
    assert!(!reference.top_dup, "a success although a top-level member name repeats");
    assert!(body.get("error").is_none_or(Value::is_null), "a success although the body has `error`");
    assert_eq!(body.get("access_token").and_then(Value::as_str), Some(r.access_token().expose_secret()));
    let Some(tt) = body.get("token_type").and_then(Value::as_str) else {
        panic!("a success without token_type")
    };
    let want = if tt.eq_ignore_ascii_case("bearer") { "Bearer" } else { tt };
    assert_eq!(r.token_type(), want, "token_type");
    // Every typed member says what the body says (a null member counts as absent).
    let member = |name: &str| body.get(name).filter(|v| !v.is_null());
    let expires_in = match member("expires_in") {
        None => None,
        Some(Value::Number(n)) if n.is_u64() => n.as_u64(),
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        Some(other) => panic!("a success with expires_in {other}"),
    };
    assert_eq!(r.expires_in(), expires_in, "expires_in");
    let texts: [(&str, Option<&str>); 7] = [
        ("refresh_token", refresh),
        ("id_token", r.id_token().map(|t| t.expose_secret())),
        ("scope", r.scope()),
        ("state", r.state()),
        ("code", r.code().map(|c| c.expose_secret())),
        ("step_up_token", r.step_up_token().map(|c| c.expose_secret())),
        ("provider_name", r.provider_name()),
    ];
    for (name, got) in texts {
        assert_eq!(member(name).map(|v| v.as_str().unwrap_or("<not a string>")), got, "{name}");
    }
    let provider_access_token = r.provider_access_token().map(|c| c.expose_secret());
    assert_eq!(member("provider_access_token").and_then(Value::as_str), provider_access_token);
    let amr = match member("amr") {
        None => None,
        Some(Value::String(s)) => Some(vec![s.clone()]),
        Some(v) => Some(string_list(v).unwrap_or_else(|| panic!("a success with amr {v}"))),
    };
    assert_eq!(r.amr().map(<[String]>::to_vec), amr, "amr");
    for (name, value) in body {
        if !KNOWN_MEMBERS.contains(&name.as_str()) && !AUTH_RESULT_KEYS.contains(&name.as_str()) {
            assert_eq!(out.get(name), Some(value), "unknown member {name:?} not kept as an equal value");
        }
    }
    for key in out.keys() {
        assert!(
            AUTH_RESULT_KEYS.contains(&key.as_str())
                || (body.contains_key(key) && !KNOWN_MEMBERS.contains(&key.as_str())),
            "output key {key:?} is neither an AuthResult key nor an unknown member of the body"
        );
    }
    // Every value is checked, dropped ones included: a success has no repeated name anywhere
    // and no member nested deeper than the core keeps (64 levels).
    assert!(!reference.any_dup, "a repeated name in the body of a success");
    assert!(body.values().all(|v| depth(v) <= 64), "a member nested deeper than 64 levels in a success");
}

/// An error: it says whose fault it is, on one line, with the status it came with.
fn check_failure(response: &Response<Vec<u8>>, reference: &BodyRef, e: &Error) {
    let status = response.status();
    let display = e.to_string();
    assert!(!display.is_empty(), "an empty error message");
    assert!(!display.contains(['\n', '\r']), "an error message on more than one line: {display:?}");
    let _ = format!("{e:?} {e:#?}");
    assert_eq!(e.status(), Some(status), "the error lost the status");
    let body = if reference.top_dup { None } else { reference.object() };
    match e {
        Error::Server(o) => {
            let code = o.code();
            assert!(!code.is_empty(), "an OAuth error with an empty code");
            assert_eq!(o.status(), status);
            assert_eq!(e.fault(), Fault::ServerRefused);
            assert_eq!(e.oauth_error_code(), Some(code));
            assert_eq!(e.is_reauth_required(), code == "invalid_grant");
            assert_eq!(
                e.is_retryable(),
                matches!(code, "temporarily_unavailable" | "slow_down")
                    || status == StatusCode::TOO_MANY_REQUESTS
            );
            assert!(e.rotated_refresh_token().is_none(), "an OAuth error holding a refresh token");
            // The CLI's line must name the code (token-like runs of 24+ are masked).
            if code.len() < 24 && code.bytes().all(|b| b.is_ascii_graphic()) {
                assert!(display.contains(code), "the message {display:?} does not name the code {code:?}");
            }
            assert_eq!(o.retry_after().is_some(), response.headers().contains_key(RETRY_AFTER));
            assert_eq!(o.www_authenticate().is_some(), response.headers().contains_key(WWW_AUTHENTICATE));
            if let Some(body) = body {
                let text = |name: &str| body.get(name).and_then(Value::as_str);
                assert_eq!(text("error"), Some(code), "the code is not the body's `error`");
                assert_eq!(o.description(), text("error_description"));
                assert_eq!(o.uri(), text("error_uri"));
                assert_eq!(o.user_msg(), text("error_user_msg"));
                assert_eq!(o.message_key(), text("error_message_key"));
                assert_eq!(o.error_id(), text("error_id"));
            }
        }
        Error::Protocol(p) => {
            assert_eq!(e.fault(), Fault::ServerProtocol);
            assert_eq!(p.status(), Some(status));
            assert_eq!(e.oauth_error_code(), None);
            assert!(!e.is_reauth_required());
            if let Some(excerpt) = p.excerpt() {
                assert!(
                    excerpt.chars().count() <= 100,
                    "an excerpt of {} characters",
                    excerpt.chars().count()
                );
                assert!(!excerpt.contains(char::is_control), "an excerpt with control characters");
            }
            // R18: a 2xx body without `error` that holds one well-formed `refresh_token`
            // hands it over, whatever else is wrong with it.
            let rotated_in_body = reference
                .object()
                .filter(|b| status.is_success() && b.get("error").is_none_or(Value::is_null))
                .filter(|_| !reference.top_dup_names.contains("refresh_token"))
                .and_then(|b| b.get("refresh_token"))
                .and_then(Value::as_str)
                .filter(|t| is_printable_ascii(t));
            if let Some(want) = rotated_in_body {
                assert_eq!(
                    p.rotated_refresh_token().map(RefreshToken::expose_secret),
                    Some(want),
                    "R18: the rotated refresh token of a broken 2xx was lost"
                );
            }
            if let Some(rotated) = p.rotated_refresh_token() {
                let rotated = rotated.expose_secret();
                assert!(status.is_success(), "a rotated refresh token kept from HTTP {status}");
                assert!(is_printable_ascii(rotated), "a malformed rotated refresh token was kept");
                if let Some(body) = body {
                    assert_eq!(body.get("refresh_token").and_then(Value::as_str), Some(rotated));
                }
            }
        }
        other => panic!(
            "parse_refresh_response can only refuse (Server) or blame the server (Protocol): {other:?}"
        ),
    }
}

/// The contract's classification, decided from serde_json's reading of the body.
fn check_classification(status: StatusCode, reference: &BodyRef, parsed: &Result<AuthResult, Error>) {
    let Some(value) = &reference.value else { return };
    let kind = match parsed {
        Err(Error::Protocol(p)) => Some(p.kind()),
        _ => None,
    };
    if !status.is_success() {
        assert!(parsed.is_err(), "a success from HTTP {status}");
    }
    if reference.top_dup {
        assert!(kind.is_some(), "a repeated top-level member name must be a protocol error: {parsed:?}");
        return;
    }
    let Value::Object(body) = value else {
        assert!(matches!(kind, Some(ProtocolErrorKind::NotAnObject)), "JSON but not an object: {parsed:?}");
        return;
    };
    match body.get("error") {
        Some(Value::String(code)) if !code.is_empty() => {
            if reference.any_dup || body.values().any(|v| depth(v) > 64) {
                // Even an error body must be strict JSON: a repeated name at any depth, or a
                // member nested past 64 levels, is the server breaking the protocol.
                assert!(
                    matches!(
                        kind,
                        Some(ProtocolErrorKind::DuplicateMember { .. } | ProtocolErrorKind::NotJson { .. })
                    ),
                    "`error` {code:?} in a body that repeats a name or nests too deep: {parsed:?}"
                );
            } else {
                assert!(
                    matches!(parsed, Err(Error::Server(e)) if e.code() == code),
                    "`error`: {code:?} must be an OAuth error, got {parsed:?}"
                );
            }
        }
        Some(v) if !v.is_null() => {
            assert!(
                matches!(kind, Some(ProtocolErrorKind::InvalidField { field: "error", .. })),
                "`error` that is not a non-empty string must be a protocol error, got {parsed:?}"
            );
        }
        _ if !status.is_success() => {
            assert!(
                matches!(kind, Some(ProtocolErrorKind::UnexpectedStatus { .. })),
                "an object without `error` on HTTP {status} must be an unexpected status, got {parsed:?}"
            );
        }
        _ => {
            assert!(!matches!(parsed, Err(Error::Server(_))), "an OAuth error without `error`");
            if !reference.any_dup && body.values().all(|v| depth(v) <= 64) && plainly_valid_success(body) {
                assert!(parsed.is_ok(), "a valid token response was refused: {parsed:?}");
            }
        }
    }
}

/// Whether a 2xx object is a token response by the contract's rules, judged independently
/// for every member (an `id_token` by `decode_id_token`).
fn plainly_valid_success(body: &Map<String, Value>) -> bool {
    let non_empty = |v: &Value| v.as_str().is_some_and(|s| !s.is_empty());
    let required = ["access_token", "token_type"].iter().all(|k| body.get(*k).is_some_and(non_empty));
    required
        && body.iter().all(|(name, v)| {
            if v.is_null() && KNOWN_MEMBERS.contains(&name.as_str()) {
                return true;
            }
            match name.as_str() {
                "access_token" | "token_type" => non_empty(v),
                "expires_in" => match v {
                    Value::Number(n) => n.is_u64(),
                    Value::String(s) => {
                        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u64>().is_ok()
                    }
                    _ => false,
                },
                "refresh_token" => v.as_str().is_some_and(is_printable_ascii),
                "id_token" => v.as_str().is_some_and(|t| decode_id_token(t).is_ok()),
                "scope" | "code" | "state" | "step_up_token" | "provider_name" | "provider_access_token" => {
                    v.is_string()
                }
                "amr" => v.is_string() || string_list(v).is_some(),
                "error" => false,
                _ => true,
            }
        })
}

/// Server-written text in errors is shown with token-like runs of 24+ characters masked:
/// no such run of the body ever appears whole in an error's `Display` or `Debug`.
fn check_masking(body: &[u8], reference: &BodyRef, parsed: &Result<AuthResult, Error>) {
    let Err(e) = parsed else { return };
    let shown = format!("{e} {e:?}");
    let mut texts = vec![String::from_utf8_lossy(body).into_owned()];
    if let Some(v) = &reference.value {
        collect_strings(v, &mut texts);
    }
    for text in &texts {
        for run in token_like_runs(text, 24) {
            assert!(!shown.contains(run), "the server-written run {run:?} shows unmasked in {shown:?}");
        }
    }
}

fn token_like(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

/// Runs of token-like characters that look like a credential: at least `min` long, and
/// holding a digit, an upper-case letter or a base64 symbol, or at least 64 long. Long
/// lower-case identifiers (the error code `invalid_authorization_details`) are words, and
/// the contract wants OAuth error codes on the error line.
fn token_like_runs(text: &str, min: usize) -> impl Iterator<Item = &str> {
    let looks_secret = |run: &str| {
        run.len() >= 64
            || run.bytes().any(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b"+/=~".contains(&b))
    };
    text.split(|c: char| !token_like(c)).filter(move |run| run.len() >= min && looks_secret(run))
}

/// Secrets never show: replacing only the value of `access_token` (or `refresh_token`,
/// `code`, ...) in the body by another value of the same shape leaves `Debug` and `Display`
/// of the outcome unchanged, and changes the `AuthResult` JSON only in that member's slot.
///
/// This is the exact form of "Debug never contains the token": it applies whenever the value
/// occurs once in the body and nowhere else (not inside another member's name or value,
/// where showing it is legitimate), whatever its length.
fn check_secret_independence(
    response: &Response<Vec<u8>>,
    reference: &BodyRef,
    parsed: &Result<AuthResult, Error>,
) {
    let Some(body) = reference.object() else { return };
    if reference.top_dup {
        return;
    }
    let raw = response.body().as_slice();
    for (wire, output) in SECRET_MEMBERS {
        let Some(secret) = body.get(*wire).and_then(Value::as_str) else { continue };
        let other = rotated(secret);
        if other == secret || occurrences(raw, secret.as_bytes()) != 1 {
            continue;
        }
        let mut public = Vec::new();
        for (name, value) in body {
            public.push(name.clone());
            if name != wire {
                collect_strings(value, &mut public);
            }
        }
        public
            .extend(response.headers().values().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()));
        if public.iter().any(|p| p.contains(secret)) {
            continue;
        }
        let Some(at) = find(raw, secret.as_bytes()) else { continue };
        let mut raw2 = raw.to_vec();
        raw2[at..at + secret.len()].copy_from_slice(other.as_bytes());
        let mut want = body.clone();
        want.insert((*wire).to_owned(), Value::String(other.clone()));
        if serde_json::from_slice::<Value>(&raw2).ok() != Some(Value::Object(want)) {
            continue; // the single occurrence was not the member's value as written
        }
        let mut response2 = response.clone();
        *response2.body_mut() = raw2;
        let parsed2 = parse_refresh_response(&response2);
        match (parsed, &parsed2) {
            (Ok(a), Ok(b)) => {
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "AuthResult's Debug shows `{wire}`");
                let mut ja = serde_json::to_value(a).unwrap_or_default();
                if let Some(slot) = ja.get_mut(*output) {
                    *slot = Value::String(other.clone());
                }
                assert_eq!(
                    ja,
                    serde_json::to_value(b).unwrap_or_default(),
                    "`{wire}` leaked into another field"
                );
            }
            (Err(a), Err(b)) => {
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "the error's Debug shows `{wire}`");
                assert_eq!(a.to_string(), b.to_string(), "the error's Display shows `{wire}`");
                if *wire == "refresh_token" && a.rotated_refresh_token().is_some() {
                    assert_eq!(
                        b.rotated_refresh_token().map(RefreshToken::expose_secret),
                        Some(other.as_str())
                    );
                }
            }
            _ => panic!("changing only the value of `{wire}` changed the outcome: {parsed:?} / {parsed2:?}"),
        }
    }
}

/// `check_refresh_response` is `parse_refresh_response` then validation; the continuity of
/// an ID token with itself never fails.
fn check_validation_agrees(response: &Response<Vec<u8>>, parsed: &Result<AuthResult, Error>) {
    let Ok(client) = ClientConfig::new("https://id.example/token", "app") else {
        panic!("a valid client configuration is refused")
    };
    let client = client.with_issuer("https://id.example");
    let now = UnixTime::from_secs(1_700_000_000);
    let checked = check_refresh_response(&client, response, None, now);
    match (parsed, &checked) {
        (Err(a), Err(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "check_refresh_response"),
        (Ok(a), Ok((b, continuity))) => {
            assert_eq!(a, b, "check_refresh_response changed the result");
            let want = if a.id_token().is_some() { Continuity::NotChecked } else { Continuity::NoIdToken };
            assert_eq!(*continuity, want);
        }
        (Ok(a), Err(Error::IdToken(e))) => {
            assert!(a.id_token().is_some(), "an ID-token error without an ID token");
            let want = if e.kind().is_identity_mismatch() { None } else { a.refresh_token() };
            assert_eq!(e.rotated_refresh_token(), want, "R18 on {:?}", e.kind());
        }
        _ => panic!("check_refresh_response disagrees with parse_refresh_response: {parsed:?} / {checked:?}"),
    }
    let Ok(a) = parsed else { return };
    let Some(payload) = a.id_token_payload() else { return };
    let alone = validate_auth_result(a.clone(), &client.expectations(), None, now);
    let with_itself = validate_auth_result(a.clone(), &client.expectations(), Some(payload), now);
    match (&alone, &with_itself) {
        (Ok((_, c1)), Ok((_, c2))) => assert_eq!((*c1, *c2), (Continuity::NotChecked, Continuity::Checked)),
        (Err(Error::IdToken(x)), Err(Error::IdToken(y))) => assert_eq!(x.kind(), y.kind()),
        _ => panic!("an ID token is not continuous with itself: {alone:?} / {with_itself:?}"),
    }
}
