//! [`TokenManager`]: a valid access token for any number of threads, from one grant kept in
//! a [`TokenStore`].

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwapOption;
use oidc_refresh_core::{
    AccessToken, Action, ClientConfig, Error, Session, StoreGuard, TokenStore, TransportError,
    TransportErrorKind, UnixTime,
};

use crate::{TARGET, Transport, now};

/// Hands out valid access tokens to any number of threads, refreshing them through the
/// sans-IO [`Session`] of [`oidc_refresh_core`]: one refresh in flight at a time, the new
/// token set stored before anyone sees its access token, a newer stored set adopted instead
/// of sending a stale refresh token, transient failures retried (3 attempts in all by
/// default, jittered backoff, `Retry-After` honoured).
///
/// **The fresh path** ([`access_token`](Self::access_token) while the token is fresh) takes
/// no lock: an atomically swapped snapshot of the token and the time until which it may be
/// handed out, checked against [`now`]. **The refresh path** is serialised by a mutex, so
/// callers that find the token stale while a refresh is in flight wait for it and share its
/// result (its token, or a [duplicate](Error::duplicate) of its error). It locks the store,
/// re-reads it, adopts a newer set or refreshes, saves, publishes, and unlocks.
///
/// ```no_run
/// use oidc_refresh_ureq::core::{ClientConfig, MemoryStore, RefreshToken, TokenSet};
/// use oidc_refresh_ureq::{Options, TokenManager, Transport};
///
/// let transport = Transport::new(Options::default())?;
/// let client = ClientConfig::new("https://id.example/token", "my-app")?;
/// let store = MemoryStore::with_tokens(TokenSet::from_refresh_token(RefreshToken::new("rt-1")));
/// let manager = std::sync::Arc::new(TokenManager::new(transport, client, store));
///
/// std::thread::scope(|s| {
///     for _ in 0..8 {
///         s.spawn(|| {
///             let token = manager.access_token()?;
///             // ... call the API with `Authorization: Bearer {token}`; on a 401:
///             manager.invalidate(&token);
///             Ok::<_, oidc_refresh_ureq::core::Error>(())
///         });
///     }
/// });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TokenManager<S: TokenStore> {
    transport: Transport,
    clock: Clock,
    store: S,
    /// The fresh path: the access token and until when it may be handed out.
    fresh: ArcSwapOption<Fresh>,
    /// Access tokens an API refused, applied by the next refresh.
    invalid: Mutex<Vec<AccessToken>>,
    /// The refresh path: held for a whole refresh.
    refresh: Mutex<Refresh>,
    /// How many refreshes have finished: a caller that waited for one shares its outcome.
    finished: AtomicU64,
}

struct Fresh {
    access_token: AccessToken,
    fresh_until: UnixTime,
}

struct Refresh {
    session: Session,
    last: Option<Result<AccessToken, Error>>,
}

/// At most this many distinct refused tokens wait for the next refresh.
const MAX_INVALID: usize = 16;

impl<S: TokenStore> TokenManager<S> {
    /// A manager for `client`'s grant kept in `store`, with the session's defaults (60 s
    /// early-refresh margin, 300 s lifetime when `expires_in` is absent, 3 attempts).
    #[must_use]
    pub fn new(transport: Transport, client: ClientConfig, store: S) -> Self {
        Self::with_session(transport, Session::new(client), store)
    }

    /// A manager driving `session` (configured with its `with_*` methods; its jitter is
    /// seeded here from a random value).
    #[must_use]
    pub fn with_session(transport: Transport, session: Session, store: S) -> Self {
        let seed = RandomState::new().hash_one(now().duration_since_epoch());
        Self {
            transport,
            clock: Clock::System,
            store,
            fresh: ArcSwapOption::empty(),
            invalid: Mutex::new(Vec::new()),
            refresh: Mutex::new(Refresh { session: session.with_jitter_seed(seed), last: None }),
            finished: AtomicU64::new(0),
        }
    }

    /// Reads the time from `clock` instead of the system clock, e.g. a virtual clock in a
    /// test: it decides whether the access token is fresh and from when a lifetime counts
    /// (backoffs are still slept in real time).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use oidc_refresh_ureq::core::{ClientConfig, MemoryStore, UnixTime};
    /// use oidc_refresh_ureq::{Options, TokenManager, Transport};
    ///
    /// let virtual_secs = Arc::new(AtomicU64::new(1_700_000_000));
    /// let clock = Arc::clone(&virtual_secs);
    /// let client = ClientConfig::new("https://id.example/token", "my-app")?;
    /// let manager = TokenManager::new(Transport::new(Options::default())?, client, MemoryStore::default())
    ///     .with_clock(move || UnixTime::from_secs(clock.load(Ordering::Relaxed)));
    /// virtual_secs.fetch_add(3600, Ordering::Relaxed); // an hour passes at once
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> UnixTime + Send + Sync + 'static) -> Self {
        self.clock = Clock::Custom(Arc::new(clock));
        self
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The transport.
    #[must_use]
    pub fn transport(&self) -> &Transport {
        &self.transport
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
    /// memory and written again first), and the errors of
    /// [`Transport::refresh_tokens`].
    pub fn access_token(&self) -> Result<AccessToken, Error> {
        if let Some(token) = self.fresh_token() {
            return Ok(token);
        }
        let seen = self.finished.load(Ordering::Acquire);
        let mut refresh = self.refresh.lock().unwrap_or_else(PoisonError::into_inner);
        if self.finished.load(Ordering::Acquire) != seen
            && let Some(last) = &refresh.last
        {
            return share(last); // a refresh finished while this caller waited for it
        }
        self.run(&mut refresh, false)
    }

    /// Refreshes now, whatever the access token's lifetime (after any refresh in flight,
    /// with the newest stored refresh token), and returns the new access token.
    ///
    /// # Errors
    ///
    /// As [`access_token`](Self::access_token); a failure is reported even when the
    /// current access token is still valid.
    pub fn force_refresh(&self) -> Result<AccessToken, Error> {
        let mut refresh = self.refresh.lock().unwrap_or_else(PoisonError::into_inner);
        self.run(&mut refresh, true)
    }

    /// An API refused `access_token` (HTTP 401 `invalid_token`): the next
    /// [`access_token`](Self::access_token) refreshes, once, however many callers report
    /// the same token. Reporting a token that was already replaced changes nothing. Never
    /// blocks on a refresh in flight.
    pub fn invalidate(&self, access_token: &AccessToken) {
        let mut invalid = self.invalid.lock().unwrap_or_else(PoisonError::into_inner);
        if !invalid.contains(access_token) {
            if invalid.len() == MAX_INVALID {
                invalid.remove(0);
            }
            invalid.push(access_token.clone());
        }
        let current = self.fresh.load();
        if current.as_ref().is_some_and(|f| &f.access_token == access_token) {
            self.fresh.store(None);
        }
    }

    fn fresh_token(&self) -> Option<AccessToken> {
        let fresh = self.fresh.load();
        let fresh = fresh.as_ref()?;
        (self.clock.now() < fresh.fresh_until).then(|| fresh.access_token.clone())
    }

    /// One run of the session's loop, with the refresh mutex held.
    fn run(&self, refresh: &mut Refresh, force: bool) -> Result<AccessToken, Error> {
        let outcome = self.drive(&mut refresh.session, force);
        refresh.last = Some(share(&outcome));
        self.finished.fetch_add(1, Ordering::Release);
        outcome
    }

    fn drive(&self, session: &mut Session, force: bool) -> Result<AccessToken, Error> {
        if force {
            session.force_refresh();
        }
        for token in std::mem::take(&mut *self.invalid.lock().unwrap_or_else(PoisonError::into_inner)) {
            session.handle_invalid_access_token(&token);
        }
        let mut lock = None; // the store's lock, from Load to the end of the refresh
        loop {
            let sent_at = self.clock.now();
            match session.poll(sent_at) {
                Action::Ready { access_token, fresh_until, refresh_error } => {
                    if let Some(e) = refresh_error {
                        tracing::warn!(target: TARGET, outcome = e.fault().as_str(), error = %e,
                            "early refresh failed; the access token is still valid");
                    }
                    self.publish(&access_token, fresh_until);
                    drop(lock);
                    return Ok(access_token);
                }
                Action::Load => match self.store.lock() {
                    Ok(guard) => session.handle_loaded(lock.insert(guard).load()),
                    Err(e) => session.handle_loaded(Err(e)),
                },
                Action::Send(request) => match self.transport.execute(request) {
                    Ok(response) => session.handle_response(self.clock.now(), &response),
                    Err(e) => session.handle_transport_error(self.clock.now(), e),
                },
                Action::Store(tokens) => match lock.as_mut() {
                    Some(guard) => session.handle_stored(guard.save(&tokens)),
                    None => session.handle_stored(Err("the store is not locked")),
                },
                Action::Wait(until) => std::thread::sleep(until.saturating_duration_since(sent_at)),
                // Only after a refresh that panicked half-way: start afresh.
                Action::Pending => session.abandon(),
                Action::Failed(e) | Action::SignIn(e) => {
                    tracing::warn!(target: TARGET, outcome = e.fault().as_str(),
                        reauth = e.is_reauth_required(), error = %e, "token refresh failed");
                    self.fresh.store(None);
                    return Err(e);
                }
                other => {
                    session.abandon();
                    let what = format!("unexpected session action {other:?}");
                    return Err(TransportError::new(TransportErrorKind::Other, what).into());
                }
            }
        }
    }

    /// Makes `access_token` the fresh path's token until `fresh_until`, unless it was
    /// reported invalid meanwhile.
    fn publish(&self, access_token: &AccessToken, fresh_until: UnixTime) {
        let invalid = self.invalid.lock().unwrap_or_else(PoisonError::into_inner);
        if invalid.contains(access_token) {
            self.fresh.store(None);
        } else {
            let fresh = Fresh { access_token: access_token.clone(), fresh_until };
            self.fresh.store(Some(Arc::new(fresh)));
        }
    }
}

/// Where a manager reads the time.
enum Clock {
    System,
    Custom(Arc<dyn Fn() -> UnixTime + Send + Sync>),
}

impl Clock {
    fn now(&self) -> UnixTime {
        match self {
            Clock::System => now(),
            Clock::Custom(clock) => clock(),
        }
    }
}

/// The outcome of a refresh for another caller that shared it.
fn share(outcome: &Result<AccessToken, Error>) -> Result<AccessToken, Error> {
    match outcome {
        Ok(token) => Ok(token.clone()),
        Err(e) => Err(e.duplicate()),
    }
}

impl<S: TokenStore + fmt::Debug> fmt::Debug for TokenManager<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fresh_until = self.fresh.load().as_ref().map(|f| f.fresh_until);
        f.debug_struct("TokenManager")
            .field("transport", &self.transport)
            .field("store", &self.store)
            .field("fresh_until", &fresh_until)
            .field("refreshes", &self.finished.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
