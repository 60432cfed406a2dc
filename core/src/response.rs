//! Parsing the token endpoint's answer (RFC 6749 §5.1, §5.2; rules 10–19) into
//! [`AuthResult`] or a typed [`Error`].

use std::fmt;
use std::time::Duration;

use http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, Response, StatusCode};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::claims::{self, IdTokenPayload};
use crate::error::{Error, ErrorDetail, OAuthError, ProtocolError, ProtocolErrorKind, sanitize};
use crate::json::{self, Member, ObjectError};
use crate::jwt::JwtHeader;
use crate::request::check_refresh_token_str;
use crate::secret::{AccessToken, IdToken, OtherSecret, RefreshToken};
use crate::time::UnixTime;

/// The output names of [`AuthResult`]; an unknown member with one of these names would
/// collide in the JSON output and is dropped.
const OUTPUT_NAMES: &[&str] = &[
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

/// A successful token response, shaped like the ReachFive SDK's `AuthResult`.
///
/// Serialises to the SDK's JSON (camelCase, absent fields omitted, `Bearer` normalised,
/// unknown members under their wire names). `Debug` redacts every token and shows only the
/// names of unknown members.
#[derive(Clone, PartialEq)]
pub struct AuthResult {
    access_token: AccessToken,
    token_type: String,
    expires_in: Option<u64>,
    refresh_token: Option<RefreshToken>,
    id_token: Option<IdToken>,
    id_token_header: Option<JwtHeader>,
    id_token_payload: Option<IdTokenPayload>,
    scope: Option<String>,
    code: Option<OtherSecret>,
    state: Option<String>,
    step_up_token: Option<OtherSecret>,
    amr: Option<Vec<String>>,
    provider_name: Option<String>,
    provider_access_token: Option<OtherSecret>,
    extra: Vec<(String, json::Raw)>,
}

impl AuthResult {
    /// `access_token`: always present in a success.
    #[must_use]
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    /// `token_type`: `Bearer` for any case of `bearer`, any other type as given (`DPoP`).
    #[must_use]
    pub fn token_type(&self) -> &str {
        &self.token_type
    }
    /// `expires_in` in seconds; `None` means *unknown*, never *eternal* (rule 15).
    #[must_use]
    pub fn expires_in(&self) -> Option<u64> {
        self.expires_in
    }
    /// When the access token expires, counted from when the request was *sent* so that
    /// the lifetime is never overstated (rule 22); `None` when `expires_in` is absent.
    #[must_use]
    pub fn expires_at(&self, sent_at: UnixTime) -> Option<UnixTime> {
        self.expires_in.map(|s| sent_at + Duration::from_secs(s))
    }
    /// `refresh_token`: when present, it replaces the one that was sent, which is now spent
    /// (rule 16). Absent: keep using the previous one.
    #[must_use]
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    /// Takes the refresh token out of the result, consuming it.
    #[must_use]
    pub fn into_refresh_token(self) -> Option<RefreshToken> {
        self.refresh_token
    }
    /// `id_token`, in compact form.
    #[must_use]
    pub fn id_token(&self) -> Option<&IdToken> {
        self.id_token.as_ref()
    }
    /// The decoded JOSE header of the ID token (not serialised).
    #[must_use]
    pub fn id_token_header(&self) -> Option<&JwtHeader> {
        self.id_token_header.as_ref()
    }
    /// The decoded, **unverified** claims of the ID token; see
    /// [`validate`](crate::validate) for the checks.
    #[must_use]
    pub fn id_token_payload(&self) -> Option<&IdTokenPayload> {
        self.id_token_payload.as_ref()
    }
    /// `scope` as granted. Absent means the requested (or previous) scope (rule 17).
    #[must_use]
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }
    /// `code`.
    #[must_use]
    pub fn code(&self) -> Option<&OtherSecret> {
        self.code.as_ref()
    }
    /// `state`.
    #[must_use]
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }
    /// ReachFive's `step_up_token`.
    #[must_use]
    pub fn step_up_token(&self) -> Option<&OtherSecret> {
        self.step_up_token.as_ref()
    }
    /// `amr`, always a list.
    #[must_use]
    pub fn amr(&self) -> Option<&[String]> {
        self.amr.as_deref()
    }
    /// ReachFive's `provider_name`.
    #[must_use]
    pub fn provider_name(&self) -> Option<&str> {
        self.provider_name.as_deref()
    }
    /// ReachFive's `provider_access_token`.
    #[must_use]
    pub fn provider_access_token(&self) -> Option<&OtherSecret> {
        self.provider_access_token.as_ref()
    }
    /// Every member the SDK does not know, under its wire name, with its JSON value.
    pub fn extra(&self) -> impl ExactSizeIterator<Item = (&str, &RawValue)> {
        self.extra.iter().map(|(k, v)| (k.as_str(), &**v))
    }
}

impl fmt::Debug for AuthResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let extra: Vec<&str> = self.extra.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("AuthResult")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token)
            .field("id_token", &self.id_token)
            .field("id_token_payload", &self.id_token_payload)
            .field("scope", &self.scope)
            .field("code", &self.code)
            .field("state", &self.state.as_ref().map(|_| "<present>"))
            .field("step_up_token", &self.step_up_token)
            .field("amr", &self.amr)
            .field("provider_name", &self.provider_name)
            .field("provider_access_token", &self.provider_access_token)
            .field("extra", &extra)
            .finish()
    }
}

impl Serialize for AuthResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        macro_rules! opt {
            ($key:literal, $field:expr) => {
                if let Some(v) = &$field {
                    m.serialize_entry($key, v)?;
                }
            };
        }
        m.serialize_entry("accessToken", &self.access_token)?;
        m.serialize_entry("tokenType", &self.token_type)?;
        opt!("expiresIn", self.expires_in);
        opt!("refreshToken", self.refresh_token);
        opt!("idToken", self.id_token);
        opt!("idTokenPayload", self.id_token_payload);
        opt!("scope", self.scope);
        opt!("code", self.code);
        opt!("state", self.state);
        opt!("stepUpToken", self.step_up_token);
        opt!("amr", self.amr);
        opt!("providerName", self.provider_name);
        opt!("providerAccessToken", self.provider_access_token);
        for (k, v) in &self.extra {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Deserialises from the wire form of a token response (snake_case members), with exactly
/// the checks of [`parse_refresh_response`] for a 200 response. Needs `serde_json`.
impl<'de> Deserialize<'de> for AuthResult {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        parse_success(&parse_members_checked(raw.get().as_bytes()).map_err(serde::de::Error::custom)?)
            .map_err(serde::de::Error::custom)
    }
}

fn parse_members_checked(bytes: &[u8]) -> Result<Vec<Member<'_>>, ProtocolErrorKind> {
    json::parse_object(bytes).map_err(object_error_kind)
}

fn object_error_kind(e: ObjectError) -> ProtocolErrorKind {
    match e {
        ObjectError::NotJson(detail) => ProtocolErrorKind::NotJson { detail },
        ObjectError::NotAnObject => ProtocolErrorKind::NotAnObject,
        ObjectError::Duplicate(name) => ProtocolErrorKind::DuplicateMember { name: sanitize(&name, 64) },
    }
}

/// Parses a token-endpoint response, whatever its status, into the SDK-shaped
/// [`AuthResult`] or an [`Error`] that says whose fault it is.
///
/// - A 2xx whose body is a token response is a success; `access_token` and `token_type`
///   are required, everything else optional, unknown members kept.
/// - A JSON object with a non-empty string `error` is an OAuth error, whatever the status.
/// - Anything else is a protocol error that keeps the status, the content type and, for a
///   body that is not JSON, a short sanitised excerpt.
/// - A 2xx without `error` that rotated the refresh token but is otherwise unusable yields a
///   protocol error *holding that refresh token* (rule 18).
///
/// The content type is not checked: the body decides.
///
/// ```
/// use oidc_refresh_core::{http, parse_refresh_response};
///
/// let ok = http::Response::builder().status(200).body(
///     r#"{"access_token":"at","token_type":"bearer","expires_in":"3599","refresh_token":"rt2"}"#,
/// )?;
/// let result = parse_refresh_response(&ok)?;
/// assert_eq!(result.token_type(), "Bearer");
/// assert_eq!(result.expires_in(), Some(3599));
/// assert_eq!(result.refresh_token().map(|t| t.expose_secret()), Some("rt2"));
///
/// let refused = http::Response::builder().status(400).body(r#"{"error":"invalid_grant"}"#)?;
/// let err = parse_refresh_response(&refused).unwrap_err();
/// assert!(err.is_reauth_required());
///
/// let broken = http::Response::builder().status(200).body(
///     r#"{"token_type":"Bearer","refresh_token":"rt3"}"#,
/// )?;
/// let err = parse_refresh_response(&broken).unwrap_err();
/// assert_eq!(err.rotated_refresh_token().map(|t| t.expose_secret()), Some("rt3"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`Error::Server`] for an OAuth error response, [`Error::Protocol`] for everything that
/// breaks the protocol (see [`ProtocolErrorKind`]).
pub fn parse_refresh_response<B: AsRef<[u8]>>(response: &Response<B>) -> Result<AuthResult, Error> {
    let status = response.status();
    let headers = response.headers();
    let body = response.body().as_ref();
    let fail = |kind: ProtocolErrorKind| -> Error {
        let mut e = ProtocolError::new(kind);
        e.status = Some(status);
        e.content_type = header_text(headers, CONTENT_TYPE, 64);
        e.retry_after = header_text(headers, RETRY_AFTER, 64);
        e.into()
    };

    let members = match json::parse_members(body) {
        Ok(m) => m,
        Err(ObjectError::NotJson(detail)) => {
            let mut e = ProtocolError::new(ProtocolErrorKind::NotJson { detail });
            e.status = Some(status);
            e.content_type = header_text(headers, CONTENT_TYPE, 64);
            e.retry_after = header_text(headers, RETRY_AFTER, 64);
            e.excerpt = excerpt(body);
            return Err(e.into());
        }
        Err(other) => return Err(fail(object_error_kind(other))),
    };

    // Rule 10/11: a non-empty string `error` makes it an OAuth error, whatever the status.
    if let Some((_, value)) = members.iter().find(|(k, _)| k == "error")
        && !json::is_null(value)
    {
        return match json::as_str(value) {
            Some(code) if !code.is_empty() => {
                if let Some(name) = json::find_duplicate(members.iter().map(|(k, _)| k.as_ref())) {
                    return Err(fail(ProtocolErrorKind::DuplicateMember { name: sanitize(name, 64) }));
                }
                Err(oauth_error(status, headers, code.into_owned(), &members).into())
            }
            _ => Err(fail(ProtocolErrorKind::InvalidField {
                field: "error",
                reason: "expected a non-empty string",
            })),
        };
    }

    if !status.is_success() {
        let reason = if status.is_client_error() || status.is_server_error() {
            "an error status without an OAuth `error` code"
        } else {
            "a token response must come with a 2xx status"
        };
        return Err(fail(ProtocolErrorKind::UnexpectedStatus { reason }));
    }

    // Rule 18: find a well-formed rotated refresh token first, so that any later failure
    // still hands it over. A repeated `refresh_token` is ambiguous and is not used.
    let mut rt_values = members.iter().filter(|(k, _)| k == "refresh_token").map(|(_, v)| v);
    let rotated = match (rt_values.next(), rt_values.next()) {
        (Some(v), None) => json::as_str(v).filter(|t| check_refresh_token_str(t).is_ok()),
        _ => None,
    };
    let with_rotated = |kind: ProtocolErrorKind| -> Error {
        let mut e = ProtocolError::new(kind);
        e.status = Some(status);
        e.content_type = header_text(headers, CONTENT_TYPE, 64);
        e.retry_after = header_text(headers, RETRY_AFTER, 64);
        e.rotated_refresh_token = rotated.as_deref().map(RefreshToken::from);
        e.into()
    };

    if let Some(name) = json::find_duplicate(members.iter().map(|(k, _)| k.as_ref())) {
        return Err(with_rotated(ProtocolErrorKind::DuplicateMember { name: sanitize(name, 64) }));
    }
    parse_success(&members).map_err(with_rotated)
}

/// Types the members of a 2xx token response. On failure, returns the error kind; the
/// caller attaches the status and the rotated refresh token.
fn parse_success(members: &[Member<'_>]) -> Result<AuthResult, ProtocolErrorKind> {
    fn invalid(field: &'static str, reason: &'static str) -> ProtocolErrorKind {
        ProtocolErrorKind::InvalidField { field, reason }
    }
    fn string(v: &RawValue, field: &'static str) -> Result<String, ProtocolErrorKind> {
        json::as_str(v).map(|s| s.into_owned()).ok_or(invalid(field, "expected a string"))
    }
    fn non_empty(v: &RawValue, field: &'static str) -> Result<String, ProtocolErrorKind> {
        match json::as_str(v) {
            Some(s) if !s.is_empty() => Ok(s.into_owned()),
            _ => Err(invalid(field, "expected a non-empty string")),
        }
    }

    let mut access_token = None;
    let mut token_type = None;
    let mut r = AuthResult {
        access_token: AccessToken::new(String::new()),
        token_type: String::new(),
        expires_in: None,
        refresh_token: None,
        id_token: None,
        id_token_header: None,
        id_token_payload: None,
        scope: None,
        code: None,
        state: None,
        step_up_token: None,
        amr: None,
        provider_name: None,
        provider_access_token: None,
        extra: Vec::new(),
    };
    for (name, value) in members {
        let value: &RawValue = value;
        let known = matches!(
            name.as_ref(),
            "access_token"
                | "token_type"
                | "expires_in"
                | "refresh_token"
                | "id_token"
                | "scope"
                | "code"
                | "state"
                | "step_up_token"
                | "amr"
                | "provider_name"
                | "provider_access_token"
                | "error"
        );
        if known && json::is_null(value) {
            continue;
        }
        match name.as_ref() {
            "access_token" => access_token = Some(non_empty(value, "access_token")?),
            "token_type" => token_type = Some(non_empty(value, "token_type")?),
            "expires_in" => {
                r.expires_in = Some(expires_in(value).ok_or(invalid(
                    "expires_in",
                    "expected a non-negative integer (or a string of digits) that fits in 64 bits",
                ))?)
            }
            "refresh_token" => {
                let t = non_empty(value, "refresh_token")?;
                check_refresh_token_str(&t)
                    .map_err(|_| invalid("refresh_token", "holds a character outside printable ASCII"))?;
                r.refresh_token = Some(RefreshToken::from(t));
            }
            "id_token" => {
                let jwt = string(value, "id_token")?;
                let (header, payload) = claims::decode_parts(&jwt).map_err(ProtocolErrorKind::IdToken)?;
                r.id_token = Some(IdToken::from(jwt));
                r.id_token_header = Some(header);
                r.id_token_payload = Some(payload);
            }
            "scope" => r.scope = Some(string(value, "scope")?),
            "code" => r.code = Some(OtherSecret::from(string(value, "code")?)),
            "state" => r.state = Some(string(value, "state")?),
            "step_up_token" => r.step_up_token = Some(OtherSecret::from(string(value, "step_up_token")?)),
            "amr" => {
                r.amr = Some(
                    json::as_str_or_str_list(value)
                        .ok_or(invalid("amr", "expected a string or an array of strings"))?,
                )
            }
            "provider_name" => r.provider_name = Some(string(value, "provider_name")?),
            "provider_access_token" => {
                r.provider_access_token = Some(OtherSecret::from(string(value, "provider_access_token")?))
            }
            other if OUTPUT_NAMES.contains(&other) => {}
            _ => {
                json::check_value(value).map_err(object_error_kind)?;
                r.extra.push((name.clone().into_owned(), json::Raw::new(value)));
            }
        }
    }
    r.access_token =
        AccessToken::from(access_token.ok_or(ProtocolErrorKind::MissingField { field: "access_token" })?);
    let token_type = token_type.ok_or(ProtocolErrorKind::MissingField { field: "token_type" })?;
    r.token_type = if token_type.eq_ignore_ascii_case("bearer") { "Bearer".to_owned() } else { token_type };
    Ok(r)
}

/// `expires_in`: a JSON integer or a string of ASCII digits, `0..=u64::MAX`.
fn expires_in(value: &RawValue) -> Option<u64> {
    let digits = match json::as_str(value) {
        Some(s) => s,
        None => std::borrow::Cow::Borrowed(value.get()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn oauth_error(status: StatusCode, headers: &HeaderMap, code: String, members: &[Member<'_>]) -> OAuthError {
    let text = |name: &str| -> Option<String> {
        members.iter().find(|(k, _)| k == name).and_then(|(_, v)| json::as_str(v)).map(|s| s.into_owned())
    };
    let details = members
        .iter()
        .find(|(k, _)| k == "error_details")
        .and_then(|(_, v)| serde_json::from_str::<Vec<Box<RawValue>>>(v.get()).ok())
        .map(|items| {
            items
                .iter()
                .filter_map(|item| json::parse_object(item.get().as_bytes()).ok())
                .map(|m| {
                    let field = |n: &str| {
                        m.iter()
                            .find(|(k, _)| k == n)
                            .and_then(|(_, v)| json::as_str(v))
                            .map(|s| s.into_owned())
                    };
                    ErrorDetail { field: field("field"), message: field("message"), code: field("code") }
                })
                .collect()
        })
        .unwrap_or_default();
    OAuthError {
        status,
        code,
        description: text("error_description"),
        uri: text("error_uri"),
        www_authenticate: header_text(headers, WWW_AUTHENTICATE, 512),
        retry_after: header_text(headers, RETRY_AFTER, 64),
        user_msg: text("error_user_msg"),
        message_key: text("error_message_key"),
        details,
        error_id: text("error_id"),
    }
}

fn header_text(headers: &HeaderMap, name: http::header::HeaderName, max: usize) -> Option<String> {
    headers.get(name).map(|v| sanitize(&String::from_utf8_lossy(v.as_bytes()), max))
}

/// The first bytes of a body that is not JSON, for the error: bounded, control characters
/// replaced, token-like runs masked; `None` for an empty body.
fn excerpt(body: &[u8]) -> Option<String> {
    const MAX: usize = 80;
    if body.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let head = &body[..body.len().min(MAX * 4)];
    Some(sanitize(String::from_utf8_lossy(head).trim(), MAX))
}
