//! [`AsyncDrive`]: the session's loop, async, for the async
//! [`TokenManager`](super::TokenManager).

use oidc_refresh_core::{Error, Session};

use super::AsyncExchange;
use crate::clock::Clock;
use crate::outcome::Ready;
use crate::run::session_loop;
use crate::store::{AsyncStoreGuard, AsyncTokenStore};

/// One run of a [`Session`]'s loop, async: [`Drive`](crate::blocking::Drive)'s loop (the same
/// code) with every store call and request awaited and the backoffs slept on tokio's timer.
/// The store's lock is held by the task from `Load` to the end of the run.
///
/// ```
/// use oidc_refresh_core::{ClientConfig, Error, RefreshToken, Session, TokenSet, http};
/// use oidc_refresh_driver::asynchronous::{AsyncDrive, AsyncExchange};
/// use oidc_refresh_driver::store::MemoryStore;
/// use oidc_refresh_driver::SystemClock;
///
/// struct Canned;
/// impl AsyncExchange for Canned {
///     async fn execute(&self, _: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, Error> {
///         Ok(http::Response::new(br#"{"access_token":"at-2","token_type":"Bearer"}"#.to_vec()))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MemoryStore::with_tokens(TokenSet::from_refresh_token(RefreshToken::new("rt-1")));
/// let mut session = Session::new(ClientConfig::new("https://id.example/token", "my-app")?);
/// let ready = AsyncDrive::new(&Canned, &store, &SystemClock).run(&mut session).await?;
/// assert_eq!(ready.access_token.expose_secret(), "at-2");
/// # Ok(())
/// # }
/// ```
pub struct AsyncDrive<'a, X: ?Sized, S, C: ?Sized> {
    exchange: &'a X,
    store: &'a S,
    clock: &'a C,
}

impl<'a, X: AsyncExchange + Sync + ?Sized, S: AsyncTokenStore, C: Clock + ?Sized> AsyncDrive<'a, X, S, C> {
    /// A drive through `exchange`, with `store`, reading `clock`.
    #[must_use]
    pub fn new(exchange: &'a X, store: &'a S, clock: &'a C) -> Self {
        Self { exchange, store, clock }
    }

    /// Runs the session until it says `Ready`, `Failed` or `SignIn`.
    ///
    /// # Errors
    ///
    /// As [`Drive::run`](crate::blocking::Drive::run).
    pub async fn run(self, session: &mut Session) -> Result<Ready, Error> {
        session_loop! {
            session: session,
            clock: self.clock,
            store: self.store,
            exchange: self.exchange,
            before_send: None::<&mut crate::run::BeforeSend<'_>>,
            sleep: |wait| tokio::time::sleep(wait).await,
            await: [.await]
        }
    }
}
