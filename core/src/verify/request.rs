//! The key-set request (a `GET` of `jwks_uri`) and the reading of its response.

use http::header::ACCEPT;
use http::{HeaderValue, Method, Request, Response, Uri};

use super::jwk::JwkSet;
use crate::config::parse_endpoint;
use crate::error::{Error, KeySetError, ProtocolError, ProtocolErrorKind};

/// Checks a `jwks_uri` (from discovery or the caller) and parses it: `https`, or plain
/// `http` to a loopback host only, as for every endpoint
/// ([`parse_endpoint`](crate::parse_endpoint)).
///
/// ```
/// use oidc_refresh_core::check_jwks_uri;
///
/// assert!(check_jwks_uri("https://id.example/jwks").is_ok());
/// assert!(check_jwks_uri("http://127.0.0.1:8080/jwks").is_ok());
/// assert!(check_jwks_uri("http://id.example/jwks").is_err());
/// ```
///
/// # Errors
///
/// [`Error::Protocol`] with [`ProtocolErrorKind::Discovery`] for a URL that is not absolute,
/// carries credentials or a fragment, or is plain `http` to a host that is not loopback: the
/// key set would come unauthenticated.
pub fn check_jwks_uri(jwks_uri: &str) -> Result<Uri, Error> {
    parse_endpoint(jwks_uri).map_err(|e| {
        let reason = format!("its jwks_uri is unusable: {e}");
        ProtocolError::new(ProtocolErrorKind::Discovery { reason }).into()
    })
}

/// The `GET` request for the key set at `jwks_uri` (checked beforehand with
/// [`check_jwks_uri`]), accepting `application/jwk-set+json` and `application/json`.
#[must_use]
pub fn build_key_set_request(jwks_uri: &Uri) -> Request<Vec<u8>> {
    let mut request = Request::new(Vec::new());
    *request.method_mut() = Method::GET;
    *request.uri_mut() = jwks_uri.clone();
    request
        .headers_mut()
        .insert(ACCEPT, HeaderValue::from_static("application/jwk-set+json, application/json"));
    request
}

/// Reads the response to a key-set request: a 2xx whose body is a JWK Set (whatever its
/// `Content-Type`).
///
/// # Errors
///
/// [`Error::Protocol`] with [`ProtocolErrorKind::KeySet`], its status set, for a status
/// other than 2xx or a body that is not a JWK Set ([`JwkSet::parse`]).
pub fn parse_key_set_response<B: AsRef<[u8]>>(response: &Response<B>) -> Result<JwkSet, Error> {
    let status = response.status();
    let read = if status.is_success() {
        JwkSet::parse(response.body().as_ref())
    } else {
        Err(KeySetError::new(format!("HTTP {} instead of 2xx", status.as_u16())))
    };
    read.map_err(|e| {
        let mut error = ProtocolError::new(ProtocolErrorKind::KeySet(e));
        error.status = Some(status);
        error.into()
    })
}
