//! [`TokenManager`]: a valid access token for any number of tasks, from one grant kept in an
//! [`AsyncTokenStore`].

use std::sync::{Arc, Mutex, PoisonError};

use oidc_refresh_core::{AccessToken, Error, Session, TransportError, TransportErrorKind};
use tokio::sync::watch;

use super::{AsyncDrive, AsyncExchange};
use crate::clock::{Clock, SystemClock};
use crate::log;
use crate::manager::{Shared, manager_api, revoke_grant};
use crate::store::{AsyncStoreGuard, AsyncTokenStore};

/// Hands out valid access tokens to any number of tasks: the async twin of the blocking
/// [`TokenManager`](crate::blocking::TokenManager), with the same policy and methods.
///
/// **The fresh path** takes no lock and does not await: the same atomically swapped
/// snapshot. **The refresh path** runs in a task of its own (`tokio::spawn`), which every
/// caller that finds the token stale meanwhile waits for, sharing its result (its token, or
/// a [duplicate](Error::duplicate) of its error): a refresh that has started completes and is
/// stored even if every caller is dropped or times out. The store is awaited
/// ([`AsyncTokenStore`]): no thread is blocked, whatever the store.
///
/// Cheap to clone: clones share everything. The futures are `Send`. It needs a tokio
/// runtime (any flavour) with the time driver.
///
/// ```
/// use oidc_refresh_core::{ClientConfig, Error, RefreshToken, TokenSet, http};
/// use oidc_refresh_driver::asynchronous::{AsyncExchange, TokenManager};
/// use oidc_refresh_driver::store::MemoryStore;
///
/// # struct Canned;
/// # impl AsyncExchange for Canned {
/// #     async fn execute(&self, _: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, Error> {
/// #         Ok(http::Response::new(br#"{"access_token":"at-2","token_type":"Bearer","expires_in":3600}"#.to_vec()))
/// #     }
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let transport = Canned;
/// let client = ClientConfig::new("https://id.example/token", "my-app")?;
/// let store = MemoryStore::with_tokens(TokenSet::from_refresh_token(RefreshToken::new("rt-1")));
/// let manager = TokenManager::new(transport, client, store);
///
/// let tasks: Vec<_> = (0..8)
///     .map(|_| {
///         let manager = manager.clone();
///         tokio::spawn(async move {
///             let token = manager.access_token().await?;
///             // ... call the API with the token; on a 401 `invalid_token`:
///             manager.invalidate(&token);
///             Ok::<_, Error>(())
///         })
///     })
///     .collect();
/// for task in tasks {
///     task.await??;
/// }
/// # Ok(())
/// # }
/// ```
pub struct TokenManager<X, S, C = SystemClock> {
    inner: Arc<Shared<X, S, C, Refresh>>,
}

/// The refresh path: a task of its own, which callers wait for.
struct Refresh {
    /// The refresh in flight, if any: its outcome arrives on this channel.
    flight: Mutex<Option<watch::Receiver<Option<Outcome>>>>,
    /// Held by the task that drives a refresh.
    session: tokio::sync::Mutex<Session>,
}

type Outcome = Arc<Result<AccessToken, Error>>;

manager_api!(TokenManager where X: AsyncExchange, S: AsyncTokenStore, 'static);

impl<X, S, C> TokenManager<X, S, C>
where
    X: AsyncExchange + Send + Sync + 'static,
    S: AsyncTokenStore + 'static,
    C: Clock + 'static,
{
    /// A manager driving `session` that reads the time from `clock` (see the blocking
    /// manager's [`with_clock`](crate::blocking::TokenManager::with_clock)).
    #[must_use]
    pub fn with_clock(exchange: X, session: Session, store: S, clock: C) -> Self {
        let inner = Shared::new(exchange, store, clock, session, |session| Refresh {
            flight: Mutex::new(None),
            session: tokio::sync::Mutex::new(session),
        });
        Self { inner: Arc::new(inner) }
    }

    /// A valid access token: the current one while it is fresh (no lock, no I/O, ready at
    /// once), otherwise the result of a refresh, shared with every task that asked
    /// meanwhile.
    ///
    /// # Errors
    ///
    /// As the blocking manager's
    /// [`access_token`](crate::blocking::TokenManager::access_token); also
    /// [`Error::Transport`] with [`TransportErrorKind::Other`] when the refresh task
    /// panicked.
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        let inner = &self.inner;
        if let Some(token) = inner.fresh_token() {
            return Ok(token);
        }
        let mut outcome = {
            let mut flight = inner.refresh.flight.lock().unwrap_or_else(PoisonError::into_inner);
            // A refresh that ended just now published its token before leaving the flight.
            if let Some(token) = inner.fresh_token() {
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
                        let outcome = run(&inner, false).await;
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
    /// As [`access_token`](Self::access_token); a failure is reported even when the current
    /// access token is still valid.
    pub async fn force_refresh(&self) -> Result<AccessToken, Error> {
        let inner = Arc::clone(&self.inner);
        match tokio::spawn(async move { run(&inner, true).await }).await {
            Ok(outcome) => outcome,
            Err(_) => Err(task_failed("the refresh task panicked")),
        }
    }
}

impl<X, S, C> TokenManager<X, S, C>
where
    X: AsyncExchange + Send + Sync + 'static,
    S: AsyncTokenStore + 'static,
    C: Clock + 'static,
{
    /// Signs the user out, in one call: revokes the stored refresh token at
    /// `revocation_endpoint`, clears the store, signs the session out and takes the access
    /// token off the fresh path; afterwards [`access_token`](Self::access_token) fails with
    /// [`Error::is_reauth_required`]. See the blocking manager's
    /// [`revoke`](crate::blocking::TokenManager::revoke) for what is locked and when.
    ///
    /// It runs in a task of its own, which completes even if this future is dropped (so a
    /// revocation the provider accepted is always followed by the store's clearing).
    ///
    /// ```
    /// use oidc_refresh_core::{ClientConfig, Error, RefreshToken, http};
    /// use oidc_refresh_driver::asynchronous::{AsyncExchange, TokenManager};
    /// use oidc_refresh_driver::store::MemoryStore;
    ///
    /// # struct Canned;
    /// # impl AsyncExchange for Canned {
    /// #     async fn execute(&self, _: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, Error> {
    /// #         Ok(http::Response::new(Vec::new())) // a revocation's 200
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let transport = Canned;
    /// let client = ClientConfig::new("https://id.example/token", "my-app")?;
    /// let store = MemoryStore::from_refresh_token(RefreshToken::new("rt-1"));
    /// let manager = TokenManager::new(transport, client, store);
    ///
    /// manager.revoke("https://id.example/revoke").await?; // the user signed out
    /// assert!(manager.access_token().await.is_err_and(|e| e.is_reauth_required()));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As the blocking manager's [`revoke`](crate::blocking::TokenManager::revoke); also
    /// [`Error::Transport`] with [`TransportErrorKind::Other`] when its task panicked.
    pub async fn revoke(&self, revocation_endpoint: &str) -> Result<(), Error> {
        let inner = Arc::clone(&self.inner);
        let endpoint = revocation_endpoint.to_owned();
        match tokio::spawn(async move { revoke(&inner, &endpoint).await }).await {
            Ok(outcome) => outcome,
            Err(_) => Err(task_failed("the revocation task panicked")),
        }
    }
}

/// The body of a revocation task: the session's lock (no refresh runs meanwhile), then the
/// shared steps.
async fn revoke<X, S, C>(inner: &Shared<X, S, C, Refresh>, revocation_endpoint: &str) -> Result<(), Error>
where
    X: AsyncExchange + Send + Sync + 'static,
    S: AsyncTokenStore + 'static,
    C: Clock + 'static,
{
    let mut session = inner.refresh.session.lock().await;
    revoke_grant! {
        session: &mut session,
        shared: inner,
        endpoint: revocation_endpoint,
        await: [.await]
    }
}

/// Leaves the flight when the refresh task ends, even by a panic, so that the next caller
/// starts a new refresh instead of waiting for a dead one.
struct LeaveFlight<X, S, C>(Arc<Shared<X, S, C, Refresh>>);

impl<X, S, C> Drop for LeaveFlight<X, S, C> {
    fn drop(&mut self) {
        *self.0.refresh.flight.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// One run of the session's loop: the body of a refresh task.
async fn run<X, S, C>(inner: &Shared<X, S, C, Refresh>, force: bool) -> Result<AccessToken, Error>
where
    X: AsyncExchange + Send + Sync + 'static,
    S: AsyncTokenStore + 'static,
    C: Clock + 'static,
{
    let mut session = inner.refresh.session.lock().await;
    crate::fresh::before_run(&mut session, &inner.fresh, force);
    let outcome = AsyncDrive::new(&inner.exchange, &inner.store, &inner.clock).run(&mut session).await;
    crate::fresh::after_run(outcome, &inner.fresh)
}

fn task_failed(what: &str) -> Error {
    let e: Error = TransportError::new(TransportErrorKind::Other, what.to_owned()).into();
    log::manager_failure(&e);
    e
}
