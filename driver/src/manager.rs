//! What the blocking and the async token manager share: the parts they hold ([`Shared`]) and
//! their common API ([`manager_api!`]), written once. They differ only in how a refresh is
//! run and waited for.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;

use oidc_refresh_core::{AccessToken, Error, Session};

use crate::clock::Clock;
use crate::fresh::Fresh;
use crate::log;

/// A manager's transport, store and clock, its fresh path, and its mode's refresh state `R`.
pub(crate) struct Shared<X, S, C, R> {
    pub(crate) exchange: X,
    pub(crate) store: S,
    pub(crate) clock: C,
    pub(crate) fresh: Fresh,
    pub(crate) refresh: R,
}

impl<X, S, C: Clock, R> Shared<X, S, C, R> {
    /// The parts, with `refresh` made from `session`, whose jitter is seeded here from a
    /// random value (managers of one grant must not retry in step).
    pub(crate) fn new(
        exchange: X,
        store: S,
        clock: C,
        session: Session,
        refresh: impl FnOnce(Session) -> R,
    ) -> Self {
        let seed = RandomState::new().hash_one(clock.now().duration_since_epoch());
        let refresh = refresh(session.with_jitter_seed(seed));
        Self { exchange, store, clock, fresh: Fresh::default(), refresh }
    }

    /// The fresh path: the access token while it is fresh at the clock's time.
    pub(crate) fn fresh_token(&self) -> Option<AccessToken> {
        self.fresh.get(self.clock.now())
    }
}

impl<X: fmt::Debug, S: fmt::Debug, C, R> Shared<X, S, C, R> {
    /// Shows the transport, the store and until when the token is fresh; never a token.
    pub(crate) fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("transport", &self.exchange)
            .field("store", &self.store)
            .field("fresh_until", &self.fresh.fresh_until())
            .finish_non_exhaustive()
    }
}

/// The API both managers have, for a manager type holding `inner: Arc<Shared<..>>`: cheap
/// clones, the constructors (`new`, `with_session` on the system clock; `with_clock` is the
/// mode's own), `store`, `exchange`, `invalidate` and a `Debug` that shows no token.
macro_rules! manager_api {
    ($manager:ident where X: $exchange:path, S: $store:path $(, $extra:tt)*) => {
        impl<X, S, C> Clone for $manager<X, S, C> {
            fn clone(&self) -> Self {
                Self { inner: ::std::sync::Arc::clone(&self.inner) }
            }
        }

        impl<X, S> $manager<X, S, $crate::SystemClock>
        where
            X: $exchange + Send + Sync $(+ $extra)*,
            S: $store $(+ $extra)*,
        {
            /// A manager for `client`'s grant kept in `store`, with the session's defaults (60 s
            /// early-refresh margin, 300 s lifetime when `expires_in` is absent, 3 attempts)
            /// and the system clock.
            #[must_use]
            pub fn new(exchange: X, client: ::oidc_refresh_core::ClientConfig, store: S) -> Self {
                Self::with_session(exchange, ::oidc_refresh_core::Session::new(client), store)
            }

            /// A manager driving `session` (configured with its `with_*` methods; its jitter
            /// is seeded here from a random value), with the system clock.
            #[must_use]
            pub fn with_session(exchange: X, session: ::oidc_refresh_core::Session, store: S) -> Self {
                Self::with_clock(exchange, session, store, $crate::SystemClock)
            }
        }

        impl<X, S, C> $manager<X, S, C> {
            /// The store.
            #[must_use]
            pub fn store(&self) -> &S {
                &self.inner.store
            }

            /// The transport.
            #[must_use]
            pub fn exchange(&self) -> &X {
                &self.inner.exchange
            }

            /// An API refused `access_token` (HTTP 401 `invalid_token`): the next
            /// `access_token` refreshes, once, however many callers report the same token.
            /// Reporting a token that was already replaced changes nothing. Never waits for a
            /// refresh in flight.
            pub fn invalidate(&self, access_token: &::oidc_refresh_core::AccessToken) {
                self.inner.fresh.invalidate(access_token);
            }
        }

        /// Shows the transport, the store and until when the token is fresh; never a token.
        impl<X: ::std::fmt::Debug, S: ::std::fmt::Debug, C> ::std::fmt::Debug for $manager<X, S, C> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.inner.debug(f)
            }
        }
    };
}

pub(crate) use manager_api;

/// The body of both managers' `revoke`, written once: `$session` is the manager's session
/// (its refresh lock held by the caller, so no refresh runs meanwhile), `$shared` its
/// [`Shared`] parts. Under the store's lock: load the stored set, revoke its refresh token
/// through the manager's exchange (with the session's client), clear the store, then
/// [`after_revoke`]. Each store call and the exchange are followed by the tokens in
/// `[$($aw)*]` (nothing when blocking, `.await` when async), as in `session_loop!`.
/// Evaluates to `Result<(), Error>`; returns early (`?`) with the session and the store
/// untouched when the store cannot be read or the revocation fails.
macro_rules! revoke_grant {
    (
        session: $session:expr,
        shared: $shared:expr,
        endpoint: $endpoint:expr,
        await: [$($aw:tt)*]
    ) => {{
        use ::oidc_refresh_core::{Error, StoreError};
        let session: &mut ::oidc_refresh_core::Session = $session;
        let shared = $shared;
        // From now on no caller is handed the access token without the refresh lock: they
        // wait for this call, and then find the session signed out (or, after a failure, the
        // token as it was).
        shared.fresh.clear();
        let mut guard = shared.store.lock() $($aw)* .map_err(|e| Error::from(StoreError::read(e)))?;
        let loaded = guard.load() $($aw)*;
        let stored =
            $crate::run::checked_load(loaded, false).map_err(|e| Error::from(StoreError::read(e)))?;
        let outcome = match stored {
            None => Ok(false),
            Some(set) => {
                let (request, revocation) =
                    $crate::oneshot::Revocation::start(session.client(), $endpoint, &set.refresh_token)?;
                revocation.finish(shared.exchange.execute(request) $($aw)*)?;
                guard.clear() $($aw)* .map(|()| true).map_err(|e| Error::from(StoreError::write(e, None)))
            }
        };
        drop(guard);
        $crate::manager::after_revoke(session, &shared.fresh, outcome)
    }};
}

pub(crate) use revoke_grant;

/// After a revocation that succeeded (`Ok(true)`), or found nothing to revoke (`Ok(false)`),
/// or succeeded with a store that could not be cleared (`Err`): the session is signed out
/// and nothing is fresh any more, so that every caller is told to sign in again (the
/// tokens the session held are revoked, or were already gone from the store).
pub(crate) fn after_revoke(
    session: &mut Session,
    fresh: &Fresh,
    outcome: Result<bool, Error>,
) -> Result<(), Error> {
    session.sign_out();
    fresh.clear();
    match outcome {
        Ok(revoked) => {
            log::signed_out(revoked);
            Ok(())
        }
        Err(e) => {
            log::revoked_not_cleared(&e);
            Err(e)
        }
    }
}
