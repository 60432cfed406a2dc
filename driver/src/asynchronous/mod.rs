//! The async side (feature `tokio`): [`AsyncExchange`] (all an async transport does), the
//! one-shot calls built on it ([`discover`], [`refresh_tokens`], [`revoke`]), [`AsyncDrive`] (the
//! session's loop) and [`TokenManager`]. The same policy as the [blocking](crate::blocking)
//! side, awaited instead of blocked on; it needs a tokio runtime (its timer, and
//! `tokio::spawn` for the manager's refresh task).

use std::future::Future;

use oidc_refresh_core::ProviderMetadata;
use oidc_refresh_core::http::{Request, Response};
use oidc_refresh_core::{
    AuthResult, ClientConfig, Continuity, Error, IdTokenPayload, RefreshParams, RefreshToken,
};

use crate::clock::Clock;
use crate::oneshot;

mod drive;
mod manager;

pub use drive::AsyncDrive;
pub use manager::TokenManager;

/// What an async transport does: send one request and return the response with its whole
/// body, whatever its status (see [`Exchange`](crate::blocking::Exchange) for what it must
/// refuse). The future is `Send`.
pub trait AsyncExchange {
    /// Sends `request` once and returns the response, its body read in full.
    ///
    /// # Errors
    ///
    /// As [`Exchange::execute`](crate::blocking::Exchange::execute).
    fn execute(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, Error>> + Send;
}

/// OpenID discovery through `exchange`: see [`blocking::discover`](crate::blocking::discover).
///
/// # Errors
///
/// As [`blocking::discover`](crate::blocking::discover).
pub async fn discover<X: AsyncExchange + ?Sized>(
    exchange: &X,
    issuer: &str,
) -> Result<ProviderMetadata, Error> {
    let (request, discovery) = oneshot::Discovery::start(issuer)?;
    discovery.finish(exchange.execute(request).await)
}

/// One refresh through `exchange`: see
/// [`blocking::refresh_tokens`](crate::blocking::refresh_tokens).
///
/// # Errors
///
/// As [`blocking::refresh_tokens`](crate::blocking::refresh_tokens).
pub async fn refresh_tokens<X: AsyncExchange + ?Sized, C: Clock + ?Sized>(
    exchange: &X,
    clock: &C,
    client: &ClientConfig,
    params: &RefreshParams<'_>,
    previous_id_token: Option<&IdTokenPayload>,
) -> Result<(AuthResult, Continuity), Error> {
    let (request, refresh) = oneshot::Refresh::start(client, params, previous_id_token)?;
    let exchanged = exchange.execute(request).await;
    refresh.finish(exchanged, clock.now())
}

/// Revokes `refresh_token` (RFC 7009) at `revocation_endpoint` through `exchange`: see
/// [`blocking::revoke`](crate::blocking::revoke). Revoking a store's refresh token and
/// clearing the store is one call: [`TokenManager::revoke`].
///
/// # Errors
///
/// As [`blocking::revoke`](crate::blocking::revoke).
pub async fn revoke<X: AsyncExchange + ?Sized>(
    exchange: &X,
    client: &ClientConfig,
    revocation_endpoint: &str,
    refresh_token: &RefreshToken,
) -> Result<(), Error> {
    let (request, revocation) = oneshot::Revocation::start(client, revocation_endpoint, refresh_token)?;
    revocation.finish(exchange.execute(request).await)
}

/// One refresh through `exchange`, its ID token's signature verified: see
/// [`blocking::refresh_tokens_verified`](crate::blocking::refresh_tokens_verified).
///
/// # Errors
///
/// As [`blocking::refresh_tokens_verified`](crate::blocking::refresh_tokens_verified).
#[cfg(feature = "verify")]
pub async fn refresh_tokens_verified<X: AsyncExchange + ?Sized, C: Clock + ?Sized>(
    exchange: &X,
    clock: &C,
    client: &ClientConfig,
    params: &RefreshParams<'_>,
    previous_id_token: Option<&IdTokenPayload>,
    keys: &mut oidc_refresh_core::KeySetCache,
) -> Result<(AuthResult, Continuity), Error> {
    let (request, refresh) = oneshot::Refresh::start(client, params, previous_id_token)?;
    let mut step = refresh.receive_verified(exchange.execute(request).await, keys, clock.now());
    loop {
        match step {
            oneshot::Step::Done(outcome) => return outcome,
            oneshot::Step::Fetch(request, verifying) => {
                step = verifying.keys_fetched(exchange.execute(request).await, keys, clock.now());
            }
        }
    }
}
