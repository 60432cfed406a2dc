//! The `tracing` events of every driver and transport, in one place: the same target, the
//! same levels, the same fields, whatever transport runs. No event carries a token, a secret
//! or a body.
//!
//! | event | level | fields |
//! | --- | --- | --- |
//! | an HTTP exchange starts / ends / fails | debug | `host`, `method`, `status`, `body_bytes`, `elapsed_ms`, `error` |
//! | a refresh is attempted | debug | `host` |
//! | a refresh succeeded | info | `host`, `rotated` (the server sent a refresh token other than the one sent), `continuity`, `expires_in` |
//! | a refresh failed | warn | `host`, `outcome` (the fault), `rotated` (the error holds a rotated refresh token), `oauth_error`, `status`, `retryable`, `error` |
//! | discovery succeeded / failed | info / warn | `host`, `outcome`, `error` |
//! | a revocation is attempted | debug | `host` |
//! | a revocation succeeded / failed | info / warn | `host`, `outcome`; on failure `oauth_error`, `status`, `retryable`, `error` |
//! | a token manager signed its grant out (revoked, store cleared) | info | `revoked` (a stored refresh token was revoked) |
//! | ... but the store could not be cleared | warn | `outcome`, `error` |
//! | a token manager's refresh failed, or failed early while the token is still valid | warn | `outcome`, `reauth`, `error` |

use std::time::Duration;

use oidc_refresh_core::ProviderMetadata;
use oidc_refresh_core::{AuthResult, Continuity, Error, RefreshToken};

/// The `tracing` target of every event of oidc-refresh's drivers and transports.
pub const TARGET: &str = "oidc_refresh";

fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

/// An HTTP exchange starts.
pub fn exchange_started(host: &str, method: &http::Method) {
    tracing::debug!(target: TARGET, host = %host, %method, "HTTP exchange starts");
}

/// An HTTP exchange ended, with a response or an error.
pub fn exchange_ended(host: &str, outcome: &Result<http::Response<Vec<u8>>, Error>, elapsed: Duration) {
    let elapsed_ms = millis(elapsed);
    match outcome {
        Ok(r) => tracing::debug!(target: TARGET, host = %host, status = r.status().as_u16(),
            body_bytes = r.body().len(), elapsed_ms, "HTTP exchange done"),
        Err(e) => {
            tracing::debug!(target: TARGET, host = %host, error = %e, elapsed_ms, "HTTP exchange failed")
        }
    }
}

/// A refresh request is about to be sent.
pub fn refresh_attempt(host: &str) {
    tracing::debug!(target: TARGET, host = %host, "refresh attempt");
}

/// The outcome of one refresh; `sent` is the refresh token that was sent, so that `rotated`
/// means "the server sent another one" on success.
pub fn refresh_outcome(host: &str, sent: &RefreshToken, outcome: &Result<(AuthResult, Continuity), Error>) {
    match outcome {
        Ok((result, continuity)) => {
            let rotated = result.refresh_token().is_some_and(|new| new != sent);
            tracing::info!(target: TARGET, host = %host, outcome = "success", rotated, continuity = ?continuity,
                expires_in = result.expires_in(), "refresh succeeded");
        }
        Err(e) => {
            let rotated = e.rotated_refresh_token().is_some();
            tracing::warn!(target: TARGET, host = %host, outcome = e.fault().as_str(), rotated,
                oauth_error = e.oauth_error_code().unwrap_or(""), status = e.status().map(|s| s.as_u16()),
                retryable = e.is_retryable(), error = %e, "refresh failed");
        }
    }
}

/// The outcome of OpenID discovery.
pub fn discovery_outcome(host: &str, outcome: &Result<ProviderMetadata, Error>) {
    match outcome {
        Ok(_) => tracing::info!(target: TARGET, host = %host, outcome = "success", "discovery succeeded"),
        Err(e) => {
            tracing::warn!(target: TARGET, host = %host, outcome = e.fault().as_str(), error = %e, "discovery failed");
        }
    }
}

/// A revocation request (RFC 7009) is about to be sent.
pub fn revocation_attempt(host: &str) {
    tracing::debug!(target: TARGET, host = %host, "revocation attempt");
}

/// The outcome of one revocation.
pub fn revocation_outcome(host: &str, outcome: &Result<(), Error>) {
    match outcome {
        Ok(()) => tracing::info!(target: TARGET, host = %host, outcome = "success", "revocation succeeded"),
        Err(e) => {
            tracing::warn!(target: TARGET, host = %host, outcome = e.fault().as_str(),
                oauth_error = e.oauth_error_code().unwrap_or(""), status = e.status().map(|s| s.as_u16()),
                retryable = e.is_retryable(), error = %e, "revocation failed");
        }
    }
}

/// A token manager signed its grant out: the stored refresh token was revoked (`revoked`;
/// `false` when the store held none) and the store emptied.
pub fn signed_out(revoked: bool) {
    tracing::info!(target: TARGET, revoked, "signed out: the store holds no token set");
}

/// A token manager revoked the stored refresh token but could not clear the store: it
/// still holds the revoked set (the next refresh is refused: sign in again).
pub fn revoked_not_cleared(e: &Error) {
    tracing::warn!(target: TARGET, outcome = e.fault().as_str(), error = %e,
        "the refresh token was revoked but the store could not be cleared");
}

/// A token manager's refresh failed and no valid access token is left.
pub fn manager_failure(e: &Error) {
    tracing::warn!(target: TARGET, outcome = e.fault().as_str(), reauth = e.is_reauth_required(), error = %e,
        "token refresh failed");
}

/// An early refresh failed; the access token handed out is still valid.
pub fn early_refresh_failure(e: &Error) {
    tracing::warn!(target: TARGET, outcome = e.fault().as_str(), error = %e,
        "early refresh failed; the access token is still valid");
}
