//! The receiving half of one refresh, whole: the response parsed ([`parse_refresh_response`])
//! and its ID token validated against the client and the previous ID token
//! ([`validate_id_token`]), with the rotated refresh token kept where
//! R18 rotated-token-survives-broken-response says.

use http::Response;

use crate::claims::IdTokenPayload;
use crate::config::{ClientConfig, Expectations};
use crate::error::{Error, IdTokenError};
use crate::response::{AuthResult, parse_refresh_response};
use crate::time::UnixTime;
use crate::validate::{Continuity, validate_id_token};

/// Validates the ID token of a parsed refresh response, if it has one, and hands the result
/// back; on failure the error keeps the rotated refresh token unless the failure is an
/// identity mismatch (R18 rotated-token-survives-broken-response).
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
