//! The blocking side: [`Exchange`] (all a blocking transport does), the one-shot calls built
//! on it ([`discover`], [`refresh_tokens`], [`revoke`]), [`Drive`] (the session's loop) and
//! [`TokenManager`].

use oidc_refresh_core::ProviderMetadata;
use oidc_refresh_core::http::{Request, Response};
use oidc_refresh_core::{
    AuthResult, ClientConfig, Continuity, Error, IdTokenPayload, RefreshParams, RefreshToken,
};

use crate::clock::Clock;
use crate::oneshot;

mod drive;
mod manager;

pub use drive::Drive;
pub use manager::TokenManager;

/// What a blocking transport does: send one request and return the response with its whole
/// body, whatever its status. Everything else (building requests, reading responses, the
/// session's policy) is done around it, the same for every transport.
///
/// An implementation refuses what the crate docs promise it refuses: a URL the core's
/// [`parse_endpoint`](oidc_refresh_core::parse_endpoint) refuses (nothing is sent), any
/// redirect, a body over its cap, an exchange past its deadline.
pub trait Exchange {
    /// Sends `request` once and returns the response, its body read in full.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a URL that must not be used; [`Error::Transport`] for
    /// everything the network did (connect, timeout, TLS, redirect, body cap, interrupted).
    fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error>;
}

impl<X: Exchange + ?Sized> Exchange for &X {
    fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
        X::execute(self, request)
    }
}

/// OpenID discovery through `exchange`: fetches `{issuer}/.well-known/openid-configuration`
/// (a trailing `/` of `issuer` removed) and checks that the document names exactly `issuer`
/// and an https (or loopback http) token endpoint.
///
/// # Errors
///
/// [`Error::Config`] for an unusable issuer URL, the errors of [`Exchange::execute`], and
/// [`Error::Protocol`] for a document that is not a 2xx JSON object, names another issuer or
/// lacks a usable token endpoint.
pub fn discover<X: Exchange + ?Sized>(exchange: &X, issuer: &str) -> Result<ProviderMetadata, Error> {
    let (request, discovery) = oneshot::Discovery::start(issuer)?;
    discovery.finish(exchange.execute(request))
}

/// One refresh (RFC 6749 §6) through `exchange`: builds the request, sends it once, and
/// checks the response against `client` and `previous_id_token` (OIDC Core §12.2) at the
/// time `clock` reads when it arrives. Never retries.
///
/// # Errors
///
/// [`Error::Config`] for a refresh token, scope or client the core refuses (nothing is sent),
/// the errors of [`Exchange::execute`], [`Error::Server`] for an OAuth error
/// (`invalid_grant`: [`Error::is_reauth_required`]), [`Error::Protocol`] for a response that
/// breaks the protocol, [`Error::IdToken`] for an ID token that fails validation. The last
/// two may hold a rotated refresh token ([`Error::take_rotated_refresh_token`]): store it.
pub fn refresh_tokens<X: Exchange + ?Sized, C: Clock + ?Sized>(
    exchange: &X,
    clock: &C,
    client: &ClientConfig,
    params: &RefreshParams<'_>,
    previous_id_token: Option<&IdTokenPayload>,
) -> Result<(AuthResult, Continuity), Error> {
    let (request, refresh) = oneshot::Refresh::start(client, params, previous_id_token)?;
    let exchanged = exchange.execute(request);
    refresh.finish(exchanged, clock.now())
}

/// Revokes `refresh_token` (RFC 7009) at `revocation_endpoint` through `exchange`: one
/// `POST` with `token_type_hint=refresh_token`, the client authenticated as for a refresh.
/// Any 200 is success, whatever its body (a token the server no longer knows counts as
/// revoked). Most providers end the grant's access tokens too; sign the user in again.
/// Never retries. The endpoint is the discovery document's
/// [`revocation_endpoint`](ProviderMetadata::revocation_endpoint), or your provider's.
///
/// Revoking the refresh token a store holds and clearing the store is one call of a token
/// manager: [`TokenManager::revoke`].
///
/// # Errors
///
/// [`Error::Config`] for an endpoint that is not https (plain http only to a loopback host),
/// or a refresh token or client the core refuses (nothing is sent); the errors of
/// [`Exchange::execute`]; [`Error::Server`] for an OAuth error (`invalid_client`,
/// `unsupported_token_type`, ...); [`Error::Protocol`] for any other answer than 200.
pub fn revoke<X: Exchange + ?Sized>(
    exchange: &X,
    client: &ClientConfig,
    revocation_endpoint: &str,
    refresh_token: &RefreshToken,
) -> Result<(), Error> {
    let (request, revocation) = oneshot::Revocation::start(client, revocation_endpoint, refresh_token)?;
    revocation.finish(exchange.execute(request))
}

/// [`refresh_tokens`], with the ID token's signature verified (OIDC Core §3.1.3.7) before
/// its claims are checked: with the keys `keys` holds, fetched through `exchange` from its
/// `jwks_uri` when they lack the token's key (at most once per call; a second time only in
/// another call, after the cache's cool-down), or with the client secret for HS256/384/512.
///
/// # Errors
///
/// Those of [`refresh_tokens`]; [`Error::IdToken`] with
/// [`IdTokenErrorKind::Signature`](oidc_refresh_core::IdTokenErrorKind::Signature) for a
/// signature that does not verify; for a key set that could not be fetched, the errors of
/// [`Exchange::execute`], and [`Error::Protocol`] for one that is not a JWK Set. Each keeps a
/// rotated refresh token ([`Error::take_rotated_refresh_token`]): store it.
#[cfg(feature = "verify")]
pub fn refresh_tokens_verified<X: Exchange + ?Sized, C: Clock + ?Sized>(
    exchange: &X,
    clock: &C,
    client: &ClientConfig,
    params: &RefreshParams<'_>,
    previous_id_token: Option<&IdTokenPayload>,
    keys: &mut oidc_refresh_core::KeySetCache,
) -> Result<(AuthResult, Continuity), Error> {
    let (request, refresh) = oneshot::Refresh::start(client, params, previous_id_token)?;
    let mut step = refresh.receive_verified(exchange.execute(request), keys, clock.now());
    loop {
        match step {
            oneshot::Step::Done(outcome) => return outcome,
            oneshot::Step::Fetch(request, verifying) => {
                step = verifying.keys_fetched(exchange.execute(request), keys, clock.now());
            }
        }
    }
}
