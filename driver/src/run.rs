//! The one loop that runs a [`Session`], written once for both sides: [`session_loop!`]
//! expands to the blocking loop of [`Drive`](crate::blocking::Drive) and, with `.await` after
//! each I/O call, to the async loop of `AsyncDrive`. The policy of the loop (the store's lock
//! from `Load` to the end, what is checked before the session sees it, what is logged, how
//! the outcome is told) exists once.

use oidc_refresh_core::{Error, Session, TokenSet, TransportError, TransportErrorKind};

use crate::log::TARGET;
use crate::outcome::Via;

/// Decides, before each request the session hands out, whether to send it: `Ok(true)` sends
/// it; `Ok(false)` means the hook changed the session's client
/// ([`Session::set_client`], after OpenID discovery, say), which withdraws the request, and
/// the session is polled again; an error is the attempt's failure.
pub type BeforeSend<'a> = dyn FnMut(&mut Session) -> Result<bool, Error> + Send + 'a;

/// A store's or a hook's error, boxed as the session takes it.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The stored set, [checked](TokenSet::checked) before the session sees it. A store found
/// empty under the lock while the session holds tokens was emptied or removed meanwhile (a
/// sign-out, a revocation): a store failure, never an empty store to refresh into.
pub(crate) fn checked_load<E: std::error::Error + Send + Sync + 'static>(
    loaded: Result<Option<TokenSet>, E>,
    session_holds_tokens: bool,
) -> Result<Option<TokenSet>, BoxError> {
    match loaded {
        Ok(Some(set)) => set.checked().map(Some).map_err(|e| Box::new(e) as BoxError),
        Ok(None) if session_holds_tokens => Err(Box::new(StoreEmptied)),
        Ok(None) => Ok(None),
        Err(e) => Err(Box::new(e)),
    }
}

/// How many times one run lets the store's lock lapse before a request and takes it again;
/// once more is a store failure ([`LockLapsed`]).
pub(crate) const MAX_LAPSES: u32 = 3;

/// The store's lock lapsed again and again before a request could be sent: the lease is
/// shorter than the time this process takes between reading the store and sending.
#[derive(Debug, thiserror::Error)]
#[error(
    "the store's lock lapsed {0} times before the refresh request could be sent: its lease is too short for this process"
)]
pub struct LockLapsed(pub u32);

/// The store held a token set and holds none any more.
#[derive(Debug, thiserror::Error)]
#[error("the store holds no token set any more: it was emptied or removed while in use")]
pub struct StoreEmptied;

/// How the run came to its token, from whether it locked the store and sent requests.
pub(crate) fn via(locked: bool, requests: u32) -> Via {
    let via = match (locked, requests) {
        (false, _) => Via::Fresh,
        (true, 0) => Via::Adopted,
        (true, _) => Via::Refreshed,
    };
    match via {
        Via::Fresh => tracing::debug!(target: TARGET, "the stored access token is fresh: no request"),
        Via::Adopted => tracing::debug!(target: TARGET, "another run refreshed meanwhile: no request"),
        Via::Refreshed => tracing::debug!(target: TARGET, "the new token set is stored"),
    }
    via
}

/// The wait before a retry, logged.
pub(crate) fn wait_logged(wait: std::time::Duration) -> std::time::Duration {
    let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    tracing::debug!(target: TARGET, wait_ms, "transient failure: retrying");
    wait
}

/// A session action this driver does not know (a newer core's): the step is given up.
pub(crate) fn unexpected(session: &mut Session, action: &dyn std::fmt::Debug) -> Error {
    session.abandon();
    TransportError::new(TransportErrorKind::Other, format!("unexpected session action {action:?}")).into()
}

/// The session's loop. `$store.lock()`, `guard.load()`, `guard.save(..)` and
/// `$exchange.execute(..)` are the store's and the transport's calls, each followed by the
/// tokens in `[$($aw)*]` (nothing for the blocking loop, `.await` for the async one);
/// `$sleep` sleeps for a `Duration` the same way. Evaluates to `Result<Ready, Error>`.
macro_rules! session_loop {
    (
        session: $session:expr,
        clock: $clock:expr,
        store: $store:expr,
        exchange: $exchange:expr,
        before_send: $before_send:expr,
        sleep: |$wait:ident| $sleep:expr,
        await: [$($aw:tt)*]
    ) => {{
        use ::oidc_refresh_core::Action;
        let session: &mut ::oidc_refresh_core::Session = $session;
        let mut lock = None;
        let mut requests = 0_u32;
        // Times the store's lock lapsed before a request could be sent (a lease store).
        let mut lapsed = 0_u32;
        loop {
            let now = $clock.now();
            // Each input the session is given; out of step, it is this loop's bug.
            let in_step: Result<(), ::oidc_refresh_core::OutOfStep> = match session.poll(now) {
                Action::Ready { access_token, fresh_until, refresh_error } => {
                    let via = $crate::run::via(lock.is_some(), requests);
                    drop(lock); // unlock only once the new set is stored
                    break Ok($crate::Ready { access_token, fresh_until, refresh_error, via });
                }
                Action::Load => {
                    // A lock this run held already (it lapsed, or the store kept a newer
                    // set) is let go before it is taken again.
                    drop(lock.take());
                    ::tracing::debug!(target: $crate::log::TARGET, "taking the store's lock");
                    match $store.lock() $($aw)* {
                        Ok(guard) => {
                            ::tracing::debug!(target: $crate::log::TARGET, "store locked");
                            let loaded = lock.insert(guard).load() $($aw)*;
                            let holds_tokens = session.tokens().is_some();
                            session.handle_loaded($crate::run::checked_load(loaded, holds_tokens))
                        }
                        Err(e) => session.handle_loaded(Err(e)),
                    }
                }
                Action::Send(request) => {
                    let proceed = match $before_send {
                        Some(hook) => hook(session),
                        None => Ok(true),
                    };
                    let held = match (&proceed, lock.as_mut()) {
                        (Ok(true), Some(guard)) => guard.confirm() $($aw)*,
                        _ => Ok(true),
                    };
                    match (proceed, held) {
                        (Ok(true), Ok(false)) if lapsed < $crate::run::MAX_LAPSES => {
                            lapsed += 1;
                            ::tracing::warn!(target: $crate::log::TARGET, lapsed,
                                "the store's lock lapsed before the request was sent: reading the store again");
                            drop(lock.take());
                            session.handle_lock_lost()
                        }
                        (Ok(true), Ok(false)) => session.handle_transport_error(
                            $clock.now(),
                            ::oidc_refresh_core::StoreError::read($crate::run::LockLapsed(lapsed + 1)).into(),
                        ),
                        (Ok(true), Err(e)) => session.handle_transport_error(
                            $clock.now(),
                            ::oidc_refresh_core::StoreError::read(e).into(),
                        ),
                        (Ok(true), Ok(true)) => {
                            requests += 1;
                            ::tracing::debug!(target: $crate::log::TARGET, attempt = requests,
                                "refreshing with the stored refresh token");
                            match $exchange.execute(request) $($aw)* {
                                Ok(response) => session.handle_response($clock.now(), &response),
                                Err(e) => session.handle_transport_error($clock.now(), e),
                            }
                        }
                        // The hook changed the session's client: the request is withdrawn.
                        (Ok(false), _) => Ok(()),
                        (Err(e), _) => session.handle_transport_error($clock.now(), e),
                    }
                }
                #[cfg(feature = "verify")]
                Action::FetchKeys(request) => {
                    ::tracing::debug!(target: $crate::log::TARGET, uri = %request.uri(),
                        "fetching the provider's key set");
                    match $exchange.execute(request) $($aw)* {
                        Ok(response) => session.handle_key_set_response($clock.now(), &response),
                        Err(e) => session.handle_key_set_error($clock.now(), e),
                    }
                }
                Action::Store(tokens) => match lock.as_mut() {
                    Some(guard) => match guard.save_if_unchanged(&tokens) $($aw)* {
                        Ok($crate::store::Saved::Written) => {
                            session.handle_stored(Ok::<(), $crate::run::BoxError>(()))
                        }
                        Ok($crate::store::Saved::Superseded) => {
                            ::tracing::warn!(target: $crate::log::TARGET,
                                "the store holds a newer set written meanwhile: adopting it, not writing ours");
                            drop(lock.take());
                            session.handle_superseded()
                        }
                        Err(e) => session.handle_stored(Err(e)),
                    },
                    None => session.handle_stored(Err("the store is not locked")),
                },
                Action::Wait(until) => {
                    let $wait = $crate::run::wait_logged(until.saturating_duration_since(now));
                    $sleep;
                    Ok(())
                }
                // One driver never sees a step out (only after a run that was cancelled or
                // panicked half-way): the step is given up and the session starts afresh.
                Action::Pending => {
                    session.abandon();
                    Ok(())
                }
                Action::Failed(e) | Action::SignIn(e) => break Err(e),
                other => break Err($crate::run::unexpected(session, &other)),
            };
            if let Err(e) = in_step {
                session.abandon();
                break Err(e.into());
            }
        }
    }};
}

pub(crate) use session_loop;
