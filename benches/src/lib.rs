//! What the benches of `oidc-refresh-core` share: the two response vectors and every
//! pipeline they compare, each a plain function so that the timing bench (`benches/parse.rs`)
//! and the allocation bench (`benches/allocations.rs`) run exactly the same code.
//!
//! The pipelines all go from the bytes of a token response to its decoded ID-token claims:
//!
//! | pipeline | what it does |
//! | --- | --- |
//! | [`ours`] | `parse_refresh_response`: the full, strict `AuthResult` with the decoded `IdTokenPayload` |
//! | [`ours_borrowed`] | `parse_refresh_response_borrowed`: the same, borrowing the body |
//! | [`lean`] | the lean baseline: serde_json into borrowed structs, base64 `URL_SAFE_NO_PAD`, serde_json of the claims into a borrowed struct |
//! | [`oauth2_5`] | oauth2 5's `BasicTokenResponse` (it does not decode the ID token at all) |
//! | [`openidconnect_4`] | openidconnect 4's `CoreTokenResponse` and its claims, checked by the verifier without a key |
//! | [`jsonwebtoken_12`] | the lean response struct, then jsonwebtoken 12's `insecure_decode` of the ID token |

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oidc_refresh_core::http::{Request, Response};
use oidc_refresh_core::{
    AuthResult, AuthResultRef, ClientAuth, ClientConfig, ClientSecret, RefreshParams, RefreshToken,
    build_refresh_request, parse_refresh_response, parse_refresh_response_borrowed,
};
use serde::Deserialize;

// ---------------------------------------------------------------------------------------
// Vectors
// ---------------------------------------------------------------------------------------

/// A response vector: its body and the same as an `http::Response`.
pub struct Vector {
    /// `small` or `large`.
    pub name: &'static str,
    /// The response body.
    pub body: Vec<u8>,
    /// A 200 response with that body, built once (outside the timed loops).
    pub response: Response<Vec<u8>>,
}

/// Deterministic pseudo-random bytes (for signatures and opaque tokens).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `n` group names like directory groups: `grp-<department>-<team>-<role>-<n>`.
fn groups(n: usize) -> Vec<String> {
    const DEPARTMENTS: &[&str] =
        &["engineering", "finance", "marketing", "operations", "research", "sales", "support", "legal"];
    const TEAMS: &[&str] = &["platform", "mobile", "payments", "identity", "analytics", "infra", "growth"];
    const ROLES: &[&str] = &["contributors", "maintainers", "readers", "administrators", "reviewers"];
    (0..n)
        .map(|i| {
            let (d, t, r) =
                (DEPARTMENTS[i % DEPARTMENTS.len()], TEAMS[i % TEAMS.len()], ROLES[i % ROLES.len()]);
            format!("grp-{d}-{t}-{r}-{i:03}")
        })
        .collect()
}

/// The ID token's claims: 22 typical claims, plus `groups` when given.
fn claims(groups: Option<&[String]>) -> String {
    let mut claims = serde_json::json!({
        "iss": "https://login.example.com/tenant-7f3a",
        "sub": "248289761001",
        "aud": "s6BhdRkqt3",
        "exp": 4_102_444_800u64,
        "iat": 1_700_000_000u64,
        "auth_time": 1_699_999_900u64,
        "nonce": "n-0S6_WzA2Mj",
        "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
        "azp": "s6BhdRkqt3",
        "sid": "08a5019c-17e1-4977-8f42-65a12843ea02",
        "acr": "urn:mace:incommon:iap:silver",
        "amr": ["pwd", "mfa"],
        "name": "Jane Doe",
        "given_name": "Jane",
        "family_name": "Doe",
        "preferred_username": "j.doe",
        "email": "janedoe@example.com",
        "email_verified": true,
        "locale": "en-GB",
        "picture": "https://cdn.example.com/u/248289761001/avatar.png",
        "updated_at": 1_699_990_000u64
    });
    if let (Some(groups), Some(map)) = (groups, claims.as_object_mut()) {
        map.insert("groups".into(), serde_json::json!(groups));
    }
    claims.to_string()
}

fn vector(name: &'static str, groups: Option<&[String]>) -> Vector {
    let header = r#"{"alg":"RS256","typ":"JWT","kid":"1e9gdk7"}"#;
    let id_token = format!("{}.{}.{}", b64(header), b64(claims(groups)), b64(noise(7, 256)));
    // An access token shaped like a JWT access token (Azure AD and others put the groups
    // in both); opaque to the client.
    let at_claims = match groups {
        Some(g) => serde_json::json!({"sub": "248289761001", "scp": "openid profile email", "groups": g}),
        None => {
            serde_json::json!({"sub": "248289761001", "scp": "openid profile email", "ctx": b64(noise(3, 180))})
        }
    };
    let access_token = format!("{}.{}.{}", b64(header), b64(at_claims.to_string()), b64(noise(5, 256)));
    let body = serde_json::json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": format!("rt.{}", b64(noise(11, 64))),
        "id_token": id_token,
        "scope": "openid profile email offline_access"
    })
    .to_string()
    .into_bytes();
    let response = Response::builder().status(200).body(body.clone()).unwrap_or_default();
    Vector { name, body, response }
}

/// The small vector: a ~2.2 KB refresh response whose ID token carries 22 typical claims.
#[must_use]
pub fn small() -> Vector {
    vector("small", None)
}

/// The large vector: a ~32 KB refresh response whose ID token (and access token) carries
/// 300 group names.
#[must_use]
pub fn large() -> Vector {
    vector("large", Some(&groups(300)))
}

// ---------------------------------------------------------------------------------------
// Pipelines
// ---------------------------------------------------------------------------------------

/// `parse_refresh_response`: the owned `AuthResult` with its decoded `IdTokenPayload`.
#[must_use]
pub fn ours(v: &Vector) -> Option<AuthResult> {
    parse_refresh_response(&v.response).ok()
}

/// `parse_refresh_response_borrowed`: the same, borrowing the body.
#[must_use]
pub fn ours_borrowed(v: &Vector) -> Option<AuthResultRef<'_>> {
    parse_refresh_response_borrowed(&v.response).ok()
}

/// The token response of the lean baseline (and of the jsonwebtoken pipeline).
#[derive(Deserialize)]
pub struct LeanResponse<'a> {
    /// `access_token`.
    pub access_token: &'a str,
    /// `token_type`.
    pub token_type: &'a str,
    /// `expires_in`.
    pub expires_in: Option<u64>,
    /// `refresh_token`.
    pub refresh_token: Option<&'a str>,
    /// `id_token`.
    pub id_token: Option<&'a str>,
    /// `scope`.
    pub scope: Option<&'a str>,
}

/// The claims of the lean baseline, borrowed from the decoded payload.
#[derive(Deserialize)]
#[allow(missing_docs)]
pub struct LeanClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub exp: u64,
    pub iat: u64,
    pub auth_time: Option<u64>,
    pub nonce: Option<&'a str>,
    pub at_hash: Option<&'a str>,
    pub azp: Option<&'a str>,
    pub sid: Option<&'a str>,
    pub acr: Option<&'a str>,
    #[serde(borrow)]
    pub amr: Option<Vec<&'a str>>,
    pub name: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
    pub preferred_username: Option<&'a str>,
    pub email: Option<&'a str>,
    pub email_verified: Option<bool>,
    pub locale: Option<&'a str>,
    pub picture: Option<&'a str>,
    pub updated_at: Option<u64>,
    #[serde(borrow)]
    pub groups: Option<Vec<&'a str>>,
}

/// The same claims, owned (jsonwebtoken deserialises into `DeserializeOwned` types).
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

/// The lean baseline: serde_json into borrowed structs, the base64 crate's URL-safe decoder
/// for the payload, serde_json of the claims into a borrowed struct. Checks nothing else
/// (no duplicate names, no header, no signature syntax). Returns the number of claims' groups
/// (0 without) to show it did the work.
#[must_use]
pub fn lean(body: &[u8]) -> Option<usize> {
    let response: LeanResponse<'_> = serde_json::from_slice(body).ok()?;
    let jwt = response.id_token?;
    let mut parts = jwt.split('.');
    let (_, payload) = (parts.next()?, parts.next()?);
    let decoded = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: LeanClaims<'_> = serde_json::from_slice(&decoded).ok()?;
    let groups = claims.groups.as_ref().map_or(0, Vec::len);
    black_box((&response, &claims));
    Some(groups)
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

// ---------------------------------------------------------------------------------------
// Request building
// ---------------------------------------------------------------------------------------

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pipeline_reads_both_vectors() {
        let verifier = openidconnect_verifier();
        for (v, groups) in [(small(), 0), (large(), 300)] {
            let ours = ours(&v).map(|r| r.id_token_payload().map(|p| p.extra().len()));
            assert_eq!(ours, Some(Some(if groups == 0 { 1 } else { 2 })), "{}: sid (and groups)", v.name);
            assert!(ours_borrowed(&v).is_some(), "{}", v.name);
            assert_eq!(lean(&v.body), Some(groups), "{}", v.name);
            assert!(oauth2_5(&v.body).is_some(), "{}", v.name);
            assert!(openidconnect_4(&v.body, &verifier).is_some(), "{}", v.name);
            let jwt = jsonwebtoken_12(&v.body).map(|d| d.claims.groups.map_or(0, |g| g.len()));
            assert_eq!(jwt, Some(groups), "{}", v.name);
        }
    }

    #[test]
    fn vector_sizes() {
        let (s, l) = (small().body.len(), large().body.len());
        assert!((2000..2400).contains(&s), "small: {s} bytes");
        assert!((30_000..34_000).contains(&l), "large: {l} bytes");
    }

    #[test]
    fn requests_build() {
        for case in request_cases() {
            assert!(build_request(&case).is_some(), "{}", case.name);
        }
    }
}
