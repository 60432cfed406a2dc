//! The one-shot calls (OpenID discovery, one refresh) as two halves around the exchange, so
//! that the blocking and the async side share everything but the waiting.

use oidc_refresh_core::http::{Request, Response};
use oidc_refresh_core::{
    AuthResult, ClientConfig, Continuity, Error, IdTokenPayload, RefreshParams, UnixTime,
    build_refresh_request, check_refresh_response,
};
use oidc_refresh_core::{ProviderMetadata, build_discovery_request, parse_discovery_response};

use crate::log;

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
