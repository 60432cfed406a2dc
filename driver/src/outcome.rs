//! [`Ready`] and [`Via`]: how a drive of the session ended when it has a token.

use oidc_refresh_core::{AccessToken, Error, UnixTime};

/// How a drive came to its access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Via {
    /// The session's token was fresh: no lock, no request.
    Fresh,
    /// Under the store's lock, the store held a fresh token another thread or process had
    /// stored meanwhile: no request.
    Adopted,
    /// A refresh: requests were sent, and the new token set was stored before it came out.
    Refreshed,
}

/// The end of a drive that has an access token to hand out.
#[derive(Debug)]
#[non_exhaustive]
pub struct Ready {
    /// The access token.
    pub access_token: AccessToken,
    /// Until when the session would hand out the same token without any I/O.
    pub fresh_until: UnixTime,
    /// An early refresh failed: the access token is still valid, this is why it was not
    /// replaced.
    pub refresh_error: Option<Error>,
    /// How the token was obtained.
    pub via: Via,
}
