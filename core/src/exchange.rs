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
#[cfg(feature = "verify")]
use crate::{
    alg::Algorithm,
    error::IdTokenErrorKind,
    error::SignatureError,
    verify::{KeySetCache, Verdict, at_hash_matches},
};

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

/// What [`check_id_token_signature`] found.
#[cfg(feature = "verify")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureCheck {
    /// The ID token's signature (and `at_hash`, when it has one) verified, with this
    /// algorithm.
    Verified(Algorithm),
    /// The response has no ID token: nothing to verify.
    NoIdToken,
    /// The cache lacks the key (or holds a key set too old): fetch the key set
    /// ([`KeySetCache::build_request`], [`KeySetCache::handle_key_set_response`]), then check
    /// again with `may_fetch` `false`. Never the answer when `may_fetch` is `false`.
    FetchKeys,
}

/// Verifies the signature of the ID token of `result` with the keys `keys` holds, or with
/// `client`'s secret for HS256/384/512 (OIDC Core §10.1), at `now` (the cache's age and
/// cool-down count from it); then its `at_hash`, when it has one, against the access token
/// of the same response (OIDC Core §3.1.3.8, §3.3.2.11). The claims are not validated here:
/// that is [`validate_auth_result`]'s job.
///
/// `may_fetch` is `false` once the key set was fetched for this response: a key still
/// missing is then a refusal, so that one token never causes two fetches.
///
/// # Errors
///
/// [`IdTokenErrorKind::Signature`] when the signature is refused (with
/// [`SignatureError::UnknownKid`] for a key still missing
/// after a fetch),
/// [`IdTokenErrorKind::AtHashMismatch`] when `at_hash` does not match.
#[cfg(feature = "verify")]
pub fn check_id_token_signature(
    result: &AuthResult,
    keys: &KeySetCache,
    client: &ClientConfig,
    now: UnixTime,
    may_fetch: bool,
) -> Result<SignatureCheck, IdTokenErrorKind> {
    let (Some(jwt), Some(claims)) = (result.id_token(), result.id_token_payload()) else {
        return Ok(SignatureCheck::NoIdToken);
    };
    let alg = match keys.verify(now, jwt.expose_secret(), client.auth().secret()) {
        Verdict::Verified(alg) => alg,
        Verdict::FetchKeys if may_fetch => return Ok(SignatureCheck::FetchKeys),
        Verdict::FetchKeys => return Err(IdTokenErrorKind::Signature(SignatureError::UnknownKid)),
        Verdict::Refused(e) => return Err(IdTokenErrorKind::Signature(e)),
    };
    match claims.at_hash() {
        Some(at_hash) if !at_hash_matches(alg, result.access_token().expose_secret(), at_hash) => {
            Err(IdTokenErrorKind::AtHashMismatch)
        }
        _ => Ok(SignatureCheck::Verified(alg)),
    }
}
