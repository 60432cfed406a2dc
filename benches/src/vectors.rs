//! The two response vectors every pipeline reads: a typical refresh response and one whose
//! tokens carry 300 directory groups.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oidc_refresh_core::http::Response;

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
pub(crate) fn noise(seed: u64, len: usize) -> Vec<u8> {
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

pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
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
