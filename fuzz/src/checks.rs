//! The fuzz targets' input decoding and invariants, shared by the targets
//! (`fuzz/fuzz_targets/*.rs`) and the stable replay of the committed corpora
//! (`tests/fuzz_corpora.rs`).
//!
//! Each `pub(crate) fn <target>(data: &[u8])` is the whole body of the fuzz target of that
//! name: it decodes the input exactly as the target does and panics when an invariant fails.
//! Only crates the root package already has are used (`oidc_refresh_core`, `serde`,
//! `serde_json`), so the replay needs neither nightly nor cargo-fuzz. Structured inputs are
//! read with the small [`Reader`] below rather than `arbitrary`, for the same reason.
//!
//! Input formats (the seeds in `fuzz/seeds/<target>/` follow them):
//!
//! | target | input |
//! | --- | --- |
//! | `token_response` | `[s] body…`: status `TOKEN_STATUSES[s % 9]` |
//! | `error_response` | `[m] …`: status `ERROR_STATUSES[(m & 0x7f) % 11]`; `m < 0x80`: the rest is the body; `m >= 0x80`: the rest drives [`structured_error`] (an OAuth-error-shaped body and headers) |
//! | `id_token` | the whole input, as (lossy) UTF-8 |
//! | `scope_and_refresh_token` | `[flags] refresh_token 0xFF scope 0xFF client_secret 0xFF client_id`; flags: bit 0 JSON body, bits 1-2 auth (0 none, 1 basic, 2 post, 3 none), bit 3 a scope is requested |
//! | `discovery` | `[s] issuer 0xFF body…`: status `DISCOVERY_STATUSES[s % 8]` |

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use oidc_refresh_core::discovery::{build_discovery_request, discovery_url, parse_discovery_response};
use oidc_refresh_core::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use oidc_refresh_core::http::{HeaderName, HeaderValue, Method, Response, StatusCode};
use oidc_refresh_core::{
    AuthResult, BodyFormat, ClientAuth, ClientConfig, ClientSecret, ConfigError, Continuity, Error, Fault,
    IdTokenPayload, ProtocolErrorKind, RefreshParams, RefreshToken, UnixTime, build_refresh_request,
    check_refresh_response, check_refresh_token, check_scope, decode_id_token, decode_id_token_with_header,
    is_loopback_host, validate_auth_result,
};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------
// Input formats
// ---------------------------------------------------------------------------------------

/// The statuses `token_response` chooses from with its first byte.
pub(crate) const TOKEN_STATUSES: [u16; 9] = [200, 201, 204, 302, 400, 401, 429, 500, 502];
/// The statuses `error_response` chooses from with its first byte (low 7 bits).
pub(crate) const ERROR_STATUSES: [u16; 11] = [400, 401, 403, 404, 405, 409, 422, 429, 500, 502, 503];
/// The statuses `discovery` chooses from with its first byte.
pub(crate) const DISCOVERY_STATUSES: [u16; 8] = [200, 200, 200, 201, 204, 302, 404, 500];
/// Separates the fields of the `scope_and_refresh_token` and `discovery` inputs (never
/// valid UTF-8, so it constrains no string).
pub(crate) const SEP: u8 = 0xFF;

/// `token_response`: a status from the first byte, the rest as the body.
pub(crate) fn token_response(data: &[u8]) {
    let Some((&s, body)) = data.split_first() else { return };
    let status = TOKEN_STATUSES[usize::from(s) % TOKEN_STATUSES.len()];
    let _ = check_response(&response(status, &[], body.to_vec()));
}

/// `error_response`: a 4xx (or 5xx) status and a raw or an OAuth-error-shaped body.
pub(crate) fn error_response(data: &[u8]) {
    let Some((&m, rest)) = data.split_first() else { return };
    let status = ERROR_STATUSES[usize::from(m & 0x7f) % ERROR_STATUSES.len()];
    let response =
        if m & 0x80 == 0 { response(status, &[], rest.to_vec()) } else { structured_error(status, rest) };
    let parsed = check_response(&response);
    // The two invariants this target exists for (check_response asserts them too).
    assert!(parsed.is_err(), "a success from HTTP {status}");
    if let Err(Error::Server(e)) = &parsed {
        assert!(!e.code().is_empty(), "an OAuth error with an empty code");
    }
}

/// `id_token`: the input as an ID token.
pub(crate) fn id_token(data: &[u8]) {
    check_id_token(&String::from_utf8_lossy(data));
}

/// `scope_and_refresh_token`: syntax checks against reference predicates, and the request
/// body decoded back.
pub(crate) fn scope_and_refresh_token(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else { return };
    let mut fields = rest.split(|&b| b == SEP);
    let refresh_token = String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    let scope = fields.next().unwrap_or_default();
    let scope = (flags & 8 != 0).then(|| String::from_utf8_lossy(scope).into_owned());
    let secret =
        fields.next().map_or_else(|| "s3cret".to_owned(), |s| String::from_utf8_lossy(s).into_owned());
    let client_id = fields
        .next()
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .filter(|id| reference_client_id_ok(id))
        .unwrap_or_else(|| "app".to_owned());
    let format = if flags & 1 == 0 { BodyFormat::Form } else { BodyFormat::Json };
    let auth = match (flags >> 1) & 3 {
        1 => ClientAuth::ClientSecretBasic(ClientSecret::new(secret.clone())),
        2 => ClientAuth::ClientSecretPost(ClientSecret::new(secret.clone())),
        _ => ClientAuth::None,
    };
    check_request(&refresh_token, scope.as_deref(), &secret, &client_id, format, auth);
}

/// `discovery`: a status from the first byte, then the issuer asked for, `0xFF`, the body.
pub(crate) fn discovery(data: &[u8]) {
    let Some((&s, rest)) = data.split_first() else { return };
    let status = DISCOVERY_STATUSES[usize::from(s) % DISCOVERY_STATUSES.len()];
    let (issuer, body) = match rest.iter().position(|&b| b == SEP) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    check_discovery(&String::from_utf8_lossy(issuer), &response(status, &[], body.to_vec()));
}

/// A response with this status, headers and body.
pub(crate) fn response(status: u16, headers: &[(&str, HeaderValue)], body: Vec<u8>) -> Response<Vec<u8>> {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    for (name, value) in headers {
        if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
            r.headers_mut().append(name, value.clone());
        }
    }
    r
}

/// Reads structure out of fuzz bytes: every read succeeds (zeros once the bytes run out).
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    /// A number in `0..n` (`n` at most 256).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }
    /// Up to `max` raw bytes (`max` below 256), the length read first.
    pub(crate) fn chunk(&mut self, max: usize) -> &'a [u8] {
        let len = self.below(max + 1).min(self.0.len());
        let (head, tail) = self.0.split_at(len);
        self.0 = tail;
        head
    }
    pub(crate) fn text(&mut self, max: usize) -> String {
        String::from_utf8_lossy(self.chunk(max)).into_owned()
    }
    pub(crate) fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[self.below(items.len())]
    }
}

const ERROR_MEMBER_NAMES: &[&str] = &[
    "error",
    "error",
    "error_description",
    "error_uri",
    "error_user_msg",
    "error_message_key",
    "error_details",
    "error_id",
    "access_token",
    "refresh_token",
    "token_type",
    "expires_in",
    "id_token",
    "scope",
    "field",
    "message",
    "code",
    "accessToken",
];
const ERROR_CODES: &[&str] = &[
    "invalid_grant",
    "invalid_client",
    "invalid_request",
    "invalid_scope",
    "unauthorized_client",
    "unsupported_grant_type",
    "temporarily_unavailable",
    "slow_down",
    "server_error",
    "access_denied",
    "invalid_dpop_proof",
    "",
    "Bearer",
    "3599",
    "https://id.example/errors/42",
    "Refresh token expired. Please sign in again.",
    "SECRET-RT-0123456789abcdefXYZ",
];
const NUMBERS: &[&str] = &["0", "-0", "1", "3600", "3600.0", "-1", "1e3", "18446744073709551615", "1e400"];
const RETRY_AFTERS: &[&str] =
    &["120", " 5 ", "0", "Wed, 21 Oct 2015 07:28:00 GMT", "-1", "99999999999999999999"];
const WWW_AUTHENTICATES: &[&str] =
    &[r#"Basic realm="id.example""#, r#"Bearer error="invalid_token""#, r#"DPoP algs="ES256""#];
const CONTENT_TYPES: &[&str] =
    &["application/json", "application/json;charset=UTF-8", "text/html", "text/plain"];

/// An OAuth-error-shaped response: a JSON object mostly made of RFC 6749 §5.2 and ReachFive
/// error members, optional `Retry-After`, `WWW-Authenticate` and `Content-Type`, and now
/// and then trailing garbage or a truncation.
pub(crate) fn structured_error(status: u16, data: &[u8]) -> Response<Vec<u8>> {
    let mut r = Reader(data);
    let flags = r.byte();
    let mut headers = Vec::new();
    for (bit, name, choices) in [
        (1, "retry-after", RETRY_AFTERS),
        (2, "www-authenticate", WWW_AUTHENTICATES),
        (4, "content-type", CONTENT_TYPES),
    ] {
        if flags & bit != 0 {
            let value =
                if r.byte() & 1 == 0 { r.pick(choices).as_bytes().to_vec() } else { r.chunk(40).to_vec() };
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                headers.push((name, value));
            }
        }
    }
    let mut body = String::new();
    write_object(&mut r, &mut body, 0);
    if flags & 8 != 0 {
        body.push_str(&r.text(8));
    }
    if flags & 16 != 0 {
        let mut cut = r.below(256).min(body.len());
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
    }
    response(status, &headers, body.into_bytes())
}

fn write_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned()));
}

fn write_object(r: &mut Reader<'_>, out: &mut String, depth: usize) {
    out.push('{');
    for i in 0..r.below(8) {
        if i > 0 {
            out.push(',');
        }
        let name = if r.byte() < 224 { r.pick(ERROR_MEMBER_NAMES).to_owned() } else { r.text(12) };
        write_str(out, &name);
        out.push(':');
        write_value(r, out, depth + 1);
    }
    out.push('}');
}

fn write_value(r: &mut Reader<'_>, out: &mut String, depth: usize) {
    match r.below(10) {
        0 => out.push_str("null"),
        1 => out.push_str(if r.byte() & 1 == 0 { "true" } else { "false" }),
        2 => out.push_str(r.pick(NUMBERS)),
        3 | 4 => write_str(out, r.pick(ERROR_CODES)),
        5 => write_str(out, &r.text(48)),
        6 if depth < 4 => {
            out.push('[');
            for i in 0..r.below(4) {
                if i > 0 {
                    out.push(',');
                }
                write_value(r, out, depth + 1);
            }
            out.push(']');
        }
        7 if depth < 4 => write_object(r, out, depth),
        8 => {
            // ReachFive's error_details: [{field, message, code}].
            out.push('[');
            for i in 0..r.below(3) {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"field":"#);
                write_str(out, &r.text(12));
                out.push_str(r#","message":"#);
                write_str(out, &r.text(24));
                out.push_str(r#","code":"#);
                write_str(out, r.pick(&["missing", "invalid", ""]));
                out.push('}');
            }
            out.push(']');
        }
        _ => {
            // A token-like secret, long enough to be masked in server text.
            let mut s = String::from("SECRET-");
            s.extend(r.chunk(40).iter().map(|b| char::from(b'A' + b % 26)));
            write_str(out, &s);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Token responses
// ---------------------------------------------------------------------------------------

/// What serde_json (an independent reader) makes of a body.
struct BodyRef {
    /// `None` when serde_json refuses it (not JSON, a number out of f64 range, nesting past
    /// 128); the core may still read some of those, so no claim is made about them.
    value: Option<Value>,
    /// A member name repeats in the top-level object.
    top_dup: bool,
    /// A member name repeats in some object, at any depth.
    any_dup: bool,
    /// The top-level names that repeat.
    top_dup_names: BTreeSet<String>,
}

impl BodyRef {
    fn of(body: &[u8]) -> Self {
        let value = serde_json::from_slice::<Value>(body).ok();
        let dups = if value.is_some() { duplicates(body) } else { Dups::default() };
        Self { value, top_dup: dups.top, any_dup: dups.any, top_dup_names: dups.top_names }
    }

    fn object(&self) -> Option<&Map<String, Value>> {
        self.value.as_ref().and_then(Value::as_object)
    }
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

/// Every invariant of `parse_refresh_response` on one response; returns its outcome.
pub(crate) fn check_response(response: &Response<Vec<u8>>) -> Result<AuthResult, Error> {
    let status = response.status();
    let parsed = oidc_refresh_core::parse_refresh_response(response);
    let again = oidc_refresh_core::parse_refresh_response(response);
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

fn is_printable_ascii(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| (0x20..=0x7e).contains(&b))
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

/// How deeply a value nests: 0 for a scalar, 1 for `[]`, ...
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(members) => 1 + members.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn string_list(v: &Value) -> Option<Vec<String>> {
    v.as_array()?.iter().map(|s| s.as_str().map(str::to_owned)).collect()
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
            // Rule 18: a 2xx body without `error` that holds one well-formed `refresh_token`
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
                    "rule 18: the rotated refresh token of a broken 2xx was lost"
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

/// Every key and string (and number, as text) anywhere in a JSON value.
fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                collect_strings(v, out);
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// The same letters and digits, each moved one step in its class: same length, same
/// syntax classes, so the parse must not change except where the value is shown.
fn rotated(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'z' => 'a',
            'Z' => 'A',
            '9' => '0',
            c if c.is_ascii_alphanumeric() => char::from(c as u8 + 1),
            c => c,
        })
        .collect()
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
        let parsed2 = oidc_refresh_core::parse_refresh_response(&response2);
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() {
        return 0;
    }
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
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
            assert_eq!(e.rotated_refresh_token(), want, "rule 18 on {:?}", e.kind());
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

// ---------------------------------------------------------------------------------------
// ID tokens
// ---------------------------------------------------------------------------------------

/// Claims the decoder types (wire names).
const KNOWN_CLAIMS: &[&str] = &[
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
];
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

/// Every invariant of `decode_id_token` on one string.
pub(crate) fn check_id_token(jwt: &str) {
    let plain = decode_id_token(jwt);
    let with_header = decode_id_token_with_header(jwt);
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
    let in_response = oidc_refresh_core::parse_refresh_response(&response(200, &[], body.into_bytes()));
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
fn check_payload(p: &IdTokenPayload) -> Value {
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
fn check_jwt_reference(jwt: &str, header: &oidc_refresh_core::JwtHeader, p: &IdTokenPayload) {
    let segments: Vec<&str> = jwt.split('.').collect();
    assert_eq!(segments.len(), 3, "a decoded token without exactly three segments");
    let Some(header_bytes) = base64url_decode(segments[0]) else { panic!("the header is not base64url") };
    let Some(payload_bytes) = base64url_decode(segments[1]) else { panic!("the payload is not base64url") };
    assert!(
        segments[2].is_empty() || base64url_decode(segments[2]).is_some(),
        "the signature is not base64url"
    );
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
        if !KNOWN_CLAIMS.contains(&name.as_str()) && !PAYLOAD_KEYS.contains(&name.as_str()) {
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

/// Lenient base64url (either alphabet's padding-free form; trailing bits ignored).
fn base64url_decode(s: &str) -> Option<Vec<u8>> {
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
    Some(out)
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

/// RFC 6749 A.17 / rule 6: a refresh token is one or more `%x20-7E`.
pub(crate) fn reference_refresh_token_ok(t: &str) -> bool {
    is_printable_ascii(t)
}

/// RFC 6749 §3.3 / rule 5: scope-tokens of `%x21 / %x23-5B / %x5D-7E`, single spaces.
pub(crate) fn reference_scope_ok(s: &str) -> bool {
    !s.is_empty()
        && s.split(' ').all(|token| {
            !token.is_empty()
                && token
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
        })
}

fn reference_client_id_ok(s: &str) -> bool {
    !s.is_empty() && !s.contains(char::is_control)
}

const ENDPOINT: &str = "https://id.example/token";

fn check_request(
    refresh_token: &str,
    scope: Option<&str>,
    secret: &str,
    client_id: &str,
    format: BodyFormat,
    auth: ClientAuth,
) {
    let token = RefreshToken::new(refresh_token);
    let token_ok = reference_refresh_token_ok(refresh_token);
    match check_refresh_token(&token) {
        Ok(()) => assert!(token_ok, "check_refresh_token accepted {refresh_token:?}"),
        Err(e) => {
            assert!(!token_ok, "check_refresh_token refused {refresh_token:?}: {e}");
            assert!(matches!(e, ConfigError::InvalidRefreshToken { .. }), "{e:?}");
        }
    }
    let scope_ok = scope.is_none_or(reference_scope_ok);
    if let Some(scope) = scope {
        match check_scope(scope) {
            Ok(()) => assert!(scope_ok, "check_scope accepted {scope:?}"),
            Err(e) => {
                assert!(!scope_ok, "check_scope refused {scope:?}: {e}");
                assert!(matches!(e, ConfigError::InvalidScope { .. }), "{e:?}");
            }
        }
    }
    let uses_secret = auth.secret().is_some();
    // A client secret follows the client id's rule: non-empty, no control character.
    let secret_ok = !uses_secret || reference_client_id_ok(secret);
    let (id_in_body, secret_in_body, basic) = match &auth {
        ClientAuth::ClientSecretBasic(_) => (false, false, true),
        ClientAuth::ClientSecretPost(_) => (true, true, false),
        _ => (true, false, false),
    };
    let Ok(config) = ClientConfig::new(ENDPOINT, client_id) else {
        panic!("client id {client_id:?} refused")
    };
    let config = config.with_body_format(format).with_auth(auth);

    let build = |t: &RefreshToken| {
        let mut params = RefreshParams::new(t);
        if let Some(scope) = scope {
            params = params.scope(scope);
        }
        build_refresh_request(&config, &params)
    };
    let request = match build(&token) {
        Err(e) => {
            assert!(!(token_ok && scope_ok && secret_ok), "a valid request was refused: {e:?}");
            let fits = match e {
                ConfigError::InvalidRefreshToken { .. } => !token_ok,
                ConfigError::InvalidScope { .. } => !scope_ok,
                ConfigError::InvalidClientSecret { .. } => !secret_ok,
                _ => false,
            };
            assert!(fits, "the wrong error: {e:?}");
            // The error never depends on (so never shows) the refresh token's value.
            let other = rotated(refresh_token);
            if let Err(e2) = build(&RefreshToken::new(other.as_str())) {
                assert_eq!(format!("{e:?} {e}"), format!("{e2:?} {e2}"), "the error shows the refresh token");
            } else {
                panic!("a refresh token of the same shape changed the outcome");
            }
            return;
        }
        Ok(request) => request,
    };
    assert!(token_ok && scope_ok && secret_ok, "an invalid request was built");
    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.uri(), ENDPOINT);
    assert!(request.uri().query().is_none(), "nothing goes in the URL");

    let mut want: Vec<(String, String)> =
        vec![("grant_type".into(), "refresh_token".into()), ("refresh_token".into(), refresh_token.into())];
    if let Some(scope) = scope {
        want.push(("scope".into(), scope.into()));
    }
    if id_in_body {
        want.push(("client_id".into(), client_id.into()));
    }
    if secret_in_body {
        want.push(("client_secret".into(), secret.into()));
    }
    want.sort();
    let content_type = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut got = match format {
        BodyFormat::Json => {
            assert_eq!(content_type, "application/json;charset=UTF-8");
            assert!(!duplicates(request.body()).any, "a repeated name in the JSON body");
            let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(request.body()) else {
                panic!("the JSON body is not a JSON object: {:?}", String::from_utf8_lossy(request.body()))
            };
            map.into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => (k, s),
                    other => panic!("member {k:?} is {other:?}"),
                })
                .collect::<Vec<_>>()
        }
        _ => {
            assert_eq!(content_type, "application/x-www-form-urlencoded");
            let Ok(text) = std::str::from_utf8(request.body()) else { panic!("the form body is not UTF-8") };
            assert!(text.is_ascii(), "the form body is not all escaped: {text:?}");
            form_decode(text)
        }
    };
    got.sort();
    assert_eq!(got, want, "the request body does not decode back to the parameters");

    match request.headers().get(AUTHORIZATION) {
        Some(value) => {
            assert!(basic, "an Authorization header without client_secret_basic");
            assert!(value.is_sensitive(), "Authorization is not marked sensitive");
            let text = value.to_str().unwrap_or_default();
            let Some(b64) = text.strip_prefix("Basic ") else { panic!("not Basic: {text:?}") };
            let decoded = base64_standard_decode(b64).unwrap_or_default();
            let decoded = String::from_utf8(decoded).unwrap_or_default();
            let Some((id, sec)) = decoded.split_once(':') else { panic!("no ':' in the Basic credentials") };
            assert_eq!(
                (form_decode_component(id), form_decode_component(sec)),
                (client_id.to_owned(), secret.to_owned()),
                "Basic credentials are form-encoded id ':' secret (RFC 6749 §2.3.1)"
            );
        }
        None => assert!(!basic, "client_secret_basic without an Authorization header"),
    }
}

/// `application/x-www-form-urlencoded` pairs, decoded independently of the core.
fn form_decode(text: &str) -> Vec<(String, String)> {
    if text.is_empty() {
        return Vec::new();
    }
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (form_decode_component(k), form_decode_component(v)),
            None => (form_decode_component(pair), String::new()),
        })
        .collect()
}

fn form_decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn base64_standard_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    base64url_decode(&s.replace('+', "-").replace('/', "_"))
}

// ---------------------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------------------

/// Loopback by the contract: `localhost` in any case, `127.0.0.0/8` as a literal dotted
/// quad, the address `::1` (bracketed, as a URL host is).
pub(crate) fn reference_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok_and(|a| a == std::net::Ipv6Addr::LOCALHOST);
    }
    host.parse::<std::net::Ipv4Addr>().is_ok_and(|a| a.octets()[0] == 127)
}

fn check_discovery(issuer: &str, response: &Response<Vec<u8>>) {
    let status = response.status();
    let result = parse_discovery_response(response, issuer);
    let again = parse_discovery_response(response, issuer);
    assert_eq!(format!("{result:?}"), format!("{again:?}"), "parse_discovery_response is not deterministic");
    match &result {
        Ok(meta) => {
            assert!(status.is_success(), "a discovery document accepted from HTTP {status}");
            assert_eq!(meta.issuer(), issuer, "the issuer is not the one asked for");
            let uri = meta.token_endpoint();
            let host = uri.host().unwrap_or_default();
            let scheme = uri.scheme_str().unwrap_or_default();
            assert!(!host.is_empty(), "a token endpoint without a host");
            assert!(
                scheme.eq_ignore_ascii_case("https")
                    || (scheme.eq_ignore_ascii_case("http") && reference_loopback(host)),
                "the token endpoint {uri} is neither https nor loopback http"
            );
            assert_eq!(is_loopback_host(host), reference_loopback(host), "is_loopback_host({host:?})");
            assert!(!uri.authority().is_some_and(|a| a.as_str().contains('@')), "credentials in {uri}");
            match meta.client("app") {
                Ok(client) => {
                    assert_eq!(client.issuer(), Some(issuer));
                    assert_eq!(
                        client.token_endpoint(),
                        uri,
                        "the token endpoint does not survive a round trip"
                    );
                }
                Err(e) => panic!("the accepted token endpoint {uri} cannot configure a client: {e:?}"),
            }
            let body = BodyRef::of(response.body());
            if let Some(doc) = body.object() {
                assert!(!body.top_dup, "a repeated top-level member name was accepted");
                assert_eq!(doc.get("issuer").and_then(Value::as_str), Some(issuer));
                assert!(doc.get("token_endpoint").is_some_and(Value::is_string));
                assert_eq!(doc.get("jwks_uri").and_then(Value::as_str), meta.jwks_uri());
            }
        }
        Err(e) => {
            assert_eq!(e.fault(), Fault::ServerProtocol, "{e:?}");
            assert_eq!(e.status(), Some(status));
            assert!(e.rotated_refresh_token().is_none());
            let display = e.to_string();
            assert!(!display.contains(['\n', '\r']), "an error message on more than one line: {display:?}");
        }
    }
    // The issuer as a discovery URL: https or loopback http, ending in the well-known path.
    let url = discovery_url(issuer);
    assert_eq!(url.is_ok(), build_discovery_request(issuer).is_ok());
    if let Ok(url) = url {
        assert!(url.path().ends_with("/.well-known/openid-configuration"), "{url}");
        let scheme = url.scheme_str().unwrap_or_default();
        let host = url.host().unwrap_or_default();
        assert!(
            scheme.eq_ignore_ascii_case("https")
                || (scheme.eq_ignore_ascii_case("http") && reference_loopback(host)),
            "the discovery URL {url} is neither https nor loopback http"
        );
    }
}

// ---------------------------------------------------------------------------------------
// JSON helpers
// ---------------------------------------------------------------------------------------

/// Serialises `value` and reads it back: it must be exactly one JSON object with no repeated
/// name. It is read with raw members, as the core itself reads JSON (DESIGN.md: unknown
/// members are kept verbatim, so numbers beyond f64 survive); each member is then given as a
/// `serde_json::Value` when serde_json's `Value` can hold it.
fn json_object_of<T: serde::Serialize + fmt::Debug>(value: &T, what: &str) -> Map<String, Value> {
    let text = match serde_json::to_string(value) {
        Ok(text) => text,
        Err(e) => panic!("{what} does not serialise: {e} ({value:?})"),
    };
    assert!(!duplicates(text.as_bytes()).any, "{what} JSON repeats a name: {text}");
    let members = match serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(&text) {
        Ok(members) => members,
        Err(e) => panic!("{what} JSON does not read back as a JSON object: {e} in {text}"),
    };
    members.into_iter().filter_map(|(k, v)| serde_json::from_str(v.get()).ok().map(|v| (k, v))).collect()
}

#[derive(Default)]
struct Dups {
    top: bool,
    any: bool,
    /// The repeated top-level names.
    top_names: BTreeSet<String>,
}

/// Repeated member names, at the top level and at any depth, found by walking the JSON text
/// with serde (names unescaped, so `"a"` and `"\u0061"` are the same name).
///
/// One pass converts scalars, which fails on a number beyond f64 or past serde_json's depth
/// limit; then a second walk keeps every value raw and rescans each nested container on its
/// own (slower, but no value is ever converted).
fn duplicates(json: &[u8]) -> Dups {
    let mut found = Dups::default();
    if scan(json, true, false, &mut found) {
        return found;
    }
    let mut found = Dups::default();
    scan(json, true, true, &mut found);
    found
}

/// Walks `json`; `false` when serde_json stopped early.
fn scan(json: &[u8], top: bool, raw: bool, found: &mut Dups) -> bool {
    let mut de = serde_json::Deserializer::from_slice(json);
    DupScan { top, raw, found }.deserialize(&mut de).is_ok()
}

struct DupScan<'a> {
    top: bool,
    /// Keep nested values raw and rescan containers separately.
    raw: bool,
    found: &'a mut Dups,
}

/// Rescans a raw nested value on its own, when it is a container.
fn rescan(value: &RawValue, found: &mut Dups) {
    if value.get().starts_with(['{', '[']) {
        scan(value.get().as_bytes(), false, true, found);
    }
}

impl<'de> DeserializeSeed<'de> for DupScan<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DupScan<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let DupScan { top, raw, found } = self;
        let mut names = BTreeSet::new();
        while let Some(name) = map.next_key::<String>()? {
            if raw {
                rescan(map.next_value::<&'de RawValue>()?, found);
            } else {
                map.next_value_seed(DupScan { top: false, raw, found: &mut *found })?;
            }
            if !names.contains(&name) {
                names.insert(name);
            } else {
                found.any = true;
                if top {
                    found.top = true;
                    found.top_names.insert(name);
                }
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let DupScan { raw, found, .. } = self;
        if raw {
            while let Some(item) = seq.next_element::<&'de RawValue>()? {
                rescan(item, found);
            }
        } else {
            while seq.next_element_seed(DupScan { top: false, raw, found: &mut *found })?.is_some() {}
        }
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// The helpers the invariants rest on, checked on their own (run by `tests/fuzz_corpora.rs`).
#[cfg(test)]
mod self_tests {
    use super::*;

    #[test]
    fn duplicates_are_found_at_every_depth_even_past_f64_numbers() {
        let found = |s: &str| {
            let d = duplicates(s.as_bytes());
            (d.top, d.any, d.top_names.into_iter().collect::<Vec<_>>())
        };
        assert_eq!(found(r#"{"a":1,"b":2}"#), (false, false, vec![]));
        assert_eq!(found(r#"{"a":1,"\u0061":2}"#), (true, true, vec!["a".to_owned()]));
        assert_eq!(found(r#"{"x":[{"k":1,"k":2}]}"#), (false, true, vec![]));
        // Past serde_json's f64 range: the raw rescan still finds them.
        assert_eq!(found(r#"{"big":1e400,"x":{"k":1,"k":2}}"#), (false, true, vec![]));
        assert_eq!(found(r#"{"big":1e400,"r":1,"r":2}"#), (true, true, vec!["r".to_owned()]));
    }

    #[test]
    fn decoders_and_predicates() {
        assert_eq!(
            form_decode("a=b+c&d=%26%3D&e"),
            [("a", "b c"), ("d", "&="), ("e", "")].map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert_eq!(base64url_decode("eyJhIjoxfQ").as_deref(), Some(&b"{\"a\":1}"[..]));
        assert_eq!(base64_standard_decode("bXk6YXBw").as_deref(), Some(&b"my:app"[..]));
        assert_eq!(rotated("az-AZ_09"), "ba-BA_10");
        assert!(
            reference_scope_ok("openid !#[]~") && !reference_scope_ok("a  b") && !reference_scope_ok("a\"b")
        );
        assert!(
            reference_refresh_token_ok("a b~")
                && !reference_refresh_token_ok("a\tb")
                && !reference_refresh_token_ok("")
        );
        for host in ["localhost", "LocalHost", "127.0.0.1", "127.255.1.2", "[::1]", "[0:0:0:0:0:0:0:1]"] {
            assert!(reference_loopback(host), "{host}");
        }
        for host in ["localhost.evil", "127.1", "128.0.0.1", "[::2]", "::1", "0x7f000001"] {
            assert!(!reference_loopback(host), "{host}");
        }
        assert_eq!(token_like_runs("ab cD3fgh ij", 3).collect::<Vec<_>>(), ["cD3fgh"]);
        assert_eq!(token_like_runs("invalid_authorization_details", 24).count(), 0);
        assert_eq!(token_like_runs(&"a".repeat(64), 24).count(), 1);
    }

    #[test]
    fn structured_errors_are_json_objects_when_not_broken_on_purpose() {
        for seed in 0u8..=255 {
            let data: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(seed).wrapping_add(seed) & !0x18).collect();
            let body = structured_error(400, &data).into_body();
            assert!(
                serde_json::from_slice::<BTreeMap<String, Box<RawValue>>>(&body).is_ok(),
                "{}",
                String::from_utf8_lossy(&body)
            );
        }
    }
}
