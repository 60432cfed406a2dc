//! The other Rust OAuth / JOSE crates, each doing what it does with a token response (for
//! context: none of them is a baseline of a target).
//!
//! | pipeline | what it does |
//! | --- | --- |
//! | [`oauth2_5`] | oauth2 5's `BasicTokenResponse` (it does not decode the ID token at all) |
//! | [`openidconnect_4`] | openidconnect 4's `CoreTokenResponse` and its claims, checked by the verifier without a key |
//! | [`jsonwebtoken_12`] | the lean response struct, then jsonwebtoken 12's `insecure_decode` of the ID token |

use std::hint::black_box;

use serde::Deserialize;

use crate::lean::LeanResponse;

/// The claims of both vectors, owned (jsonwebtoken deserialises into `DeserializeOwned` types).
#[derive(Deserialize)]
#[allow(missing_docs)]
pub struct OwnedClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: u64,
    pub iat: u64,
    pub auth_time: Option<u64>,
    pub nonce: Option<String>,
    pub at_hash: Option<String>,
    pub azp: Option<String>,
    pub sid: Option<String>,
    pub acr: Option<String>,
    pub amr: Option<Vec<String>>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub preferred_username: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub locale: Option<String>,
    pub picture: Option<String>,
    pub updated_at: Option<u64>,
    pub groups: Option<Vec<String>>,
}

/// oauth2 5: `BasicTokenResponse` from the body (the ID token stays an undecoded extra
/// field: oauth2 knows no ID tokens).
#[must_use]
pub fn oauth2_5(body: &[u8]) -> Option<oauth2::basic::BasicTokenResponse> {
    serde_json::from_slice(body).ok()
}

/// The verifier the openidconnect pipeline uses: no key, no issuer, no audience (only the
/// format and the expiry are checked). Built once, outside the timed loop.
#[must_use]
pub fn openidconnect_verifier() -> openidconnect::core::CoreIdTokenVerifier<'static> {
    openidconnect::core::CoreIdTokenVerifier::new_insecure_without_verification()
}

/// openidconnect 4: `CoreTokenResponse` from the body (which decodes the ID token's header
/// and claims), then its claims through the key-less verifier.
#[must_use]
pub fn openidconnect_4(
    body: &[u8],
    verifier: &openidconnect::core::CoreIdTokenVerifier<'_>,
) -> Option<openidconnect::core::CoreTokenResponse> {
    use openidconnect::{Nonce, OAuth2TokenResponse as _, TokenResponse as _};
    let response: openidconnect::core::CoreTokenResponse = serde_json::from_slice(body).ok()?;
    let claims = response.id_token()?.claims(verifier, |_: Option<&Nonce>| Ok(())).ok()?;
    black_box((claims, response.access_token()));
    Some(response)
}

/// jsonwebtoken 12: the lean response struct, then `insecure_decode` of the ID token (header
/// and claims, no signature check) into owned claims.
#[must_use]
pub fn jsonwebtoken_12(body: &[u8]) -> Option<jsonwebtoken::TokenData<OwnedClaims>> {
    let response: LeanResponse<'_> = serde_json::from_slice(body).ok()?;
    let data = jsonwebtoken::dangerous::insecure_decode::<OwnedClaims>(response.id_token?).ok()?;
    black_box(&response);
    Some(data)
}
