//! [`TokenSet`], what a session persists, and the [`TokenStore`] contract that stores
//! (in memory, in a file, in your database) fulfil.
//!
//! The core performs no I/O: this module only defines the shapes. The in-memory store is
//! here because it needs no I/O; the file store lives in the `oidc-refresh` facade.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::response::AuthResult;
use crate::secret::{AccessToken, IdToken, RefreshToken};
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

    /// The token set after a successful refresh (rules 16, 17, 22): the rotated refresh
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
}

/// Storage for one grant's [`TokenSet`], shared by every thread, task and process that
/// refreshes it (rules 24, 25, 27).
///
/// The protocol that makes "one refresh token is sent at most once" hold across processes:
/// [`lock`](Self::lock) (exclusive; for a file, `flock` on `FILE.lock`), re-read through the
/// guard, and if the stored refresh token is not the one you hold, adopt the stored set
/// instead of sending yours; otherwise refresh, [`StoreGuard::save`] the new set, and only
/// then hand out the access token. Dropping the guard unlocks.
pub trait TokenStore: Send + Sync {
    /// The store's I/O error.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Holds the store's exclusive lock until dropped.
    type Guard<'a>: StoreGuard<Error = Self::Error>
    where
        Self: 'a;

    /// Reads the current token set without locking (the fresh-token path). A store that
    /// was never written reads as `None`.
    ///
    /// # Errors
    ///
    /// The store's I/O error, or a malformed stored set.
    fn load(&self) -> Result<Option<TokenSet>, Self::Error>;

    /// Takes the store's exclusive lock, waiting for other holders.
    ///
    /// # Errors
    ///
    /// The store's I/O error.
    fn lock(&self) -> Result<Self::Guard<'_>, Self::Error>;
}

/// The exclusive hold on a [`TokenStore`]: read and write under the lock.
pub trait StoreGuard {
    /// The store's I/O error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Reads the current token set under the lock.
    ///
    /// # Errors
    ///
    /// The store's I/O error, or a malformed stored set.
    fn load(&mut self) -> Result<Option<TokenSet>, Self::Error>;

    /// Replaces the token set, atomically: a reader sees the old set or the new, never a
    /// mix or nothing.
    ///
    /// # Errors
    ///
    /// The store's I/O error; the previous set is then still stored.
    fn save(&mut self, tokens: &TokenSet) -> Result<(), Self::Error>;
}

/// A shared store is a store: threads or managers of one process may share one store
/// through an `Arc`, as processes share one file.
impl<T: TokenStore> TokenStore for std::sync::Arc<T> {
    type Error = T::Error;
    type Guard<'a>
        = T::Guard<'a>
    where
        Self: 'a;

    fn load(&self) -> Result<Option<TokenSet>, T::Error> {
        T::load(self)
    }

    fn lock(&self) -> Result<T::Guard<'_>, T::Error> {
        T::lock(self)
    }
}
