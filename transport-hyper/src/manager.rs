//! [`TokenManager`]: a valid access token for any number of tasks, from one grant kept in a
//! [`TokenStore`].

use std::collections::hash_map::RandomState;
use std::error::Error as StdError;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, PoisonError, mpsc};

use arc_swap::ArcSwapOption;
use oidc_refresh_core::{
    AccessToken, Action, ClientConfig, Error, Session, StoreGuard, TokenSet, TokenStore, TransportError,
    TransportErrorKind, UnixTime,
};
use tokio::sync::{oneshot, watch};

use crate::{LOG_TARGET, Transport, now};

/// Hands out valid access tokens to any number of tasks, refreshing them through the sans-IO
/// [`Session`] of [`oidc_refresh_core`]: one refresh in flight at a time, the new token set
/// stored before anyone sees its access token, a newer stored set adopted instead of
/// sending a stale refresh token, transient failures retried (3 attempts in all by default,
/// jittered backoff, `Retry-After` honoured).
///
/// **The fresh path** ([`access_token`](Self::access_token) while the token is fresh) takes
/// no lock and does not await: an atomically swapped snapshot of the token and the time until
/// which it may be handed out, checked against [`now`]. **The refresh path** runs in a task
/// of its own (`tokio::spawn`), which every caller that finds the token stale meanwhile
/// waits for, sharing its result (its token, or a [duplicate](Error::duplicate) of its
/// error): a refresh that has started completes and is stored even if every caller is
/// dropped or times out. The store's blocking calls (a file lock may wait for another
/// process) run on tokio's blocking pool, on one thread that holds the store's lock from
/// the re-read to the save.
///
/// Cheap to clone: clones share everything. The futures are `Send`. It needs a tokio
/// runtime with the I/O and time drivers, as [`Transport`] does.
///
/// ```no_run
/// use oidc_refresh_hyper::core::{ClientConfig, MemoryStore, RefreshToken, TokenSet};
/// use oidc_refresh_hyper::{Options, TokenManager, Transport};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let transport = Transport::new(Options::default())?;
/// let client = ClientConfig::new("https://id.example/token", "my-app")?;
/// let store = MemoryStore::with_tokens(TokenSet::from_refresh_token(RefreshToken::new("rt-1")));
/// let manager = TokenManager::new(transport, client, store);
///
/// let tasks: Vec<_> = (0..8)
///     .map(|_| {
///         let manager = manager.clone();
///         tokio::spawn(async move {
///             let token = manager.access_token().await?;
///             // ... call the API with `Authorization: Bearer {token}`; on a 401:
///             manager.invalidate(&token);
///             Ok::<_, oidc_refresh_hyper::core::Error>(())
///         })
///     })
///     .collect();
/// for task in tasks {
///     task.await??;
/// }
/// # Ok(())
/// # }
/// ```
pub struct TokenManager<S: TokenStore + 'static> {
    inner: Arc<Inner<S>>,
}

impl<S: TokenStore + 'static> Clone for TokenManager<S> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

struct Inner<S: TokenStore + 'static> {
    transport: Transport,
    clock: Clock,
    store: S,
    /// The fresh path: the access token and until when it may be handed out.
    fresh: ArcSwapOption<Fresh>,
    /// Access tokens an API refused, applied by the next refresh.
    invalid: Mutex<Vec<AccessToken>>,
    /// The refresh in flight, if any: its outcome arrives on this channel.
    flight: Mutex<Option<watch::Receiver<Option<Outcome>>>>,
    /// Held by the task that drives a refresh.
    session: tokio::sync::Mutex<Session>,
}

struct Fresh {
    access_token: AccessToken,
    fresh_until: UnixTime,
}

type Outcome = Arc<Result<AccessToken, Error>>;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// At most this many distinct refused tokens wait for the next refresh.
const MAX_INVALID: usize = 16;

impl<S: TokenStore + 'static> TokenManager<S> {
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
        let inner = Inner {
            transport,
            clock: Clock::System,
            store,
            fresh: ArcSwapOption::empty(),
            invalid: Mutex::new(Vec::new()),
            flight: Mutex::new(None),
            session: tokio::sync::Mutex::new(session.with_jitter_seed(seed)),
        };
        Self { inner: Arc::new(inner) }
    }

    /// Reads the time from `clock` instead of the system clock, e.g. a virtual clock in a
    /// test: it decides whether the access token is fresh and from when a lifetime counts
    /// (backoffs are still slept in real time).
    ///
    /// # Panics
    ///
    /// When the manager was cloned already: set the clock right after building it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use oidc_refresh_hyper::core::{ClientConfig, MemoryStore, UnixTime};
    /// use oidc_refresh_hyper::{Options, TokenManager, Transport};
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
        let inner = Arc::get_mut(&mut self.inner).expect("with_clock is called before the manager is cloned");
        inner.clock = Clock::Custom(Arc::new(clock));
        self
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// The transport.
    #[must_use]
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// A valid access token: the current one while it is fresh (no lock, no I/O, ready at
    /// once), otherwise the result of a refresh, shared with every task that asked
    /// meanwhile.
    ///
    /// # Errors
    ///
    /// The refresh's error once its attempts are spent: [`Error::is_reauth_required`] when
    /// the user must sign in again (`invalid_grant`, or the store holds no token set:
    /// [`ConfigError::NoTokens`](oidc_refresh_core::ConfigError::NoTokens)),
    /// [`Error::Store`] when the store failed (a rotated refresh token is then kept in
    /// memory and written again first), and the errors of
    /// [`Transport::refresh_tokens`].
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        if let Some(token) = self.inner.fresh_token() {
            return Ok(token);
        }
        let mut outcome = {
            let mut flight = self.inner.flight.lock().unwrap_or_else(PoisonError::into_inner);
            // A refresh that ended just now published its token before leaving the flight.
            if let Some(token) = self.inner.fresh_token() {
                return Ok(token);
            }
            match &*flight {
                Some(outcome) => outcome.clone(),
                None => {
                    let (tx, rx) = watch::channel(None);
                    *flight = Some(rx.clone());
                    let inner = Arc::clone(&self.inner);
                    tokio::spawn(async move {
                        let leave = LeaveFlight(Arc::clone(&inner));
                        let outcome = inner.run(false).await;
                        drop(leave);
                        let _ = tx.send(Some(Arc::new(outcome)));
                    });
                    rx
                }
            }
        };
        match outcome.wait_for(Option::is_some).await {
            Ok(shared) => match shared.as_deref() {
                Some(Ok(token)) => Ok(token.clone()),
                Some(Err(e)) => Err(e.duplicate()),
                None => Err(task_failed("the refresh ended without an outcome")),
            },
            Err(_) => Err(task_failed("the refresh task panicked")),
        }
    }

    /// Refreshes now, whatever the access token's lifetime (after any refresh in flight,
    /// with the newest stored refresh token), and returns the new access token. Runs in a
    /// task of its own, which completes even if this future is dropped.
    ///
    /// # Errors
    ///
    /// As [`access_token`](Self::access_token); a failure is reported even when the
    /// current access token is still valid.
    pub async fn force_refresh(&self) -> Result<AccessToken, Error> {
        let inner = Arc::clone(&self.inner);
        match tokio::spawn(async move { inner.run(true).await }).await {
            Ok(outcome) => outcome,
            Err(_) => Err(task_failed("the refresh task panicked")),
        }
    }

    /// An API refused `access_token` (HTTP 401 `invalid_token`): the next
    /// [`access_token`](Self::access_token) refreshes, once, however many callers report
    /// the same token. Reporting a token that was already replaced changes nothing. Never
    /// waits for a refresh in flight.
    pub fn invalidate(&self, access_token: &AccessToken) {
        let inner = &self.inner;
        let mut invalid = inner.invalid.lock().unwrap_or_else(PoisonError::into_inner);
        if !invalid.contains(access_token) {
            if invalid.len() == MAX_INVALID {
                invalid.remove(0);
            }
            invalid.push(access_token.clone());
        }
        let current = inner.fresh.load();
        if current.as_ref().is_some_and(|f| &f.access_token == access_token) {
            inner.fresh.store(None);
        }
    }
}

/// Leaves the flight when the refresh task ends, even by a panic, so that the next caller
/// starts a new refresh instead of waiting for a dead one.
struct LeaveFlight<S: TokenStore + 'static>(Arc<Inner<S>>);

impl<S: TokenStore + 'static> Drop for LeaveFlight<S> {
    fn drop(&mut self) {
        *self.0.flight.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

impl<S: TokenStore + 'static> Inner<S> {
    fn fresh_token(&self) -> Option<AccessToken> {
        let fresh = self.fresh.load();
        let fresh = fresh.as_ref()?;
        (self.clock.now() < fresh.fresh_until).then(|| fresh.access_token.clone())
    }

    /// One run of the session's loop: the body of a refresh task.
    async fn run(self: &Arc<Self>, force: bool) -> Result<AccessToken, Error> {
        let mut session = self.session.lock().await;
        if force {
            session.force_refresh();
        }
        for token in std::mem::take(&mut *self.invalid.lock().unwrap_or_else(PoisonError::into_inner)) {
            session.handle_invalid_access_token(&token);
        }
        let mut lock: Option<StoreLock> = None; // from Load to the end of the refresh
        loop {
            let sent_at = self.clock.now();
            match session.poll(sent_at) {
                Action::Ready { access_token, fresh_until, refresh_error } => {
                    if let Some(e) = refresh_error {
                        tracing::warn!(target: LOG_TARGET, outcome = e.fault().as_str(), error = %e,
                            "early refresh failed; the access token is still valid");
                    }
                    self.publish(&access_token, fresh_until);
                    drop(lock);
                    return Ok(access_token);
                }
                Action::Load => match StoreLock::acquire(Arc::clone(self)).await {
                    Ok((held, loaded)) => {
                        lock = Some(held);
                        session.handle_loaded(Ok::<_, BoxError>(loaded));
                    }
                    Err(e) => session.handle_loaded(Err(e)),
                },
                Action::Send(request) => match self.transport.execute(request).await {
                    Ok(response) => session.handle_response(self.clock.now(), &response),
                    Err(e) => session.handle_transport_error(self.clock.now(), e),
                },
                Action::Store(tokens) => match &lock {
                    Some(held) => session.handle_stored(held.save(tokens).await),
                    None => session.handle_stored(Err("the store is not locked")),
                },
                Action::Wait(until) => tokio::time::sleep(until.saturating_duration_since(sent_at)).await,
                // Only after a refresh task that was cancelled half-way: start afresh.
                Action::Pending => session.abandon(),
                Action::Failed(e) | Action::SignIn(e) => {
                    tracing::warn!(target: LOG_TARGET, outcome = e.fault().as_str(),
                        reauth = e.is_reauth_required(), error = %e, "token refresh failed");
                    self.fresh.store(None);
                    return Err(e);
                }
                other => {
                    session.abandon();
                    return Err(task_failed(&format!("unexpected session action {other:?}")));
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

/// The store's lock, held by a thread of tokio's blocking pool that performs the store's
/// (blocking) calls; dropping this unlocks.
struct StoreLock {
    saves: mpsc::Sender<(TokenSet, oneshot::Sender<Result<(), BoxError>>)>,
}

impl StoreLock {
    /// Locks the store and re-reads it, off the runtime's threads.
    async fn acquire<S: TokenStore + 'static>(
        inner: Arc<Inner<S>>,
    ) -> Result<(StoreLock, Option<TokenSet>), BoxError> {
        let (loaded_tx, loaded_rx) = oneshot::channel::<Result<Option<TokenSet>, BoxError>>();
        let (saves, save_rx) = mpsc::channel::<(TokenSet, oneshot::Sender<Result<(), BoxError>>)>();
        tokio::task::spawn_blocking(move || {
            let mut guard = match inner.store.lock() {
                Ok(guard) => guard,
                Err(e) => {
                    let _ = loaded_tx.send(Err(e.into()));
                    return;
                }
            };
            if loaded_tx.send(guard.load().map_err(Into::into)).is_err() {
                return;
            }
            // Until the refresh drops its `StoreLock`.
            while let Ok((tokens, reply)) = save_rx.recv() {
                let _ = reply.send(guard.save(&tokens).map_err(Into::into));
            }
        });
        match loaded_rx.await {
            Ok(loaded) => Ok((StoreLock { saves }, loaded?)),
            Err(_) => Err("the store's thread ended before reading it".into()),
        }
    }

    async fn save(&self, tokens: TokenSet) -> Result<(), BoxError> {
        let (reply, result) = oneshot::channel();
        self.saves.send((tokens, reply)).map_err(|_| "the store's thread has ended")?;
        result.await.map_err(|_| "the store's thread ended before writing")?
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

fn task_failed(what: &str) -> Error {
    TransportError::new(TransportErrorKind::Other, what.to_owned()).into()
}

impl<S: TokenStore + fmt::Debug + 'static> fmt::Debug for TokenManager<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fresh_until = self.inner.fresh.load().as_ref().map(|f| f.fresh_until);
        f.debug_struct("TokenManager")
            .field("transport", &self.inner.transport)
            .field("store", &self.inner.store)
            .field("fresh_until", &fresh_until)
            .finish_non_exhaustive()
    }
}
