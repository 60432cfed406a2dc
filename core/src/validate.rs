//! ID-token checks: OIDC Core §3.1.3.7 (rule 20) and continuity on refresh, §12.2 (rule 21).
//!
//! Signatures are not verified here: an ID token received straight from the token endpoint
//! over TLS may be trusted without one (§3.1.3.7 point 6), which is the only way this crate
//! receives them.

use std::fmt;
use std::time::Duration;

use http::Response;

use crate::claims::IdTokenPayload;
use crate::config::ClientConfig;
use crate::error::Error;
use crate::jwt::JwtHeader;
use crate::response::{AuthResult, parse_refresh_response};
use crate::secret::RefreshToken;
use crate::time::UnixTime;

/// What an ID token is checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectations {
    /// The client id, which `aud` must contain (and `azp` equal, with several audiences).
    pub client_id: String,
    /// The issuer `iss` must equal, when known (from `--issuer` or discovery).
    pub issuer: Option<String>,
    /// Tolerance for `exp` and `iat` against the caller's clock (default 60 s).
    pub leeway: Duration,
}

impl Expectations {
    /// Expectations for `client_id`, no issuer, the default 60 s leeway.
    #[must_use]
    pub fn new(client_id: impl Into<String>) -> Self {
        Self { client_id: client_id.into(), issuer: None, leeway: Duration::from_secs(60) }
    }

    /// Sets the expected issuer.
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the leeway.
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }
}

/// The outcome of the §12.2 continuity checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Continuity {
    /// Compared with the previous ID token: same issuer, subject, audiences, ...
    Checked,
    /// There was no previous ID token to compare with: *not checked*, which is not *passed*.
    NotChecked,
    /// The response carried no ID token (allowed on refresh, OIDC Core §12.2).
    NoIdToken,
}

/// Why an ID token failed validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenErrorKind {
    /// The header says `alg: none`: an unsigned token.
    #[error("the ID token is unsigned (alg \"none\")")]
    AlgNone,
    /// The header has `crit`, naming extensions this client does not understand.
    #[error("the ID token header has a `crit` member")]
    CritHeader,
    /// A claim §2 requires is missing.
    #[error("the ID token lacks the required claim `{0}`")]
    MissingClaim(&'static str),
    /// `iss` is not the expected issuer.
    #[error("the ID token's `iss` is not the expected issuer")]
    IssuerMismatch,
    /// `aud` does not contain the client id.
    #[error("the ID token's `aud` does not contain this client's id")]
    AudienceMismatch,
    /// Several audiences and `azp` is not the client id.
    #[error("the ID token has several audiences and its `azp` is not this client's id")]
    AzpMismatch,
    /// `exp` is in the past (beyond the leeway).
    #[error("the ID token has expired")]
    Expired,
    /// `iat` is in the future (beyond the leeway).
    #[error("the ID token was issued in the future")]
    IssuedInFuture,
    /// `iss` differs from the previous ID token's.
    #[error("the refreshed ID token names another issuer than the previous one")]
    IssuerChanged,
    /// `sub` differs from the previous ID token's.
    #[error("the refreshed ID token names another subject than the previous one")]
    SubjectChanged,
    /// `aud` is not the same set as the previous ID token's.
    #[error("the refreshed ID token names other audiences than the previous one")]
    AudienceChanged,
    /// `azp` differs from the previous ID token's.
    #[error("the refreshed ID token's `azp` differs from the previous one")]
    AzpChanged,
    /// `auth_time` differs from the previous ID token's.
    #[error("the refreshed ID token's `auth_time` differs from the previous one")]
    AuthTimeChanged,
    /// `iat` is earlier than the previous ID token's.
    #[error("the refreshed ID token was issued before the previous one")]
    IatEarlier,
    /// `nonce` is present and differs from the previous ID token's.
    #[error("the refreshed ID token's `nonce` differs from the previous one")]
    NonceChanged,
}

impl IdTokenErrorKind {
    /// `true` when the token names another issuer, subject or audience than expected or
    /// than before: then nothing from the response may be used, not even a rotated
    /// refresh token (rule 18).
    #[must_use]
    pub fn is_identity_mismatch(self) -> bool {
        matches!(
            self,
            Self::IssuerMismatch
                | Self::AudienceMismatch
                | Self::IssuerChanged
                | Self::SubjectChanged
                | Self::AudienceChanged
        )
    }
}

/// An ID token that failed validation, with the rotated refresh token of rule 18 when the
/// failure is not an identity mismatch.
pub struct IdTokenError {
    kind: IdTokenErrorKind,
    rotated_refresh_token: Option<RefreshToken>,
}

impl IdTokenError {
    /// What failed.
    #[must_use]
    pub fn kind(&self) -> IdTokenErrorKind {
        self.kind
    }
    /// The rotated refresh token, kept unless the failure is an identity mismatch.
    #[must_use]
    pub fn rotated_refresh_token(&self) -> Option<&RefreshToken> {
        self.rotated_refresh_token.as_ref()
    }
    pub(crate) fn take_rotated_refresh_token(&mut self) -> Option<RefreshToken> {
        self.rotated_refresh_token.take()
    }
}

impl From<IdTokenErrorKind> for IdTokenError {
    fn from(kind: IdTokenErrorKind) -> Self {
        Self { kind, rotated_refresh_token: None }
    }
}

impl fmt::Debug for IdTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenError")
            .field("kind", &self.kind)
            .field("rotated_refresh_token", &self.rotated_refresh_token)
            .finish()
    }
}

impl fmt::Display for IdTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ID token validation failed: {}", self.kind)?;
        if self.rotated_refresh_token.is_some() {
            f.write_str("; the response rotated the refresh token, which is kept")?;
        }
        Ok(())
    }
}

impl std::error::Error for IdTokenError {}

/// Checks an ID token's header and claims (rule 20) and, given the previous ID token's
/// claims, their continuity (rule 21).
///
/// ```
/// use oidc_refresh_core::{decode_id_token_with_header, validate::{validate_id_token, Continuity, Expectations}, UnixTime};
///
/// // {"alg":"RS256"} . {"iss":"https://id.example","sub":"u1","aud":"app","exp":2000,"iat":1000}
/// let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUiLCJzdWIiOiJ1MSIsImF1ZCI6ImFwcCIsImV4cCI6MjAwMCwiaWF0IjoxMDAwfQ.";
/// let (header, claims) = decode_id_token_with_header(jwt)?;
/// let expected = Expectations::new("app").with_issuer("https://id.example");
/// let now = UnixTime::from_secs(1500);
/// assert_eq!(validate_id_token(&header, &claims, &expected, None, now), Ok(Continuity::NotChecked));
/// assert_eq!(validate_id_token(&header, &claims, &expected, Some(&claims), now), Ok(Continuity::Checked));
/// assert!(validate_id_token(&header, &claims, &expected, None, UnixTime::from_secs(9999)).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// The first [`IdTokenErrorKind`] found. Identity comes first: an issuer or audience other
/// than expected, or (against the previous token) another issuer, subject or audiences, is
/// reported whatever else is wrong, since nothing from such a response may be used (rule
/// 18). The other checks follow in the order the rules list them.
pub fn validate_id_token(
    header: &JwtHeader,
    claims: &IdTokenPayload,
    expected: &Expectations,
    previous: Option<&IdTokenPayload>,
    now: UnixTime,
) -> Result<Continuity, IdTokenErrorKind> {
    use IdTokenErrorKind as K;
    // Identity first (rule 18): a token naming another issuer, subject or audience must be
    // reported as such, whatever else is wrong with it, so that nothing from its response
    // (the rotated refresh token above all) is used. Each check needs its claim; a missing
    // claim is reported after.
    let iss = claims.iss();
    let sub = claims.sub();
    let aud = claims.aud();
    if let (Some(want), Some(iss)) = (expected.issuer.as_deref(), iss)
        && want != iss
    {
        return Err(K::IssuerMismatch);
    }
    if aud.is_some_and(|aud| !aud.contains(&expected.client_id)) {
        return Err(K::AudienceMismatch);
    }
    if let Some(prev) = previous {
        if iss.is_some() && prev.iss() != iss {
            return Err(K::IssuerChanged);
        }
        if sub.is_some() && prev.sub() != sub {
            return Err(K::SubjectChanged);
        }
        if let Some(aud) = aud
            && !same_set(prev.aud().unwrap_or_default(), aud)
        {
            return Err(K::AudienceChanged);
        }
    }
    if header.alg().is_some_and(|a| a.eq_ignore_ascii_case("none")) {
        return Err(K::AlgNone);
    }
    if header.has_crit() {
        return Err(K::CritHeader);
    }
    iss.ok_or(K::MissingClaim("iss"))?;
    sub.ok_or(K::MissingClaim("sub"))?;
    let aud = aud.ok_or(K::MissingClaim("aud"))?;
    let exp = claims.exp().ok_or(K::MissingClaim("exp"))?;
    let iat = claims.iat().ok_or(K::MissingClaim("iat"))?;
    if aud.len() > 1 && claims.azp() != Some(expected.client_id.as_str()) {
        return Err(K::AzpMismatch);
    }
    let leeway = expected.leeway.as_secs_f64();
    let now = now.as_secs_f64();
    if exp.as_secs_f64() + leeway <= now {
        return Err(K::Expired);
    }
    if iat.as_secs_f64() > now + leeway {
        return Err(K::IssuedInFuture);
    }
    let Some(prev) = previous else {
        return Ok(Continuity::NotChecked);
    };
    if prev.azp() != claims.azp() {
        return Err(K::AzpChanged);
    }
    if let (Some(a), Some(b)) = (prev.auth_time(), claims.auth_time())
        && a.as_secs_f64() != b.as_secs_f64()
    {
        return Err(K::AuthTimeChanged);
    }
    if prev.iat().is_some_and(|p| iat.as_secs_f64() < p.as_secs_f64()) {
        return Err(K::IatEarlier);
    }
    if claims.nonce().is_some() && claims.nonce() != prev.nonce() {
        return Err(K::NonceChanged);
    }
    Ok(Continuity::Checked)
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
}

/// Validates the ID token of a parsed refresh response, if it has one, and hands the result
/// back; on failure the error keeps the rotated refresh token unless the failure is an
/// identity mismatch (rule 18).
///
/// # Errors
///
/// [`Error::IdToken`] when a check fails.
pub fn validate_auth_result(
    result: AuthResult,
    expected: &Expectations,
    previous: Option<&IdTokenPayload>,
    now: UnixTime,
) -> Result<(AuthResult, Continuity), Error> {
    let (Some(header), Some(claims)) = (result.id_token_header(), result.id_token_payload()) else {
        return Ok((result, Continuity::NoIdToken));
    };
    match validate_id_token(header, claims, expected, previous, now) {
        Ok(c) => Ok((result, c)),
        Err(kind) => {
            let rotated_refresh_token =
                if kind.is_identity_mismatch() { None } else { result.into_refresh_token() };
            Err(IdTokenError { kind, rotated_refresh_token }.into())
        }
    }
}

/// The whole receiving half of one refresh: [`parse_refresh_response`], then
/// [`validate_auth_result`] against `client` (its id, issuer and leeway) and the previous
/// ID token's claims, at `now`.
///
/// This is what the transports call; with your own HTTP stack, call it with the response
/// and the time you read when the response arrived.
///
/// ```
/// use oidc_refresh_core::{check_refresh_response, http, ClientConfig, Continuity, UnixTime};
///
/// let client = ClientConfig::new("https://id.example/token", "app")?;
/// let response = http::Response::new(r#"{"access_token":"at","token_type":"Bearer"}"#);
/// let (result, continuity) = check_refresh_response(&client, &response, None, UnixTime::from_secs(0))?;
/// assert_eq!(continuity, Continuity::NoIdToken);
/// assert_eq!(result.access_token().expose_secret(), "at");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// The errors of [`parse_refresh_response`] and [`validate_auth_result`].
pub fn check_refresh_response<B: AsRef<[u8]>>(
    client: &ClientConfig,
    response: &Response<B>,
    previous: Option<&IdTokenPayload>,
    now: UnixTime,
) -> Result<(AuthResult, Continuity), Error> {
    let result = parse_refresh_response(response)?;
    validate_auth_result(result, &client.expectations(), previous, now)
}
