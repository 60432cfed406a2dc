//! The one-shot calls (OpenID discovery, one refresh, one revocation) as two halves around
//! the exchange, so that the blocking and the async side share everything but the waiting.

use oidc_refresh_core::http::{Request, Response};
use oidc_refresh_core::{
    AuthResult, ClientConfig, Continuity, Error, IdTokenPayload, RefreshParams, RefreshToken, UnixTime,
    build_refresh_request, build_revocation_request, check_refresh_response, parse_revocation_response,
};
use oidc_refresh_core::{ProviderMetadata, build_discovery_request, parse_discovery_response};

use crate::log;
#[cfg(feature = "verify")]
use oidc_refresh_core::{
    IdTokenError, KeySetCache, SignatureCheck, check_id_token_signature, parse_refresh_response,
    validate_auth_result,
};

/// What a discovery does once its response (or failure) is in.
pub(crate) struct Discovery<'a> {
    issuer: &'a str,
    host: String,
}

impl<'a> Discovery<'a> {
    /// The request, and what to do with its outcome.
    pub(crate) fn start(issuer: &'a str) -> Result<(Request<Vec<u8>>, Self), Error> {
        let request = build_discovery_request(issuer)?;
        let host = request.uri().host().unwrap_or_default().to_owned();
        Ok((request, Self { issuer, host }))
    }

    /// Reads the document, logs the outcome.
    pub(crate) fn finish(
        self,
        exchanged: Result<Response<Vec<u8>>, Error>,
    ) -> Result<ProviderMetadata, Error> {
        let outcome = exchanged.and_then(|response| parse_discovery_response(&response, self.issuer));
        log::discovery_outcome(&self.host, &outcome);
        outcome
    }
}

/// What one revocation (RFC 7009) does once its response (or failure) is in.
pub(crate) struct Revocation {
    host: String,
}

impl Revocation {
    /// The request that revokes `refresh_token` (refused before anything is sent when the
    /// core refuses it), and what to do with its outcome.
    pub(crate) fn start(
        client: &ClientConfig,
        revocation_endpoint: &str,
        refresh_token: &RefreshToken,
    ) -> Result<(Request<Vec<u8>>, Self), Error> {
        let request = build_revocation_request(client, revocation_endpoint, refresh_token)?;
        let host = request.uri().host().unwrap_or_default().to_owned();
        log::revocation_attempt(&host);
        Ok((request, Self { host }))
    }

    /// Reads the answer, logs the outcome.
    pub(crate) fn finish(self, exchanged: Result<Response<Vec<u8>>, Error>) -> Result<(), Error> {
        let outcome = exchanged.and_then(|response| parse_revocation_response(&response));
        log::revocation_outcome(&self.host, &outcome);
        outcome
    }
}

/// What one refresh does once its response (or failure) is in.
pub(crate) struct Refresh<'a> {
    client: &'a ClientConfig,
    params: &'a RefreshParams<'a>,
    previous_id_token: Option<&'a IdTokenPayload>,
    host: &'a str,
}

impl<'a> Refresh<'a> {
    /// The request (refused before anything is sent when the core refuses it), and what to
    /// do with its outcome.
    pub(crate) fn start(
        client: &'a ClientConfig,
        params: &'a RefreshParams<'a>,
        previous_id_token: Option<&'a IdTokenPayload>,
    ) -> Result<(Request<Vec<u8>>, Self), Error> {
        let request = build_refresh_request(client, params)?;
        let host = client.token_endpoint().host().unwrap_or_default();
        log::refresh_attempt(host);
        Ok((request, Self { client, params, previous_id_token, host }))
    }

    /// Checks the response against the client and the previous ID token at `now` (when it
    /// arrived), logs the outcome.
    pub(crate) fn finish(
        self,
        exchanged: Result<Response<Vec<u8>>, Error>,
        now: UnixTime,
    ) -> Result<(AuthResult, Continuity), Error> {
        let outcome = exchanged
            .and_then(|response| check_refresh_response(self.client, &response, self.previous_id_token, now));
        log::refresh_outcome(self.host, self.params.refresh_token(), &outcome);
        outcome
    }
}

/// A one-shot refresh whose ID token's signature is verified: the response, waiting for the
/// key set to be fetched (at most once).
#[cfg(feature = "verify")]
pub(crate) struct Verifying<'a> {
    refresh: Refresh<'a>,
    result: AuthResult,
}

/// What a verified one-shot refresh does next.
#[cfg(feature = "verify")]
#[allow(clippy::large_enum_variant)] // the outcome, moved once; the rarer fetch is boxed
pub(crate) enum Step<'a> {
    /// Fetch the key set with this request, then [`Verifying::keys_fetched`].
    Fetch(Request<Vec<u8>>, Box<Verifying<'a>>),
    /// The outcome, logged.
    Done(Result<(AuthResult, Continuity), Error>),
}

#[cfg(feature = "verify")]
impl<'a> Refresh<'a> {
    /// The response is in: its ID token's signature is checked with `keys` (a fetch asked
    /// for when they lack its key), then its claims.
    pub(crate) fn receive_verified(
        self,
        exchanged: Result<Response<Vec<u8>>, Error>,
        keys: &KeySetCache,
        now: UnixTime,
    ) -> Step<'a> {
        match exchanged.and_then(|response| parse_refresh_response(&response)) {
            Ok(result) => self.verify(result, keys, now, true),
            Err(e) => self.done(Err(e), now),
        }
    }

    fn verify(self, result: AuthResult, keys: &KeySetCache, now: UnixTime, may_fetch: bool) -> Step<'a> {
        match check_id_token_signature(&result, keys, self.client, now, may_fetch) {
            Ok(SignatureCheck::FetchKeys) => {
                Step::Fetch(keys.build_request(), Box::new(Verifying { refresh: self, result }))
            }
            Ok(_) => {
                let outcome =
                    validate_auth_result(result, &self.client.expectations(), self.previous_id_token, now);
                self.done(outcome, now)
            }
            Err(kind) => {
                let error = Error::from(IdTokenError::from(kind));
                let error = match result.into_refresh_token() {
                    Some(rotated) => error.with_rotated_refresh_token(rotated),
                    None => error,
                };
                self.done(Err(error), now)
            }
        }
    }

    fn done(self, outcome: Result<(AuthResult, Continuity), Error>, _now: UnixTime) -> Step<'a> {
        log::refresh_outcome(self.host, self.params.refresh_token(), &outcome);
        Step::Done(outcome)
    }
}

#[cfg(feature = "verify")]
impl<'a> Verifying<'a> {
    /// The key-set response (or failure) is in: the signature is checked again, never with
    /// a second fetch. A key set that could not be fetched or read fails the refresh, the
    /// rotated refresh token kept in the error (the one sent is spent).
    pub(crate) fn keys_fetched(
        self: Box<Self>,
        exchanged: Result<Response<Vec<u8>>, Error>,
        keys: &mut KeySetCache,
        now: UnixTime,
    ) -> Step<'a> {
        let read = match exchanged {
            Ok(response) => keys.handle_key_set_response(now, &response),
            Err(e) => {
                keys.handle_fetch_failed(now);
                Err(e)
            }
        };
        match read {
            Ok(()) => {
                let Verifying { refresh, result } = *self;
                refresh.verify(result, keys, now, false)
            }
            Err(error) => {
                let Verifying { refresh, result } = *self;
                let error = match result.into_refresh_token() {
                    Some(rotated) => error.with_rotated_refresh_token(rotated),
                    None => error,
                };
                refresh.done(Err(error), now)
            }
        }
    }
}
