//! The errors every transport gives for what it refuses, in the same words whatever the
//! transport.

use http::StatusCode;
use oidc_refresh_core::{Error, TransportError, TransportErrorKind};

/// A redirect from the token or discovery endpoint: refused, never followed (RFC 9700 §4.11;
/// a redirect could carry the refresh token to another host).
#[must_use]
pub fn redirect(status: StatusCode, with_location: bool) -> Error {
    let location = if with_location { "with" } else { "without" };
    TransportError::new(
        TransportErrorKind::Redirect,
        format!("HTTP {} {location} Location; redirects are never followed", status.as_u16()),
    )
    .into()
}

/// A response body longer than the cap.
#[must_use]
pub fn body_too_large(max_body: u64) -> Error {
    TransportError::new(
        TransportErrorKind::BodyTooLarge,
        format!("the response body exceeds {max_body} bytes"),
    )
    .into()
}
