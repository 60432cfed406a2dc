//! Request building: the two request shapes a refresh sends.

use oidc_refresh_core::http::Request;
use oidc_refresh_core::{
    ClientAuth, ClientConfig, ClientSecret, RefreshParams, RefreshToken, build_refresh_request,
};

use crate::vectors::{b64, noise};

/// A request-building case: a client and the refresh token it sends.
pub struct RequestCase {
    /// `form_basic` or `json_reachfive`.
    pub name: &'static str,
    /// The client.
    pub client: ClientConfig,
    /// The refresh token.
    pub refresh_token: RefreshToken,
}

/// The two request shapes: RFC 6749 form body with HTTP Basic client authentication, and
/// ReachFive's JSON body for a public client; both asking for a scope.
#[must_use]
pub fn request_cases() -> Vec<RequestCase> {
    let refresh_token = RefreshToken::new(format!("rt.{}", b64(noise(11, 64))));
    let mut cases = Vec::new();
    if let Ok(c) = ClientConfig::new("https://login.example.com/oauth2/token", "s6BhdRkqt3") {
        cases.push(RequestCase {
            name: "form_basic",
            client: c.with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new("7Fjfp0ZBr1KtDRbnfVdmIw"))),
            refresh_token: refresh_token.clone(),
        });
    }
    if let Ok(c) = ClientConfig::reachfive("acme.reach5.net", "kR3m4pYv8aZ1") {
        cases.push(RequestCase { name: "json_reachfive", client: c, refresh_token });
    }
    cases
}

/// Builds the refresh request of a case (asking for `openid profile email`).
#[must_use]
pub fn build_request(case: &RequestCase) -> Option<Request<Vec<u8>>> {
    build_refresh_request(
        &case.client,
        &RefreshParams::new(&case.refresh_token).scope("openid profile email"),
    )
    .ok()
}
