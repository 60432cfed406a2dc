//! Parsing the token endpoint's answer (RFC 6749 §5.1, §5.2; R10–R19 in docs/rules.md) into
//! [`AuthResult`] (or, for a caller that keeps the body, [`AuthResultRef`]) or a typed
//! [`Error`].
//!
//! One pass of the strict scanner (`json.rs`) finds the members as places in the body; the
//! rules below type them in the order the contract gives. A success then owns *one* copy of
//! the body (zeroed when the result goes; each token is copied out of it when first asked
//! for) and, with an ID token, one buffer of decoded claims: two allocations, not one per
//! field.

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, Response, StatusCode};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::claims::{self, IdTokenPayload};
use crate::error::{Error, ErrorDetail, OAuthError, ProtocolError, ProtocolErrorKind};
use crate::json::{self, InlineVec, Kind, Member, ObjectError, OptSpan, Span, Text};
use crate::jwt::JwtHeader;
use crate::redact::sanitize;
use crate::secret::{AccessToken, IdToken, OtherSecret, RefreshToken, SecretBuf, SecretRef, wipe};
use crate::syntax;
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

json::known_names! {
    /// The members of a token response the parser knows, as the scanner classifies them.
    enum Field;
    /// Member names to [`Field`] ids: the known members, then every output name that is not
    /// a wire name (an unknown member so named would collide in the output).
    static MEMBER_NAMES: NameTable<64> = (0x35bf_992d_c9e9_c617, outputs: OUTPUT_NAMES) {
        AccessToken = "access_token",
        TokenType = "token_type",
        ExpiresIn = "expires_in",
        RefreshToken = "refresh_token",
        IdToken = "id_token",
        Scope = "scope",
        Code = "code",
        State = "state",
        StepUpToken = "step_up_token",
        Amr = "amr",
        ProviderName = "provider_name",
        ProviderAccessToken = "provider_access_token",
        Error = "error",
    }
}

/// The id of a member name (see [`MEMBER_NAMES`]).
#[inline(always)]
fn member_id(key: json::NameKey, name: &[u8]) -> u8 {
    MEMBER_NAMES.get(key, name)
}

/// The members of a body, each classified by the scanner as it finds it.
#[derive(Default)]
struct BodyMembers(json::Members<8>);

impl json::MemberSink for BodyMembers {
    const CLASSIFIES: bool = true;

    #[inline(always)]
    fn name_id(key: json::NameKey, name: &[u8]) -> u8 {
        member_id(key, name)
    }

    #[inline(always)]
    fn member(&mut self, _: &mut json::Doc<'_>, m: Member) {
        self.0.push(m);
    }

    fn reset(&mut self) {
        self.0.clear();
    }
}

/// `token_type`: any case of `bearer` as `Bearer`, any other type as given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum TokenType {
    #[default]
    Bearer,
    Given(Span),
}

/// Every member of a success, as places in the response's text (see [`Text`]).
#[derive(Clone, Debug, Default)]
struct Fields {
    access_token: Span,
    token_type: TokenType,
    expires_in: Option<u64>,
    refresh_token: OptSpan,
    id_token: OptSpan,
    scope: OptSpan,
    code: OptSpan,
    state: OptSpan,
    step_up_token: OptSpan,
    /// The raw value: a string or an array of strings.
    amr: OptSpan,
    provider_name: OptSpan,
    provider_access_token: OptSpan,
    /// Name and raw value of every unknown member, in order.
    extra: InlineVec<(Span, Span), 2>,
}

/// A successful token response, shaped like the ReachFive SDK's `AuthResult`.
///
/// Serialises to the SDK's JSON (camelCase, absent fields omitted, `Bearer` normalised,
/// unknown members under their wire names). `Debug` redacts every token and shows only the
/// names of unknown members.
///
/// It owns one copy of the response body, zeroed when the result is dropped. Each token is
/// copied out of it the first time it is asked for (and zeroed in turn when the result
/// goes); a token cloned out of it, or taken with
/// [`into_refresh_token`](Self::into_refresh_token), owns its own copy.
pub struct AuthResult {
    buf: SecretBuf,
    body_len: usize,
    fields: Fields,
    /// The tokens, copied out of `buf` the first time they are asked for: a parse allocates
    /// nothing per token, and a result read only in part (or only serialised) copies none.
    tokens: Tokens,
    id_token_header: Option<JwtHeader>,
    id_token_payload: Option<IdTokenPayload>,
    amr: OnceLock<Vec<String>>,
}

impl AuthResult {
    /// A result owning `buf` (the body, then the side text).
    fn from_parts(
        buf: SecretBuf,
        body_len: usize,
        fields: Fields,
        id_token_header: Option<JwtHeader>,
        id_token_payload: Option<IdTokenPayload>,
    ) -> Self {
        Self {
            tokens: Tokens::default(),
            buf,
            body_len,
            fields,
            id_token_header,
            id_token_payload,
            amr: OnceLock::new(),
        }
    }

    fn text(&self) -> Text<'_> {
        Text::joined(self.buf.as_str(), self.body_len)
    }

    /// An optional token, copied out of the body on first use.
    fn token<'r, T: From<&'r str>>(&'r self, cell: &'r OnceLock<Option<T>>, span: OptSpan) -> Option<&'r T> {
        cell.get_or_init(|| span.get().map(|s| T::from(self.text().get(s)))).as_ref()
    }

    fn shape(&self) -> Shape<'_> {
        Shape::new(&self.fields, self.text(), self.id_token_payload.as_ref(), &self.amr)
    }

    /// `access_token`: always present in a success.
    #[must_use]
    pub fn access_token(&self) -> &AccessToken {
        self.tokens.access_token.get_or_init(|| AccessToken::from(self.text().get(self.fields.access_token)))
    }
    /// `token_type`: `Bearer` for any case of `bearer`, any other type as given (`DPoP`).
    #[must_use]
    pub fn token_type(&self) -> &str {
        token_type(&self.fields, self.text())
    }
    /// `expires_in` in seconds; `None` means *unknown*, never *eternal*
    /// (R15 expires-in-absent-means-unknown).
    #[must_use]
    pub fn expires_in(&self) -> Option<u64> {
        self.fields.expires_in
    }
    /// When the access token expires, counted from when the request was *sent* so that
    /// the lifetime is never overstated (R22 expiry-from-send-time); `None` when `expires_in` is absent.
    #[must_use]
    pub fn expires_at(&self, sent_at: UnixTime) -> Option<UnixTime> {
        self.fields.expires_in.map(|s| sent_at + Duration::from_secs(s))
    }
    /// `refresh_token`: when present, it replaces the one that was sent, which is now spent
    /// (R16 absent-refresh-token-keeps-previous). Absent: keep using the previous one.
    #[must_use]
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.token(&self.tokens.refresh_token, self.fields.refresh_token)
    }
    /// Takes the refresh token out of the result, consuming it. The token owns its copy;
    /// the rest of the response is zeroed as the result goes.
    #[must_use]
    pub fn into_refresh_token(self) -> Option<RefreshToken> {
        self.fields.refresh_token.get().map(|s| RefreshToken::new(self.text().get(s)))
    }
    /// `id_token`, in compact form.
    #[must_use]
    pub fn id_token(&self) -> Option<&IdToken> {
        self.token(&self.tokens.id_token, self.fields.id_token)
    }
    /// The decoded JOSE header of the ID token (not serialised).
    #[must_use]
    pub fn id_token_header(&self) -> Option<&JwtHeader> {
        self.id_token_header.as_ref()
    }
    /// The decoded, **unverified** claims of the ID token; see
    /// [`validate_id_token`](crate::validate_id_token) for the checks.
    #[must_use]
    pub fn id_token_payload(&self) -> Option<&IdTokenPayload> {
        self.id_token_payload.as_ref()
    }
    /// `scope` as granted. Absent means the requested (or previous) scope (R17 absent-scope-keeps-requested).
    #[must_use]
    pub fn scope(&self) -> Option<&str> {
        self.fields.scope.get().map(|s| self.text().get(s))
    }
    /// `code`.
    #[must_use]
    pub fn code(&self) -> Option<&OtherSecret> {
        self.token(&self.tokens.code, self.fields.code)
    }
    /// `state`.
    #[must_use]
    pub fn state(&self) -> Option<&str> {
        self.fields.state.get().map(|s| self.text().get(s))
    }
    /// ReachFive's `step_up_token`.
    #[must_use]
    pub fn step_up_token(&self) -> Option<&OtherSecret> {
        self.token(&self.tokens.step_up_token, self.fields.step_up_token)
    }
    /// `amr`, always a list.
    #[must_use]
    pub fn amr(&self) -> Option<&[String]> {
        amr(&self.fields, self.text(), &self.amr)
    }
    /// ReachFive's `provider_name`.
    #[must_use]
    pub fn provider_name(&self) -> Option<&str> {
        self.fields.provider_name.get().map(|s| self.text().get(s))
    }
    /// ReachFive's `provider_access_token`.
    #[must_use]
    pub fn provider_access_token(&self) -> Option<&OtherSecret> {
        self.token(&self.tokens.provider_access_token, self.fields.provider_access_token)
    }
    /// Every member the SDK does not know, under its wire name, with its JSON value.
    pub fn extra(&self) -> impl ExactSizeIterator<Item = (&str, &RawValue)> {
        extra(&self.fields, self.text())
    }
}

/// The tokens of an [`AuthResult`], each copied out of its body on first use.
#[derive(Default)]
struct Tokens {
    access_token: OnceLock<AccessToken>,
    refresh_token: OnceLock<Option<RefreshToken>>,
    id_token: OnceLock<Option<IdToken>>,
    code: OnceLock<Option<OtherSecret>>,
    step_up_token: OnceLock<Option<OtherSecret>>,
    provider_access_token: OnceLock<Option<OtherSecret>>,
}

/// A clone has its own copy of the body.
impl Clone for AuthResult {
    fn clone(&self) -> Self {
        Self::from_parts(
            SecretBuf::new(self.buf.as_str().to_owned()),
            self.body_len,
            self.fields.clone(),
            self.id_token_header.clone(),
            self.id_token_payload.clone(),
        )
    }
}

impl PartialEq for AuthResult {
    fn eq(&self, other: &Self) -> bool {
        self.shape() == other.shape() && self.id_token_header == other.id_token_header
    }
}

impl fmt::Debug for AuthResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shape().debug("AuthResult", f)
    }
}

impl Serialize for AuthResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.shape().serialize(s)
    }
}

/// Deserialises from the wire form of a token response (snake_case members), with exactly
/// the checks of [`parse_refresh_response`] for a 200 response. Needs `serde_json`.
impl<'de> Deserialize<'de> for AuthResult {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        let mut out = AuthResultRef::empty();
        let mut members = BodyMembers::default();
        let body = json::read_object(raw.get().as_bytes(), &mut out.side, &mut members)
            .map_err(|e| serde::de::Error::custom(object_error_kind(e)))?;
        let members = &members.0;
        out.body = body;
        let AuthResultRef { side, fields, id_token_header, id_token_payload, .. } = &mut out;
        if let Some(name) = json::repeated(members.as_slice(), Text::new(body, side)) {
            let kind = ProtocolErrorKind::DuplicateMember { name: sanitize(name, 64) };
            return Err(serde::de::Error::custom(kind));
        }
        parse_success(
            &mut json::Doc::new(body, side),
            members.as_slice(),
            None,
            fields,
            id_token_header,
            id_token_payload,
        )
        .map_err(serde::de::Error::custom)?;
        Ok(out.into_owned())
    }
}

/// A successful token response that borrows the response body: [`AuthResult`] without the
/// copy, for a caller that keeps the body alive.
///
/// Returned by [`parse_refresh_response_borrowed`]. The accessors are those of
/// [`AuthResult`], with the tokens as [`SecretRef`]s; it serialises to the same JSON.
/// The only allocations are the decoded ID-token claims and, for a string holding an escape,
/// its unescaped copy (zeroed on drop); the body is the caller's to zero.
pub struct AuthResultRef<'a> {
    body: &'a str,
    /// Strings unescaped out of the body (tokens among them): zeroed on drop.
    side: String,
    fields: Fields,
    id_token_header: Option<JwtHeader>,
    id_token_payload: Option<IdTokenPayload>,
    amr: OnceLock<Vec<String>>,
}

impl<'a> AuthResultRef<'a> {
    fn text(&self) -> Text<'_> {
        Text::new(self.body, &self.side)
    }

    fn shape(&self) -> Shape<'_> {
        Shape::new(&self.fields, self.text(), self.id_token_payload.as_ref(), &self.amr)
    }

    fn secret(&self, span: Span, kind: &'static str) -> SecretRef<'_> {
        SecretRef::new(self.text().get(span), kind)
    }

    /// A result with nothing in it yet, for the parser to fill in place.
    fn empty() -> Self {
        Self {
            body: "",
            side: String::new(),
            fields: Fields::default(),
            id_token_header: None,
            id_token_payload: None,
            amr: OnceLock::new(),
        }
    }

    /// Copies the body into an owned [`AuthResult`] (one allocation; the decoded ID token
    /// moves over).
    #[must_use]
    pub fn into_owned(mut self) -> AuthResult {
        AuthResult::from_parts(
            SecretBuf::joined(self.body, &self.side),
            self.body.len(),
            std::mem::take(&mut self.fields),
            self.id_token_header.take(),
            self.id_token_payload.take(),
        )
    }

    /// `access_token`: always present in a success.
    #[must_use]
    pub fn access_token(&self) -> SecretRef<'_> {
        self.secret(self.fields.access_token, "AccessToken")
    }
    /// `token_type`: `Bearer` for any case of `bearer`, any other type as given (`DPoP`).
    #[must_use]
    pub fn token_type(&self) -> &str {
        token_type(&self.fields, self.text())
    }
    /// `expires_in` in seconds; `None` means *unknown*, never *eternal*
    /// (R15 expires-in-absent-means-unknown).
    #[must_use]
    pub fn expires_in(&self) -> Option<u64> {
        self.fields.expires_in
    }
    /// When the access token expires, counted from when the request was *sent* (R22 expiry-from-send-time).
    #[must_use]
    pub fn expires_at(&self, sent_at: UnixTime) -> Option<UnixTime> {
        self.fields.expires_in.map(|s| sent_at + Duration::from_secs(s))
    }
    /// `refresh_token`: when present, it replaces the one that was sent
    /// (R16 absent-refresh-token-keeps-previous).
    #[must_use]
    pub fn refresh_token(&self) -> Option<SecretRef<'_>> {
        self.fields.refresh_token.get().map(|s| self.secret(s, "RefreshToken"))
    }
    /// `id_token`, in compact form.
    #[must_use]
    pub fn id_token(&self) -> Option<SecretRef<'_>> {
        self.fields.id_token.get().map(|s| self.secret(s, "IdToken"))
    }
    /// The decoded JOSE header of the ID token (not serialised).
    #[must_use]
    pub fn id_token_header(&self) -> Option<&JwtHeader> {
        self.id_token_header.as_ref()
    }
    /// The decoded, **unverified** claims of the ID token.
    #[must_use]
    pub fn id_token_payload(&self) -> Option<&IdTokenPayload> {
        self.id_token_payload.as_ref()
    }
    /// `scope` as granted (R17 absent-scope-keeps-requested).
    #[must_use]
    pub fn scope(&self) -> Option<&str> {
        self.fields.scope.get().map(|s| self.text().get(s))
    }
    /// `code`.
    #[must_use]
    pub fn code(&self) -> Option<SecretRef<'_>> {
        self.fields.code.get().map(|s| self.secret(s, "OtherSecret"))
    }
    /// `state`.
    #[must_use]
    pub fn state(&self) -> Option<&str> {
        self.fields.state.get().map(|s| self.text().get(s))
    }
    /// ReachFive's `step_up_token`.
    #[must_use]
    pub fn step_up_token(&self) -> Option<SecretRef<'_>> {
        self.fields.step_up_token.get().map(|s| self.secret(s, "OtherSecret"))
    }
    /// `amr`, always a list.
    #[must_use]
    pub fn amr(&self) -> Option<&[String]> {
        amr(&self.fields, self.text(), &self.amr)
    }
    /// ReachFive's `provider_name`.
    #[must_use]
    pub fn provider_name(&self) -> Option<&str> {
        self.fields.provider_name.get().map(|s| self.text().get(s))
    }
    /// ReachFive's `provider_access_token`.
    #[must_use]
    pub fn provider_access_token(&self) -> Option<SecretRef<'_>> {
        self.fields.provider_access_token.get().map(|s| self.secret(s, "OtherSecret"))
    }
    /// Every member the SDK does not know, under its wire name, with its JSON value.
    pub fn extra(&self) -> impl ExactSizeIterator<Item = (&str, &RawValue)> {
        extra(&self.fields, self.text())
    }
}

impl Drop for AuthResultRef<'_> {
    fn drop(&mut self) {
        wipe(&mut self.side);
    }
}

impl fmt::Debug for AuthResultRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shape().debug("AuthResultRef", f)
    }
}

impl Serialize for AuthResultRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.shape().serialize(s)
    }
}

impl PartialEq for AuthResultRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.shape() == other.shape() && self.id_token_header == other.id_token_header
    }
}

fn token_type<'t>(fields: &Fields, text: Text<'t>) -> &'t str {
    match fields.token_type {
        TokenType::Bearer => "Bearer",
        TokenType::Given(s) => text.get(s),
    }
}

fn amr<'r>(fields: &Fields, text: Text<'r>, cell: &'r OnceLock<Vec<String>>) -> Option<&'r [String]> {
    fields.amr.get().map(|s| cell.get_or_init(|| json::str_list(text.get(s))).as_slice())
}

fn extra<'r>(fields: &'r Fields, text: Text<'r>) -> impl ExactSizeIterator<Item = (&'r str, &'r RawValue)> {
    fields.extra.as_slice().iter().map(move |(k, v)| (text.get(*k), json::raw_value(text.get(*v))))
}

/// What [`AuthResult`] and [`AuthResultRef`] show, serialise and compare.
struct Shape<'r> {
    fields: &'r Fields,
    text: Text<'r>,
    payload: Option<&'r IdTokenPayload>,
    amr: &'r OnceLock<Vec<String>>,
}

impl<'r> Shape<'r> {
    fn new(
        fields: &'r Fields,
        text: Text<'r>,
        payload: Option<&'r IdTokenPayload>,
        amr: &'r OnceLock<Vec<String>>,
    ) -> Self {
        Self { fields, text, payload, amr }
    }

    fn get(&self, span: Option<Span>) -> Option<&'r str> {
        let text = self.text;
        span.map(|s| text.get(s))
    }

    fn amr(&self) -> Option<&'r [String]> {
        amr(self.fields, self.text, self.amr)
    }

    fn secret(&self, span: Option<Span>, kind: &'static str) -> Option<SecretRef<'r>> {
        self.get(span).map(|v| SecretRef::new(v, kind))
    }

    fn debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let f_ = self.fields;
        let extra: Vec<&str> = f_.extra.as_slice().iter().map(|(k, _)| self.text.get(*k)).collect();
        f.debug_struct(name)
            .field("access_token", &SecretRef::new(self.text.get(f_.access_token), "AccessToken"))
            .field("token_type", &token_type(f_, self.text))
            .field("expires_in", &f_.expires_in)
            .field("refresh_token", &self.secret(f_.refresh_token.get(), "RefreshToken"))
            .field("id_token", &self.secret(f_.id_token.get(), "IdToken"))
            .field("id_token_payload", &self.payload)
            .field("scope", &self.get(f_.scope.get()))
            .field("code", &self.secret(f_.code.get(), "OtherSecret"))
            .field("state", &f_.state.get().map(|_| "<present>"))
            .field("step_up_token", &self.secret(f_.step_up_token.get(), "OtherSecret"))
            .field("amr", &self.amr())
            .field("provider_name", &self.get(f_.provider_name.get()))
            .field("provider_access_token", &self.secret(f_.provider_access_token.get(), "OtherSecret"))
            .field("extra", &extra)
            .finish()
    }
}

impl PartialEq for Shape<'_> {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.fields, other.fields);
        self.text.get(a.access_token) == other.text.get(b.access_token)
            && token_type(a, self.text) == token_type(b, other.text)
            && a.expires_in == b.expires_in
            && self.get(a.refresh_token.get()) == other.get(b.refresh_token.get())
            && self.get(a.id_token.get()) == other.get(b.id_token.get())
            && self.payload == other.payload
            && self.get(a.scope.get()) == other.get(b.scope.get())
            && self.get(a.code.get()) == other.get(b.code.get())
            && self.get(a.state.get()) == other.get(b.state.get())
            && self.get(a.step_up_token.get()) == other.get(b.step_up_token.get())
            && self.amr() == other.amr()
            && self.get(a.provider_name.get()) == other.get(b.provider_name.get())
            && self.get(a.provider_access_token.get()) == other.get(b.provider_access_token.get())
            && extra(a, self.text)
                .map(|(k, v)| (k, v.get()))
                .eq(extra(b, other.text).map(|(k, v)| (k, v.get())))
    }
}

impl Serialize for Shape<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.fields;
        let mut m = s.serialize_map(None)?;
        macro_rules! opt {
            ($key:literal, $value:expr) => {
                if let Some(v) = $value {
                    m.serialize_entry($key, v)?;
                }
            };
        }
        m.serialize_entry("accessToken", self.text.get(f.access_token))?;
        m.serialize_entry("tokenType", token_type(f, self.text))?;
        opt!("expiresIn", &f.expires_in);
        opt!("refreshToken", self.get(f.refresh_token.get()));
        opt!("idToken", self.get(f.id_token.get()));
        opt!("idTokenPayload", self.payload);
        opt!("scope", self.get(f.scope.get()));
        opt!("code", self.get(f.code.get()));
        opt!("state", self.get(f.state.get()));
        opt!("stepUpToken", self.get(f.step_up_token.get()));
        opt!("amr", self.amr());
        opt!("providerName", self.get(f.provider_name.get()));
        opt!("providerAccessToken", self.get(f.provider_access_token.get()));
        for (k, v) in extra(f, self.text) {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
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
///   protocol error *holding that refresh token* (R18 rotated-token-survives-broken-response).
///
/// The content type is not checked: the body decides. The result owns one copy of the body
/// (see [`AuthResult`]); [`parse_refresh_response_borrowed`] makes none.
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
    // Typed straight into the result's slots (a result is large: moving one costs more than
    // filling it where it stays); the body and the side text are copied in at the end.
    let mut out = AuthResult::from_parts(SecretBuf::new(String::new()), 0, Fields::default(), None, None);
    let mut side = String::new();
    let parsed =
        parse_into(response, &mut side, &mut out.fields, &mut out.id_token_header, &mut out.id_token_payload);
    let body = match parsed {
        Ok(body) => body,
        Err(e) => {
            wipe(&mut side);
            return Err(e);
        }
    };
    out.buf = SecretBuf::joined(body, &side);
    wipe(&mut side);
    out.body_len = body.len();
    Ok(out)
}

/// [`parse_refresh_response`] without copying the body: the result borrows it.
///
/// Same rules, same errors, same JSON; for a caller that keeps the response (and so the
/// body) alive while it reads the result. [`AuthResultRef::into_owned`] turns it into an
/// [`AuthResult`] later.
///
/// ```
/// use oidc_refresh_core::{http, parse_refresh_response_borrowed};
///
/// let response = http::Response::new(br#"{"access_token":"at","token_type":"bearer"}"#.to_vec());
/// let result = parse_refresh_response_borrowed(&response)?;
/// assert_eq!(result.access_token().expose_secret(), "at");
/// assert_eq!(result.token_type(), "Bearer");
/// assert_eq!(format!("{:?}", result.access_token()), "AccessToken(<redacted>)");
/// # Ok::<(), oidc_refresh_core::Error>(())
/// ```
///
/// # Errors
///
/// As [`parse_refresh_response`].
pub fn parse_refresh_response_borrowed<B: AsRef<[u8]>>(
    response: &Response<B>,
) -> Result<AuthResultRef<'_>, Error> {
    // The result is built in place; until it is returned, its side buffer is the parse's
    // (dropping it on an error wipes the unescaped strings).
    let mut out = AuthResultRef::empty();
    let AuthResultRef { side, fields, id_token_header, id_token_payload, .. } = &mut out;
    out.body = parse_into(response, side, fields, id_token_header, id_token_payload)?;
    Ok(out)
}

/// The parse itself, into the slots of a result (owned or borrowed): returns the body's text,
/// which the spans in `fields` point into (past its end, into `side`).
fn parse_into<'b, B: AsRef<[u8]>>(
    response: &'b Response<B>,
    side: &mut String,
    fields: &mut Fields,
    id_token_header: &mut Option<JwtHeader>,
    id_token_payload: &mut Option<IdTokenPayload>,
) -> Result<&'b str, Error> {
    let status = response.status();
    let headers = response.headers();
    let bytes = response.body().as_ref();
    let fail = |kind: ProtocolErrorKind| protocol_error(kind, status, headers, None);

    let mut members = BodyMembers::default();
    let body = match json::read_object(bytes, side, &mut members) {
        Ok(body) => body,
        Err(ObjectError::NotJson(detail)) => {
            let mut e = ProtocolError::new(ProtocolErrorKind::NotJson { detail });
            e.status = Some(status);
            e.content_type = header_text(headers, CONTENT_TYPE, 64);
            e.retry_after = header_text(headers, RETRY_AFTER, 64);
            e.excerpt = excerpt(bytes);
            return Err(e.into());
        }
        Err(other) => return Err(fail(object_error_kind(other))),
    };
    let mut doc = json::Doc::new(body, side);
    // The first repeated name, reported in its turn (after `error` and the status).
    let duplicate = json::repeated(members.0.as_slice(), doc.text().into()).map(str::to_owned);
    let members = members.0.as_slice();

    // R10, R11: a non-empty string `error` makes it an OAuth error, whatever the status.
    if let Some(m) = members.iter().find(|m| Field::from_id(m.id) == Field::Error)
        && m.kind != Kind::Null
    {
        let code = doc.string(m).map(|s| doc.get(s).to_owned());
        return match code {
            Some(code) if !code.is_empty() => {
                if let Some(name) = &duplicate {
                    return Err(fail(ProtocolErrorKind::DuplicateMember { name: sanitize(name, 64) }));
                }
                // Repeated names nested anywhere in an error body are refused too.
                for m in members.iter().filter(|m| m.needs_check()) {
                    json::check_text(doc.get(m.value)).map_err(|e| fail(object_error_kind(e)))?;
                }
                Err(oauth_error(status, headers, code, members, &mut doc).into())
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

    // R18 rotated-token-survives-broken-response: find a well-formed rotated refresh token
    // first, so that any later failure still hands it over. A repeated `refresh_token` is
    // ambiguous and is not used.
    let mut rt = members.iter().filter(|m| Field::from_id(m.id) == Field::RefreshToken);
    let rotated = match (rt.next(), rt.next()) {
        (Some(m), None) => doc.string(m).filter(|s| syntax::printable_ascii(doc.get(*s))),
        _ => None,
    };
    let with_rotated = |kind: ProtocolErrorKind, doc: &json::Doc<'_>| {
        protocol_error(kind, status, headers, rotated.map(|s| doc.get(s)))
    };

    if let Some(name) = &duplicate {
        let kind = ProtocolErrorKind::DuplicateMember { name: sanitize(name, 64) };
        return Err(with_rotated(kind, &doc));
    }
    match parse_success(&mut doc, members, rotated, fields, id_token_header, id_token_payload) {
        Ok(()) => Ok(body),
        Err(kind) => Err(with_rotated(kind, &doc)),
    }
}

/// A protocol error about this response, holding the rotated refresh token if given.
fn protocol_error(
    kind: ProtocolErrorKind,
    status: StatusCode,
    headers: &HeaderMap,
    rotated: Option<&str>,
) -> Error {
    let mut e = ProtocolError::new(kind);
    e.status = Some(status);
    e.content_type = header_text(headers, CONTENT_TYPE, 64);
    e.retry_after = header_text(headers, RETRY_AFTER, 64);
    e.rotated_refresh_token = rotated.map(RefreshToken::from);
    e.into()
}

/// Types the members of a 2xx token response, in order. On failure, returns the error kind;
/// the caller attaches the status and the rotated refresh token. `rotated` is the place of
/// the refresh token when the caller already found it well-formed (and alone).
fn parse_success(
    doc: &mut json::Doc<'_>,
    members: &[Member],
    rotated: Option<Span>,
    f: &mut Fields,
    header: &mut Option<JwtHeader>,
    payload: &mut Option<IdTokenPayload>,
) -> Result<(), ProtocolErrorKind> {
    fn invalid(field: &'static str, reason: &'static str) -> ProtocolErrorKind {
        ProtocolErrorKind::InvalidField { field, reason }
    }
    fn string(doc: &mut json::Doc<'_>, m: &Member, field: &'static str) -> Result<Span, ProtocolErrorKind> {
        doc.string(m).ok_or_else(|| invalid(field, "expected a string"))
    }
    fn non_empty(
        doc: &mut json::Doc<'_>,
        m: &Member,
        field: &'static str,
    ) -> Result<Span, ProtocolErrorKind> {
        match doc.string(m) {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(invalid(field, "expected a non-empty string")),
        }
    }

    let mut access_token = None;
    let mut token_type = None;
    for m in members {
        let field = Field::from_id(m.id);
        if !matches!(field, Field::Unknown | Field::OutputCollision) && m.kind == Kind::Null {
            continue;
        }
        match field {
            Field::AccessToken => access_token = Some(non_empty(doc, m, "access_token")?),
            Field::TokenType => token_type = Some(non_empty(doc, m, "token_type")?),
            Field::ExpiresIn => {
                f.expires_in = Some(expires_in(doc, m).ok_or_else(|| {
                    invalid(
                        "expires_in",
                        "expected a non-negative integer (or a string of digits) that fits in 64 bits",
                    )
                })?);
            }
            Field::RefreshToken => {
                let t = match rotated {
                    // Already found well-formed (R18), and the only one.
                    Some(t) => t,
                    None => {
                        let t = non_empty(doc, m, "refresh_token")?;
                        if !syntax::printable_ascii(doc.get(t)) {
                            return Err(invalid(
                                "refresh_token",
                                "holds a character outside printable ASCII",
                            ));
                        }
                        t
                    }
                };
                f.refresh_token = OptSpan::some(t);
            }
            Field::IdToken => {
                let jwt = string(doc, m, "id_token")?;
                claims::decode_parts_into(doc.get(jwt), header, payload)
                    .map_err(ProtocolErrorKind::IdToken)?;
                f.id_token = OptSpan::some(jwt);
            }
            Field::Scope => f.scope = OptSpan::some(string(doc, m, "scope")?),
            Field::Code => f.code = OptSpan::some(string(doc, m, "code")?),
            Field::State => f.state = OptSpan::some(string(doc, m, "state")?),
            Field::StepUpToken => f.step_up_token = OptSpan::some(string(doc, m, "step_up_token")?),
            Field::Amr => {
                if !json::member_is_str_or_str_list(m, doc.get(m.value)) {
                    return Err(invalid("amr", "expected a string or an array of strings"));
                }
                f.amr = OptSpan::some(m.value);
            }
            Field::ProviderName => f.provider_name = OptSpan::some(string(doc, m, "provider_name")?),
            Field::ProviderAccessToken => {
                f.provider_access_token = OptSpan::some(string(doc, m, "provider_access_token")?);
            }
            Field::OutputCollision => {
                // Dropped from the output, but still held to the same strictness.
                if m.needs_check() {
                    json::check_text(doc.get(m.value)).map_err(object_error_kind)?;
                }
            }
            Field::Unknown | Field::Error => {
                // Unknown members, and a non-null `error` (only reachable by `Deserialize`).
                if m.needs_check() {
                    json::check_text(doc.get(m.value)).map_err(object_error_kind)?;
                }
                f.extra.push((m.name, m.value));
            }
        }
    }
    f.access_token = access_token.ok_or(ProtocolErrorKind::MissingField { field: "access_token" })?;
    let token_type = token_type.ok_or(ProtocolErrorKind::MissingField { field: "token_type" })?;
    f.token_type = if doc.get(token_type).eq_ignore_ascii_case("bearer") {
        TokenType::Bearer
    } else {
        TokenType::Given(token_type)
    };
    Ok(())
}

/// `expires_in`: a JSON integer or a string of ASCII digits, `0..=u64::MAX`.
fn expires_in(doc: &mut json::Doc<'_>, m: &Member) -> Option<u64> {
    let span = doc.string(m).unwrap_or(m.value);
    let digits = doc.get(span);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn oauth_error(
    status: StatusCode,
    headers: &HeaderMap,
    code: String,
    members: &[Member],
    doc: &mut json::Doc<'_>,
) -> OAuthError {
    let member = |name: &str, doc: &json::Doc<'_>| members.iter().find(|m| doc.get(m.name) == name).copied();
    let mut text = |name: &str| -> Option<String> {
        let m = member(name, doc)?;
        doc.string(&m).map(|s| doc.get(s).to_owned())
    };
    let description = text("error_description");
    let uri = text("error_uri");
    let user_msg = text("error_user_msg");
    let message_key = text("error_message_key");
    let error_id = text("error_id");
    let details = member("error_details", doc)
        .and_then(|m| serde_json::from_str::<Vec<Box<RawValue>>>(doc.get(m.value)).ok())
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
        description,
        uri,
        www_authenticate: header_text(headers, WWW_AUTHENTICATE, 512),
        retry_after: header_text(headers, RETRY_AFTER, 64),
        user_msg,
        message_key,
        details,
        error_id,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> (usize, u64, u64) {
        (name.len(), json::word(name.as_bytes(), 0), json::word(name.as_bytes(), 8))
    }

    #[test]
    fn every_output_name_is_known_or_dropped() {
        let id = |name: &str| Field::from_id(member_id(key(name), name.as_bytes()));
        for name in OUTPUT_NAMES {
            assert_ne!(id(name), Field::Unknown, "{name}");
        }
        for &(name, field) in Field::NAMES {
            assert_eq!(id(name), field, "{name}");
        }
        assert_eq!(id("access_token"), Field::AccessToken);
        assert_eq!(id("error"), Field::Error);
        assert_eq!(id("x"), Field::Unknown);
        assert_eq!(id("accessToken"), Field::OutputCollision);
        assert_eq!(id("access_tokens"), Field::Unknown);
    }
}
