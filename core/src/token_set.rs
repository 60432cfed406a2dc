//! [`TokenSet`]: what a session persists between refreshes. The stores themselves (their
//! locks, their files) are I/O, and live with the drivers (`oidc-refresh-driver`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::claims::decode_id_token;
use crate::response::AuthResult;
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::syntax::check_refresh_token;
use crate::time::UnixTime;

/// The whole token set of one grant, as stored.
///
/// Serialises to the contract's store JSON: wire names `refresh_token` (required),
/// `access_token`, `id_token`, `token_type`, `scope` and `expires_at` (Unix seconds, an
/// integer), absent members omitted. `Debug` redacts every token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet {
    /// The refresh token to send next.
    pub refresh_token: RefreshToken,
    /// The current access token, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<AccessToken>,
    /// The newest ID token: the previous ID token for the §12.2 continuity checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<IdToken>,
    /// The access token's type (`Bearer`, `DPoP`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// The granted scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// When the access token expires, in Unix seconds. Absent: the access token counts as
    /// expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

impl TokenSet {
    /// A token set holding only a refresh token (the state after a sign-in that kept only
    /// it, or a fresh `--store` file).
    #[must_use]
    pub fn from_refresh_token(refresh_token: RefreshToken) -> Self {
        Self {
            refresh_token,
            access_token: None,
            id_token: None,
            token_type: None,
            scope: None,
            expires_at: None,
        }
    }

    /// The token set after a successful refresh (R16, R17, R22): the rotated refresh
    /// token or, when the server sent none, the previous one; the new access token with
    /// `expires_at = sent_at + expires_in` (or `sent_at + default_lifetime` when the server
    /// gave no lifetime); the new ID token or the previous one; the granted scope or the
    /// previous one.
    #[must_use]
    pub fn after_refresh(&self, result: &AuthResult, sent_at: UnixTime, default_lifetime: Duration) -> Self {
        let lifetime = result.expires_in().map_or(default_lifetime, Duration::from_secs);
        Self {
            refresh_token: result.refresh_token().unwrap_or(&self.refresh_token).clone(),
            access_token: Some(result.access_token().clone()),
            id_token: result.id_token().or(self.id_token.as_ref()).cloned(),
            token_type: Some(result.token_type().to_owned()),
            scope: result.scope().map(str::to_owned).or_else(|| self.scope.clone()),
            expires_at: Some((sent_at + lifetime).as_secs()),
        }
    }

    /// The access token when it is still valid for more than `min_ttl` at `now`; `None`
    /// when it is missing, has no `expires_at`, or expires within `min_ttl`.
    #[must_use]
    pub fn fresh_access_token(&self, now: UnixTime, min_ttl: Duration) -> Option<&AccessToken> {
        let expires_at = UnixTime::from_secs(self.expires_at?);
        (expires_at > now + min_ttl).then_some(self.access_token.as_ref()?)
    }

    /// The set as a store should hold it, checked before anything uses it: a refresh token
    /// the core would refuse to send, or a previous ID token that does not decode, makes it
    /// unusable (a store failure, never a request). An empty access token counts as none (it
    /// is refreshed), an empty ID token as no previous ID token.
    ///
    /// ```
    /// use oidc_refresh_core::{AccessToken, RefreshToken, TokenSet};
    ///
    /// let mut set = TokenSet::from_refresh_token(RefreshToken::new("rt-1"));
    /// set.access_token = Some(AccessToken::new(""));
    /// assert_eq!(set.checked()?.access_token, None);
    /// assert!(TokenSet::from_refresh_token(RefreshToken::new("bad\ntoken")).checked().is_err());
    /// # Ok::<(), oidc_refresh_core::UnusableTokenSet>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`UnusableTokenSet`], which says what is wrong without quoting a token.
    pub fn checked(mut self) -> Result<TokenSet, UnusableTokenSet> {
        check_refresh_token(&self.refresh_token)
            .map_err(|e| UnusableTokenSet(format!("its refresh_token is unusable: {e}")))?;
        if self.id_token.as_ref().is_some_and(|jwt| jwt.is_empty()) {
            self.id_token = None;
        }
        if let Some(jwt) = &self.id_token {
            decode_id_token(jwt.expose_secret()).map_err(|e| {
                UnusableTokenSet(format!("its id_token (the previous ID token) cannot be decoded: {e}"))
            })?;
        }
        if self.access_token.as_ref().is_some_and(|token| token.is_empty()) {
            self.access_token = None;
        }
        Ok(self)
    }
}

/// A stored token set that cannot be used ([`TokenSet::checked`]); the message never quotes a
/// token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnusableTokenSet(String);
