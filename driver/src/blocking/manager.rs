//! [`TokenManager`]: a valid access token for any number of threads, from one grant kept in
//! a [`TokenStore`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use oidc_refresh_core::{AccessToken, Error, Session};

use super::{Drive, Exchange};
use crate::clock::{Clock, SystemClock};
use crate::manager::{Shared, manager_api, revoke_grant};
use crate::store::{StoreGuard, TokenStore};

/// Hands out valid access tokens to any number of threads, refreshing them through the
/// sans-IO [`Session`]: one refresh in flight at a time, the new token set stored before
/// anyone sees its access token, a newer stored set adopted instead of sending a stale
/// refresh token, transient failures retried (3 attempts in all by default, jittered
/// backoff, `Retry-After` honoured).
///
/// **The fresh path** ([`access_token`](Self::access_token) while the token is fresh) takes
/// no lock: an atomically swapped snapshot of the token and the time until which it may be
/// handed out, checked against the clock. **The refresh path** is serialised by a mutex, so
/// callers that find the token stale while a refresh is in flight wait for it and share its
/// result (its token, or a [duplicate](Error::duplicate) of its error); it runs [`Drive`].
///
/// Cheap to clone: clones share everything, as the async twin's do. The transports name it
/// for their own transport (`oidc_refresh_ureq::TokenManager<S>`).
///
/// ```
/// use oidc_refresh_core::{ClientConfig, Error, RefreshToken, TokenSet, http};
/// use oidc_refresh_driver::blocking::{Exchange, TokenManager};
/// use oidc_refresh_driver::store::MemoryStore;
///
/// # struct Canned;
/// # impl Exchange for Canned {
/// #     fn execute(&self, _: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, Error> {
/// #         Ok(http::Response::new(br#"{"access_token":"at-2","token_type":"Bearer","expires_in":3600}"#.to_vec()))
/// #     }
/// # }
/// # let transport = Canned;
/// let client = ClientConfig::new("https://id.example/token", "my-app")?;
/// let store = MemoryStore::with_tokens(TokenSet::from_refresh_token(RefreshToken::new("rt-1")));
/// let manager = TokenManager::new(transport, client, store);
///
/// std::thread::scope(|s| {
///     for _ in 0..8 {
///         let manager = manager.clone();
///         s.spawn(move || {
///             let token = manager.access_token()?;
///             // ... call the API with `token.authorization()`; on a 401 `invalid_token`:
///             manager.invalidate(&token);
///             Ok::<_, Error>(())
///         });
///     }
/// });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TokenManager<X, S, C = SystemClock> {
    inner: Arc<Shared<X, S, C, Refresh>>,
}

/// The refresh path: held for a whole refresh.
struct Refresh {
    state: Mutex<RefreshState>,
    /// How many refreshes have finished: a caller that waited for one shares its outcome.
    finished: AtomicU64,
}

struct RefreshState {
    session: Session,
    last: Option<Result<AccessToken, Error>>,
}

manager_api!(TokenManager where X: Exchange, S: TokenStore);

impl<X: Exchange, S: TokenStore, C: Clock> TokenManager<X, S, C> {
    /// A manager driving `session` that reads the time from `clock` (a test's virtual clock,
    /// say): it decides whether the access token is fresh and from when a lifetime counts.
    /// Backoffs are still slept in real time.
    #[must_use]
    pub fn with_clock(exchange: X, session: Session, store: S, clock: C) -> Self {
        let inner = Shared::new(exchange, store, clock, session, |session| Refresh {
            state: Mutex::new(RefreshState { session, last: None }),
            finished: AtomicU64::new(0),
        });
        Self { inner: Arc::new(inner) }
    }

    /// A valid access token: the current one while it is fresh (no lock, no I/O), otherwise
    /// the result of a refresh, shared with every thread that asked meanwhile.
    ///
    /// # Errors
    ///
    /// The refresh's error once its attempts are spent: [`Error::is_reauth_required`] when
    /// the user must sign in again (`invalid_grant`, or the store holds no token set:
    /// [`ConfigError::NoTokens`](oidc_refresh_core::ConfigError::NoTokens)),
    /// [`Error::Store`] when the store failed (a rotated refresh token is then kept in
    /// memory and written again first), and the transport's and the server's errors.
    pub fn access_token(&self) -> Result<AccessToken, Error> {
        if let Some(token) = self.inner.fresh_token() {
            return Ok(token);
        }
        let refresh = &self.inner.refresh;
        let seen = refresh.finished.load(Ordering::Acquire);
        let mut state = refresh.state.lock().unwrap_or_else(PoisonError::into_inner);
        if refresh.finished.load(Ordering::Acquire) != seen
            && let Some(last) = &state.last
        {
            return share(last); // a refresh finished while this caller waited for it
        }
        self.run(&mut state, false)
    }

    /// Refreshes now, whatever the access token's lifetime (after any refresh in flight,
    /// with the newest stored refresh token), and returns the new access token.
    ///
    /// # Errors
    ///
    /// As [`access_token`](Self::access_token); a failure is reported even when the
    /// current access token is still valid.
    pub fn force_refresh(&self) -> Result<AccessToken, Error> {
        let mut state = self.inner.refresh.state.lock().unwrap_or_else(PoisonError::into_inner);
        self.run(&mut state, true)
    }

    /// Signs the user out, in one call: revokes the stored refresh token at
    /// `revocation_endpoint` (RFC 7009, through this manager's transport and client; most
    /// providers end the grant's access tokens with it), then clears the store, signs the
    /// session out and takes the access token off the fresh path. Afterwards
    /// [`access_token`](Self::access_token) fails with [`Error::is_reauth_required`]
    /// ([`ConfigError::NoTokens`](oidc_refresh_core::ConfigError::NoTokens)) until a new
    /// sign-in's set is written to the store ([`TokenStore::init`]).
    ///
    /// It runs under the refresh lock (after any refresh in flight; no refresh starts
    /// meanwhile, and callers that need one wait for it) and the store's lock (other
    /// processes sharing the store wait too, and then find it empty). A store that holds no
    /// token set has nothing to revoke: the session is signed out all the same, `Ok`. The
    /// endpoint is the discovery document's
    /// [`revocation_endpoint`](oidc_refresh_core::ProviderMetadata::revocation_endpoint).
    ///
    /// ```
    /// use oidc_refresh_core::{ClientConfig, Error, RefreshToken, http};
    /// use oidc_refresh_driver::blocking::{Exchange, TokenManager};
    /// use oidc_refresh_driver::store::{MemoryStore, TokenStore};
    ///
    /// # struct Canned;
    /// # impl Exchange for Canned {
    /// #     fn execute(&self, _: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, Error> {
    /// #         Ok(http::Response::new(Vec::new())) // a revocation's 200
    /// #     }
    /// # }
    /// # let transport = Canned;
    /// let client = ClientConfig::new("https://id.example/token", "my-app")?;
    /// let store = MemoryStore::from_refresh_token(RefreshToken::new("rt-1"));
    /// let manager = TokenManager::new(transport, client, store);
    ///
    /// manager.revoke("https://id.example/revoke")?; // the user signed out
    /// assert_eq!(manager.store().load()?, None);
    /// assert!(manager.access_token().is_err_and(|e| e.is_reauth_required()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store cannot be locked or read, and the errors of
    /// [`revoke`](super::revoke) (the endpoint refused before anything is sent, the
    /// transport's, the server's): the store and the session are then left as they were
    /// (the next `access_token` hands out the same token). [`Error::Store`] also when the
    /// provider revoked the token but the store could not be cleared: the session is signed
    /// out all the same, and the store still holds the revoked set (its next refresh is
    /// refused, `invalid_grant`).
    pub fn revoke(&self, revocation_endpoint: &str) -> Result<(), Error> {
        let mut state = self.inner.refresh.state.lock().unwrap_or_else(PoisonError::into_inner);
        // A caller that waited for the lock meanwhile runs the session itself, never
        // sharing an outcome from before this call.
        state.last = None;
        revoke_grant! {
            session: &mut state.session,
            shared: &*self.inner,
            endpoint: revocation_endpoint,
            await: []
        }
    }

    /// One run of the session's loop, with the refresh mutex held.
    fn run(&self, state: &mut RefreshState, force: bool) -> Result<AccessToken, Error> {
        let inner = &self.inner;
        crate::fresh::before_run(&mut state.session, &inner.fresh, force);
        let outcome = Drive::new(&inner.exchange, &inner.store, &inner.clock).run(&mut state.session);
        let outcome = crate::fresh::after_run(outcome, &inner.fresh);
        state.last = Some(share(&outcome));
        inner.refresh.finished.fetch_add(1, Ordering::Release);
        outcome
    }
}

/// The outcome of a refresh for another caller that shared it.
fn share(outcome: &Result<AccessToken, Error>) -> Result<AccessToken, Error> {
    match outcome {
        Ok(token) => Ok(token.clone()),
        Err(e) => Err(e.duplicate()),
    }
}
