//! [`Drive`]: the session's loop, blocking, for the blocking
//! [`TokenManager`](super::TokenManager) and the command line's `token`.

use oidc_refresh_core::{Error, Session};

use super::Exchange;
use crate::clock::Clock;
use crate::outcome::Ready;
use crate::run::{BeforeSend, session_loop};
use crate::store::{StoreGuard, TokenStore};

/// One run of a [`Session`]'s loop, blocking, until it has an access token or gives up: the
/// store's lock is taken from [`Action::Load`](oidc_refresh_core::Action::Load) to the end
/// of the run, requests go out through the [`Exchange`], backoffs are slept, and the time is
/// read from the clock once per step.
///
/// What the store holds is checked before the session sees it: a refresh token the core
/// would refuse to send, or a previous ID token that does not decode, is a store failure,
/// never a request.
///
/// ```
/// use oidc_refresh_core::{ClientConfig, Error, RefreshToken, Session, TokenSet, http};
/// use oidc_refresh_driver::blocking::{Drive, Exchange};
/// use oidc_refresh_driver::store::{MemoryStore, TokenStore};
/// use oidc_refresh_driver::{SystemClock, Via};
///
/// /// A canned server.
/// struct Canned;
/// impl Exchange for Canned {
///     fn execute(&self, _: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, Error> {
///         let body = br#"{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}"#;
///         Ok(http::Response::new(body.to_vec()))
///     }
/// }
///
/// let store = MemoryStore::with_tokens(TokenSet::from_refresh_token(RefreshToken::new("rt-1")));
/// let mut session = Session::new(ClientConfig::new("https://id.example/token", "my-app")?);
/// let ready = Drive::new(&Canned, &store, &SystemClock).run(&mut session)?;
/// assert_eq!(ready.access_token.expose_secret(), "at-2");
/// assert_eq!(ready.via, Via::Refreshed);
/// assert_eq!(store.load()?.map(|s| s.refresh_token), Some(RefreshToken::new("rt-2")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Drive<'a, X: ?Sized, S, C: ?Sized> {
    exchange: &'a X,
    store: &'a S,
    clock: &'a C,
    before_send: Option<&'a mut BeforeSend<'a>>,
}

impl<'a, X: Exchange + ?Sized, S: TokenStore, C: Clock + ?Sized> Drive<'a, X, S, C> {
    /// A drive through `exchange`, with `store`, reading `clock`.
    #[must_use]
    pub fn new(exchange: &'a X, store: &'a S, clock: &'a C) -> Self {
        Self { exchange, store, clock, before_send: None }
    }

    /// Calls `hook` before each request is sent (see [`BeforeSend`]).
    #[must_use]
    pub fn before_send(mut self, hook: &'a mut BeforeSend<'a>) -> Self {
        self.before_send = Some(hook);
        self
    }

    /// Runs the session until it says `Ready`, `Failed` or `SignIn`.
    ///
    /// # Errors
    ///
    /// The session's error once its attempts are spent: [`Error::is_reauth_required`] when
    /// the user must sign in again, [`Error::Store`] when the store failed (a rotated
    /// refresh token the store could not take is in it), and the transport's and the
    /// server's errors.
    pub fn run(mut self, session: &mut Session) -> Result<Ready, Error> {
        session_loop! {
            session: session,
            clock: self.clock,
            store: self.store,
            exchange: self.exchange,
            before_send: self.before_send.as_mut(),
            sleep: |wait| std::thread::sleep(wait),
            await: []
        }
    }
}
