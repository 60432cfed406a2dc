//! The character rules of RFC 6749 Appendix A that requests and responses share: scope
//! strings and refresh tokens.

use crate::error::ConfigError;
use crate::json;
use crate::secret::RefreshToken;

/// Checks a scope string: one or more scope-tokens (`%x21 / %x23-5B / %x5D-7E`) separated
/// by single spaces (RFC 6749 §3.3; R5 scope-syntax-checked-locally).
///
/// ```
/// use oidc_refresh_core::check_scope;
/// assert!(check_scope("openid profile offline_access").is_ok());
/// assert!(check_scope("openid  profile").is_err()); // an empty scope-token
/// assert!(check_scope("say\"hi\"").is_err());
/// ```
///
/// # Errors
///
/// [`ConfigError::InvalidScope`] naming the problem.
pub fn check_scope(scope: &str) -> Result<(), ConfigError> {
    if scope.is_empty() {
        return Err(ConfigError::InvalidScope { reason: "empty" });
    }
    for token in scope.split(' ') {
        if token.is_empty() {
            return Err(ConfigError::InvalidScope {
                reason: "empty scope-token (leading, trailing or double space)",
            });
        }
        if !token.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)) {
            return Err(ConfigError::InvalidScope {
                reason: "a scope-token may hold only printable ASCII other than '\"' and '\\'",
            });
        }
    }
    Ok(())
}

/// Checks a refresh token's syntax: non-empty, `%x20-7E` only (RFC 6749 Appendix A.17;
/// R6 refresh-token-syntax-checked-locally). The error never contains the token.
///
/// # Errors
///
/// [`ConfigError::InvalidRefreshToken`].
pub fn check_refresh_token(token: &RefreshToken) -> Result<(), ConfigError> {
    check_refresh_token_str(token.expose_secret())
}

pub(crate) fn check_refresh_token_str(token: &str) -> Result<(), ConfigError> {
    if token.is_empty() {
        return Err(ConfigError::InvalidRefreshToken { reason: "empty" });
    }
    if !printable_ascii(token) {
        return Err(ConfigError::InvalidRefreshToken {
            reason: "holds a character outside printable ASCII (%x20-7E)",
        });
    }
    Ok(())
}

/// A refresh token's syntax (RFC 6749 A.17): non-empty, `%x20-7E` only. Branch-free over
/// the bytes ([`json::fold_bytes`]), so that it vectorises: the response parser checks every
/// rotated refresh token with it.
pub(crate) fn printable_ascii(token: &str) -> bool {
    // `b - 0x20 < 0x5F` is `0x20 <= b <= 0x7E`; OR-ing the failures keeps it branch-free.
    !token.is_empty()
        && json::fold_bytes(token.as_bytes(), 0, |b| u8::from(b.wrapping_sub(0x20) >= 0x5F), |x, y| x | y)
            == 0
}
