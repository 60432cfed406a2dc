//! Response, ID-token and request vectors for the sans-IO core: shaped like real providers
//! (ReachFive, node-oidc-provider, Keycloak, Azure AD, Google, Auth0) and like broken ones,
//! each asserting the exact outcome the contract (`contract.md`) and the rules (`docs/rules.md`)
//! call for.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use oidc_refresh_core::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use oidc_refresh_core::http::{Method, Request, Response, StatusCode};
use oidc_refresh_core::{
    AuthResult, BodyFormat, ClientAuth, ClientConfig, ClientSecret, ConfigError, Error, ErrorDetail, Fault,
    JwtError, OAuthError, ProtocolError, ProtocolErrorKind, RefreshParams, RefreshToken, Segment,
    build_refresh_request, decode_id_token, decode_id_token_with_header, parse_refresh_response,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// A dummy signature segment (base64url of "signature"): never verified by the core.
const SIG: &str = "c2lnbmF0dXJl";

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact JWS from raw header and payload texts.
fn jwt_raw(header: &str, payload: &str) -> String {
    format!("{}.{}.{SIG}", b64(header), b64(payload))
}

/// An RS256 ID token with this payload.
fn id_token(payload: &Value) -> String {
    jwt_raw(r#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#, &payload.to_string())
}

fn response(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Response<Vec<u8>> {
    let mut b = Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(body.into()).expect("a valid test response")
}

fn parse(status: u16, body: impl Into<Vec<u8>>) -> Result<AuthResult, Error> {
    parse_refresh_response(&response(status, &[], body))
}

/// Parses a response that must succeed and returns its AuthResult JSON.
fn ok_json(status: u16, body: &str) -> Value {
    match parse(status, body) {
        Ok(r) => serde_json::to_value(&r).expect("AuthResult serialises"),
        Err(e) => panic!("expected success for {body}, got {e} / {e:?}"),
    }
}

fn err(status: u16, body: impl Into<Vec<u8>>) -> Error {
    match parse(status, body) {
        Ok(r) => panic!("expected an error, got {r:?}"),
        Err(e) => e,
    }
}

fn protocol(e: &Error) -> &ProtocolError {
    match e {
        Error::Protocol(p) => p,
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

fn server(e: &Error) -> &OAuthError {
    match e {
        Error::Server(s) => s,
        other => panic!("expected an OAuth error, got {other:?}"),
    }
}

/// The protocol error's kind, after checking the common facts of a response protocol error.
fn protocol_kind(e: &Error, status: u16) -> &ProtocolErrorKind {
    assert_eq!(e.fault(), Fault::ServerProtocol, "{e:?}");
    assert_eq!(e.status(), Some(StatusCode::from_u16(status).expect("status")), "{e:?}");
    assert_eq!(e.oauth_error_code(), None);
    assert!(!e.is_reauth_required());
    protocol(e).kind()
}

fn jwt_error(e: &Error) -> &JwtError {
    match protocol(e).kind() {
        ProtocolErrorKind::IdToken(j) => j,
        other => panic!("expected an ID-token error, got {other:?}"),
    }
}

fn rotated(e: &Error) -> Option<&str> {
    e.rotated_refresh_token().map(RefreshToken::expose_secret)
}

// ---------------------------------------------------------------------------------------
// Real providers
// ---------------------------------------------------------------------------------------

#[test]
fn reachfive_refresh_with_reachfive_claims() {
    let payload = json!({
        "iss": "https://acme.reach5.net",
        "sub": "AVPw-jHcQG2Ylq3m7mF9jQ",
        "aud": "kR3m4pYv8aZ1",
        "exp": 1_737_459_922u64,
        "iat": 1_737_456_322u64,
        "auth_time": 1_737_456_300u64,
        "nonce": "n-0S6_WzA2Mj",
        "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
        "auth_type": "password",
        "new_user": false,
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "middle_name": "King",
        "nickname": "ada",
        "preferred_username": "ada.lovelace",
        "profile": "https://acme.example/ada",
        "picture": "https://cdn.example/ada.png",
        "website": "https://ada.example",
        "email": "ada@example.com",
        "email_verified": true,
        "gender": "female",
        "birthdate": "1815-12-10",
        "zoneinfo": "Europe/London",
        "locale": "en-GB",
        "phone_number": "+447700900123",
        "phone_number_verified": false,
        "address": {
            "formatted": "12 St James's Square\nLondon SW1Y 4JH",
            "street_address": "12 St James's Square",
            "locality": "London",
            "region": "Greater London",
            "postal_code": "SW1Y 4JH",
            "country": "GB"
        },
        "updated_at": "2025-01-21T10:45:22",
        "custom_fields": {"loyalty_card": "LC-123", "opt_in_sms": true, "favourite_number": 7},
        "custom_identifier": "cust-42",
        "external_id": "ext-9",
        "amr": ["pwd"]
    });
    let idt = id_token(&payload);
    let body = format!(
        r#"{{"id_token":"{idt}","access_token":"eyJhbGciOiJSUzI1NiJ9.at.sig","token_type":"Bearer","expires_in":1800,"refresh_token":"rt-r5-2","scope":"openid profile email phone address offline_access"}}"#
    );
    let result = parse(200, body.as_str()).expect("ReachFive response parses");
    let header = result.id_token_header().expect("header kept");
    assert_eq!((header.alg(), header.typ(), header.kid()), (Some("RS256"), Some("JWT"), Some("k1")));
    assert_eq!(result.expires_in(), Some(1800));
    assert_eq!(result.refresh_token().map(RefreshToken::expose_secret), Some("rt-r5-2"));
    assert_eq!(
        serde_json::to_value(&result).expect("serialises"),
        json!({
            "accessToken": "eyJhbGciOiJSUzI1NiJ9.at.sig",
            "tokenType": "Bearer",
            "expiresIn": 1800,
            "refreshToken": "rt-r5-2",
            "idToken": idt,
            "scope": "openid profile email phone address offline_access",
            "idTokenPayload": {
                "iss": "https://acme.reach5.net",
                "sub": "AVPw-jHcQG2Ylq3m7mF9jQ",
                "aud": ["kR3m4pYv8aZ1"],
                "exp": 1_737_459_922u64,
                "iat": 1_737_456_322u64,
                "authTime": 1_737_456_300u64,
                "nonce": "n-0S6_WzA2Mj",
                "atHash": "77QmUPtjPfzWtF2AnpK9RQ",
                "authType": "password",
                "newUser": false,
                "name": "Ada Lovelace",
                "givenName": "Ada",
                "familyName": "Lovelace",
                "middleName": "King",
                "nickname": "ada",
                "preferredUsername": "ada.lovelace",
                "profile": "https://acme.example/ada",
                "picture": "https://cdn.example/ada.png",
                "website": "https://ada.example",
                "email": "ada@example.com",
                "emailVerified": true,
                "gender": "female",
                "birthdate": "1815-12-10",
                "zoneinfo": "Europe/London",
                "locale": "en-GB",
                "phoneNumber": "+447700900123",
                "phoneNumberVerified": false,
                "address": {
                    "formatted": "12 St James's Square\nLondon SW1Y 4JH",
                    "streetAddress": "12 St James's Square",
                    "locality": "London",
                    "region": "Greater London",
                    "postalCode": "SW1Y 4JH",
                    "country": "GB"
                },
                "updatedAt": "2025-01-21T10:45:22",
                "customFields": {"loyalty_card": "LC-123", "opt_in_sms": true, "favourite_number": 7},
                "customIdentifier": "cust-42",
                "externalId": "ext-9",
                "amr": ["pwd"]
            }
        })
    );
    // The same payload through decode_id_token gives the same claims.
    let claims = decode_id_token(&idt).expect("decodes");
    assert_eq!(
        serde_json::to_value(&claims).expect("serialises"),
        serde_json::to_value(&result).expect("serialises")["idTokenPayload"]
    );
    assert_eq!(claims.address().and_then(|a| a.postal_code()), Some("SW1Y 4JH"));
    assert_eq!(claims.new_user(), Some(false));
    assert_eq!(claims.auth_type(), Some("password"));
}

#[test]
fn node_oidc_provider_refresh() {
    let payload = json!({
        "sub": "user-1",
        "email": "user-1@example.com",
        "email_verified": true,
        "nonce": "n-abc",
        "at_hash": "x4T0vbqvqwxlPd4P7XvQ6A",
        "sid": "d1b2c6f8-3e7a-4e2f-9c1b-5d8e0f2a7b3c",
        "auth_time": 1_700_000_000u64,
        "iat": 1_700_000_600u64,
        "exp": 1_700_004_200u64,
        "aud": "test-client",
        "iss": "http://127.0.0.1:3000"
    });
    let idt = jwt_raw(r#"{"alg":"RS256","typ":"JWT","kid":"keystore-CHANGE-ME"}"#, &payload.to_string());
    let body = format!(
        r#"{{"access_token":"LT-0m8bTtPn8RZ_sA4xWyQ9cVbJ1qkz4E6dHfGi2lMo","expires_in":3600,"id_token":"{idt}","refresh_token":"Sz3q_FfGbU7kT2uYxVwR9pLmN0cD4eJh8aOiKs1ZtB5","scope":"openid offline_access email","token_type":"Bearer"}}"#
    );
    let result = parse(200, body.as_str()).expect("parses");
    assert_eq!(result.id_token_header().and_then(|h| h.kid()), Some("keystore-CHANGE-ME"));
    assert_eq!(
        serde_json::to_value(&result).expect("serialises"),
        json!({
            "accessToken": "LT-0m8bTtPn8RZ_sA4xWyQ9cVbJ1qkz4E6dHfGi2lMo",
            "tokenType": "Bearer",
            "expiresIn": 3600,
            "refreshToken": "Sz3q_FfGbU7kT2uYxVwR9pLmN0cD4eJh8aOiKs1ZtB5",
            "idToken": idt,
            "scope": "openid offline_access email",
            "idTokenPayload": {
                "iss": "http://127.0.0.1:3000",
                "sub": "user-1",
                "aud": ["test-client"],
                "exp": 1_700_004_200u64,
                "iat": 1_700_000_600u64,
                "authTime": 1_700_000_000u64,
                "nonce": "n-abc",
                "atHash": "x4T0vbqvqwxlPd4P7XvQ6A",
                "email": "user-1@example.com",
                "emailVerified": true,
                "sid": "d1b2c6f8-3e7a-4e2f-9c1b-5d8e0f2a7b3c"
            }
        })
    );
}

#[test]
fn keycloak_refresh_keeps_its_extra_members() {
    let payload = json!({
        "exp": 1_737_456_622u64,
        "iat": 1_737_456_322u64,
        "auth_time": 1_737_456_000u64,
        "jti": "6f1c2b3a-0d9e-4a8b-b7c6-5e4d3c2b1a09",
        "iss": "https://kc.example/realms/acme",
        "aud": "web-app",
        "sub": "f:3b8a:alice",
        "typ": "ID",
        "azp": "web-app",
        "session_state": "9b7c2d4e-1f3a-4c5b-8d6e-7f8a9b0c1d2e",
        "at_hash": "Wq1cXl2bHk3Ju4Nf5Ae6Pw",
        "acr": "1",
        "sid": "9b7c2d4e-1f3a-4c5b-8d6e-7f8a9b0c1d2e",
        "email_verified": false,
        "name": "Alice Liddell",
        "preferred_username": "alice",
        "given_name": "Alice",
        "family_name": "Liddell",
        "email": "alice@example.com"
    });
    let idt = id_token(&payload);
    let body = format!(
        r#"{{"access_token":"eyJhbGciOiJSUzI1NiIsInR5cCJ9.kc-at.sig","expires_in":300,"refresh_expires_in":1800,"refresh_token":"eyJhbGciOiJIUzUxMiJ9.kc-rt.sig","token_type":"Bearer","id_token":"{idt}","not-before-policy":0,"session_state":"9b7c2d4e-1f3a-4c5b-8d6e-7f8a9b0c1d2e","scope":"openid profile email"}}"#
    );
    assert_eq!(
        ok_json(200, &body),
        json!({
            "accessToken": "eyJhbGciOiJSUzI1NiIsInR5cCJ9.kc-at.sig",
            "tokenType": "Bearer",
            "expiresIn": 300,
            "refreshToken": "eyJhbGciOiJIUzUxMiJ9.kc-rt.sig",
            "idToken": idt,
            "scope": "openid profile email",
            "refresh_expires_in": 1800,
            "not-before-policy": 0,
            "session_state": "9b7c2d4e-1f3a-4c5b-8d6e-7f8a9b0c1d2e",
            "idTokenPayload": {
                "iss": "https://kc.example/realms/acme",
                "sub": "f:3b8a:alice",
                "aud": ["web-app"],
                "exp": 1_737_456_622u64,
                "iat": 1_737_456_322u64,
                "authTime": 1_737_456_000u64,
                "acr": "1",
                "azp": "web-app",
                "atHash": "Wq1cXl2bHk3Ju4Nf5Ae6Pw",
                "name": "Alice Liddell",
                "givenName": "Alice",
                "familyName": "Liddell",
                "preferredUsername": "alice",
                "email": "alice@example.com",
                "emailVerified": false,
                "jti": "6f1c2b3a-0d9e-4a8b-b7c6-5e4d3c2b1a09",
                "typ": "ID",
                "session_state": "9b7c2d4e-1f3a-4c5b-8d6e-7f8a9b0c1d2e",
                "sid": "9b7c2d4e-1f3a-4c5b-8d6e-7f8a9b0c1d2e"
            }
        })
    );
}

#[test]
fn azure_ad_string_expires_in() {
    let payload = json!({
        "aud": "6731de76-14a6-49ae-97bc-6eba6914391e",
        "iss": "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
        "iat": 1_737_456_322u64,
        "nbf": 1_737_456_322u64,
        "exp": 1_737_460_222u64,
        "name": "Grace Hopper",
        "oid": "00000000-0000-0000-66f3-3332eca7ea81",
        "preferred_username": "grace@contoso.example",
        "rh": "0.AXAAeq7t",
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "tid": "9188040d-6c67-4c5b-b112-36a304b66dad",
        "uti": "fqiBqXLPj0eQa82S-IYFAA",
        "ver": "2.0"
    });
    let idt = id_token(&payload);
    let body = format!(
        r#"{{"token_type":"Bearer","scope":"openid profile email https://graph.microsoft.com/User.Read","expires_in":"3599","ext_expires_in":"3599","access_token":"EwBwA8l6BAAUO9chh8cJscQLmU+LSWpbnr0vmwwAAQ","refresh_token":"M.C105_BAY.-CVDqkB8k4!IWaXwb4q7yQ$$","id_token":"{idt}"}}"#
    );
    let result = parse(200, body.as_str()).expect("parses");
    assert_eq!(result.expires_in(), Some(3599));
    assert_eq!(
        serde_json::to_value(&result).expect("serialises"),
        json!({
            "accessToken": "EwBwA8l6BAAUO9chh8cJscQLmU+LSWpbnr0vmwwAAQ",
            "tokenType": "Bearer",
            "expiresIn": 3599,
            "refreshToken": "M.C105_BAY.-CVDqkB8k4!IWaXwb4q7yQ$$",
            "idToken": idt,
            "scope": "openid profile email https://graph.microsoft.com/User.Read",
            // Unknown members keep their value as it came: a string stays a string.
            "ext_expires_in": "3599",
            "idTokenPayload": {
                "iss": "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
                "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
                "aud": ["6731de76-14a6-49ae-97bc-6eba6914391e"],
                "exp": 1_737_460_222u64,
                "iat": 1_737_456_322u64,
                "name": "Grace Hopper",
                "preferredUsername": "grace@contoso.example",
                "nbf": 1_737_456_322u64,
                "oid": "00000000-0000-0000-66f3-3332eca7ea81",
                "rh": "0.AXAAeq7t",
                "tid": "9188040d-6c67-4c5b-b112-36a304b66dad",
                "uti": "fqiBqXLPj0eQa82S-IYFAA",
                "ver": "2.0"
            }
        })
    );
}

#[test]
fn google_refresh_without_refresh_token() {
    let payload = json!({
        "iss": "https://accounts.google.com",
        "azp": "1234987819200.apps.googleusercontent.com",
        "aud": "1234987819200.apps.googleusercontent.com",
        "sub": "10769150350006150715113082367",
        "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q",
        "hd": "example.com",
        "email": "jsmith@example.com",
        "email_verified": "true",
        "iat": 1_353_601_026u64,
        "exp": 1_353_604_926u64
    });
    let idt = id_token(&payload);
    let body = format!(
        r#"{{"access_token":"ya29.a0AfB_byC-1234","expires_in":3599,"scope":"openid https://www.googleapis.com/auth/userinfo.email","token_type":"Bearer","id_token":"{idt}"}}"#
    );
    let result = parse(200, body.as_str()).expect("parses");
    assert!(result.refresh_token().is_none(), "absent means: keep the previous one");
    assert_eq!(
        serde_json::to_value(&result).expect("serialises"),
        json!({
            "accessToken": "ya29.a0AfB_byC-1234",
            "tokenType": "Bearer",
            "expiresIn": 3599,
            "idToken": idt,
            "scope": "openid https://www.googleapis.com/auth/userinfo.email",
            "idTokenPayload": {
                "iss": "https://accounts.google.com",
                "sub": "10769150350006150715113082367",
                "aud": ["1234987819200.apps.googleusercontent.com"],
                "azp": "1234987819200.apps.googleusercontent.com",
                "atHash": "HK6E_P6Dh8Y93mRNtsDB1Q",
                "email": "jsmith@example.com",
                "emailVerified": true,
                "iat": 1_353_601_026u64,
                "exp": 1_353_604_926u64,
                "hd": "example.com"
            }
        })
    );
}

#[test]
fn auth0_refresh_with_namespaced_claims_and_string_updated_at() {
    let payload = json!({
        "https://example.com/roles": ["admin", "editor"],
        "nickname": "jdoe",
        "name": "jdoe@example.com",
        "picture": "https://s.gravatar.com/avatar/abc.png",
        "updated_at": "2025-01-21T10:45:22.123Z",
        "email": "jdoe@example.com",
        "email_verified": true,
        "iss": "https://acme.eu.auth0.com/",
        "aud": "q3Jw8x",
        "iat": 1_737_456_322u64,
        "exp": 1_737_492_322u64,
        "sub": "auth0|63f0c1",
        "sid": "Yv0n2r",
        "nonce": "bm9uY2U"
    });
    let idt = id_token(&payload);
    let body = format!(
        r#"{{"access_token":"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..a0-at","refresh_token":"v1.MTQ-a0rt","id_token":"{idt}","scope":"openid profile email offline_access","expires_in":86400,"token_type":"Bearer"}}"#
    );
    assert_eq!(
        ok_json(200, &body),
        json!({
            "accessToken": "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..a0-at",
            "tokenType": "Bearer",
            "expiresIn": 86400,
            "refreshToken": "v1.MTQ-a0rt",
            "idToken": idt,
            "scope": "openid profile email offline_access",
            "idTokenPayload": {
                "iss": "https://acme.eu.auth0.com/",
                "sub": "auth0|63f0c1",
                "aud": ["q3Jw8x"],
                "exp": 1_737_492_322u64,
                "iat": 1_737_456_322u64,
                "nonce": "bm9uY2U",
                "name": "jdoe@example.com",
                "nickname": "jdoe",
                "picture": "https://s.gravatar.com/avatar/abc.png",
                "email": "jdoe@example.com",
                "emailVerified": true,
                "updatedAt": "2025-01-21T10:45:22.123Z",
                "https://example.com/roles": ["admin", "editor"],
                "sid": "Yv0n2r"
            }
        })
    );
}

#[test]
fn token_type_bearer_in_any_case_becomes_bearer_others_kept() {
    for (wire, want) in [
        ("bearer", "Bearer"),
        ("Bearer", "Bearer"),
        ("BEARER", "Bearer"),
        ("bEaReR", "Bearer"),
        ("DPoP", "DPoP"),
        ("dpop", "dpop"),
        ("N_A", "N_A"),
        ("mac", "mac"),
    ] {
        let body = format!(r#"{{"access_token":"at-1","token_type":"{wire}","expires_in":60}}"#);
        assert_eq!(
            ok_json(200, &body),
            json!({"accessToken": "at-1", "tokenType": want, "expiresIn": 60}),
            "{wire}"
        );
    }
}

#[test]
fn any_2xx_with_a_token_body_is_a_success() {
    for status in [200, 201, 203] {
        assert_eq!(
            ok_json(status, r#"{"access_token":"a","token_type":"bearer"}"#),
            json!({"accessToken": "a", "tokenType": "Bearer"}),
            "{status}"
        );
    }
}

#[test]
fn reachfive_only_members_code_step_up_amr_provider() {
    let body = r#"{"access_token":"a","token_type":"Bearer","code":"c-1","state":"st","step_up_token":"su-1","amr":"pwd","provider_name":"google","provider_access_token":"pat-1"}"#;
    assert_eq!(
        ok_json(200, body),
        json!({
            "accessToken": "a", "tokenType": "Bearer", "code": "c-1", "state": "st",
            "stepUpToken": "su-1", "amr": ["pwd"], "providerName": "google",
            "providerAccessToken": "pat-1"
        })
    );
    let body = r#"{"access_token":"a","token_type":"Bearer","amr":["pwd","otp"]}"#;
    assert_eq!(ok_json(200, body), json!({"accessToken": "a", "tokenType": "Bearer", "amr": ["pwd", "otp"]}));
}

#[test]
fn content_type_is_not_checked() {
    let body = r#"{"access_token":"a","token_type":"Bearer"}"#;
    for ct in ["text/html", "text/plain", "application/x-www-form-urlencoded"] {
        let r =
            parse_refresh_response(&response(200, &[("content-type", ct)], body)).expect("the body decides");
        assert_eq!(r.access_token().expose_secret(), "a");
    }
}

// ---------------------------------------------------------------------------------------
// Null, unknown and colliding members
// ---------------------------------------------------------------------------------------

#[test]
fn known_member_null_is_absent_unknown_null_is_kept() {
    let body = r#"{"access_token":"a","token_type":"Bearer","expires_in":null,"refresh_token":null,"id_token":null,"scope":null,"code":null,"state":null,"step_up_token":null,"amr":null,"provider_name":null,"provider_access_token":null,"error":null,"x_unknown":null}"#;
    assert_eq!(ok_json(200, body), json!({"accessToken": "a", "tokenType": "Bearer", "x_unknown": null}));
}

#[test]
fn unknown_member_colliding_with_an_output_key_is_dropped() {
    let body = r#"{"access_token":"a","token_type":"Bearer","accessToken":"evil","idTokenPayload":{},"tokenType":"x","expiresIn":1,"refreshToken":"r","idToken":"i","stepUpToken":"s","providerName":"p","providerAccessToken":"q","kept":1}"#;
    assert_eq!(ok_json(200, body), json!({"accessToken": "a", "tokenType": "Bearer", "kept": 1}));
}

#[test]
fn unknown_members_are_kept_as_equal_values() {
    let body = r#"{"access_token":"a","token_type":"Bearer","obj":{"b":[1,2,{"c":null}],"a":"\u00e9"},"arr":[true,false],"s":"x\"y","n":-12.5e3}"#;
    assert_eq!(
        ok_json(200, body),
        json!({
            "accessToken": "a", "tokenType": "Bearer",
            "obj": {"b": [1, 2, {"c": null}], "a": "é"}, "arr": [true, false], "s": "x\"y", "n": -12500.0
        })
    );
}

#[test]
fn huge_numbers_in_unknown_members_are_kept() {
    let big = "123456789012345678901234567890123456789";
    let body =
        format!(r#"{{"access_token":"a","token_type":"Bearer","big":{big},"tiny":1e-400,"neg":-{big}}}"#);
    let result = parse(200, body.as_str()).expect("huge numbers in unknown members are fine");
    let extra: Vec<(&str, &str)> = result.extra().map(|(k, v)| (k, v.get())).collect();
    let neg = format!("-{big}");
    // Kept exactly as the wire text: no precision lost in the result itself.
    assert_eq!(extra, vec![("big", big), ("tiny", "1e-400"), ("neg", neg.as_str())]);
    // And as equal JSON values when serialised.
    let expected: Value =
        serde_json::from_str(&body.replace("access_token", "accessToken").replace("token_type", "tokenType"))
            .expect("valid JSON");
    assert_eq!(serde_json::to_value(&result).expect("serialises"), expected);
    // The serialised text carries the digits as they came.
    let text = serde_json::to_string(&result).expect("serialises");
    assert!(text.contains(&format!(r#""big":{big}"#)), "{text}");
}

#[test]
fn unicode_and_escapes_in_known_members() {
    let body = r#"{"access_token":"a\u0062c","token_type":"Be\u0061rer","scope":"openid \u00e9"}"#;
    assert_eq!(ok_json(200, body), json!({"accessToken": "abc", "tokenType": "Bearer", "scope": "openid é"}));
}

// ---------------------------------------------------------------------------------------
// OAuth errors
// ---------------------------------------------------------------------------------------

#[test]
fn status_200_with_error_is_an_oauth_error() {
    let e = err(
        200,
        r#"{"error":"invalid_grant","access_token":"x","token_type":"Bearer","refresh_token":"rt-9"}"#,
    );
    assert_eq!(e.fault(), Fault::ServerRefused);
    assert_eq!(e.oauth_error_code(), Some("invalid_grant"));
    assert_eq!(e.status(), Some(StatusCode::OK));
    assert!(e.is_reauth_required());
    assert_eq!(rotated(&e), None, "a 2xx *with* error hands over no token");
}

#[test]
fn status_400_invalid_grant_requires_reauth() {
    let e = err(
        400,
        r#"{"error":"invalid_grant","error_description":"grant request is invalid","error_uri":"https://id.example/errors#grant"}"#,
    );
    assert_eq!(e.fault(), Fault::ServerRefused);
    assert!(e.is_reauth_required());
    assert!(!e.is_retryable());
    assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
    let s = server(&e);
    assert_eq!(s.code(), "invalid_grant");
    assert_eq!(s.description(), Some("grant request is invalid"));
    assert_eq!(s.uri(), Some("https://id.example/errors#grant"));
    assert_eq!(s.www_authenticate(), None);
    assert_eq!(s.retry_after(), None);
    assert!(s.details().is_empty());
    assert_eq!(rotated(&e), None);
    assert!(e.to_string().contains("invalid_grant"), "{e}");
}

#[test]
fn status_401_invalid_client_keeps_www_authenticate() {
    let r = response(
        401,
        &[
            ("www-authenticate", r#"Basic realm="oidc", error="invalid_client""#),
            ("content-type", "application/json"),
        ],
        r#"{"error":"invalid_client","error_description":"client authentication failed"}"#,
    );
    let e = parse_refresh_response(&r).expect_err("refused");
    assert_eq!(e.oauth_error_code(), Some("invalid_client"));
    assert_eq!(e.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(!e.is_reauth_required());
    assert!(!e.is_retryable());
    assert_eq!(server(&e).www_authenticate(), Some(r#"Basic realm="oidc", error="invalid_client""#));
}

#[test]
fn status_429_slow_down_with_retry_after() {
    let r = response(429, &[("retry-after", "7")], r#"{"error":"slow_down"}"#);
    let e = parse_refresh_response(&r).expect_err("refused");
    assert_eq!(e.oauth_error_code(), Some("slow_down"));
    assert_eq!(e.retry_after_secs(), Some(7));
    assert_eq!(server(&e).retry_after(), Some("7"));
    assert!(e.is_retryable());
    assert!(!e.is_reauth_required());
}

#[test]
fn temporarily_unavailable_is_retryable_other_codes_are_not() {
    assert!(err(503, r#"{"error":"temporarily_unavailable"}"#).is_retryable());
    assert!(err(200, r#"{"error":"temporarily_unavailable"}"#).is_retryable());
    for code in ["invalid_request", "invalid_scope", "unauthorized_client", "unsupported_grant_type"] {
        let e = err(400, format!(r#"{{"error":"{code}"}}"#));
        assert_eq!(e.oauth_error_code(), Some(code));
        assert!(!e.is_retryable(), "{code}");
        assert!(!e.is_reauth_required(), "{code}");
    }
}

#[test]
fn reachfive_error_shape() {
    let body = r#"{"error":"invalid_request","error_id":"bOj3cW4mjfgMfDe5T8PJ","error_user_msg":"Le jeton est invalide","error_message_key":"error.refreshToken.invalid","error_description":"Invalid refresh token","error_details":[{"field":"refresh_token","message":"Must be a valid token","code":"invalid"},{"field":"client_id","message":"Required","code":"missing"}]}"#;
    let e = err(400, body);
    let s = server(&e);
    assert_eq!(s.code(), "invalid_request");
    assert_eq!(s.status(), StatusCode::BAD_REQUEST);
    assert_eq!(s.description(), Some("Invalid refresh token"));
    assert_eq!(s.user_msg(), Some("Le jeton est invalide"));
    assert_eq!(s.message_key(), Some("error.refreshToken.invalid"));
    assert_eq!(s.error_id(), Some("bOj3cW4mjfgMfDe5T8PJ"));
    assert_eq!(
        s.details(),
        &[
            ErrorDetail {
                field: Some("refresh_token".into()),
                message: Some("Must be a valid token".into()),
                code: Some("invalid".into()),
            },
            ErrorDetail {
                field: Some("client_id".into()),
                message: Some("Required".into()),
                code: Some("missing".into()),
            },
        ][..]
    );
}

#[test]
fn duplicate_member_in_an_error_body_is_a_protocol_error() {
    let e = err(400, r#"{"error":"invalid_grant","error":"invalid_client"}"#);
    assert_eq!(protocol_kind(&e, 400), &ProtocolErrorKind::DuplicateMember { name: "error".into() });
}

#[test]
fn error_that_is_not_a_non_empty_string_is_a_protocol_error() {
    for body in [r#"{"error":42}"#, r#"{"error":""}"#, r#"{"error":["invalid_grant"]}"#] {
        let e = err(400, body);
        assert!(
            matches!(protocol_kind(&e, 400), ProtocolErrorKind::InvalidField { field: "error", .. }),
            "{body}: {e:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Broken responses
// ---------------------------------------------------------------------------------------

#[test]
fn html_502_is_a_protocol_error_with_a_bounded_excerpt() {
    let tail = "TAIL-MARKER-".repeat(400);
    let body = format!(
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center>{tail}</body></html>"
    );
    let r = response(502, &[("content-type", "text/html; charset=utf-8")], body.as_str());
    let e = parse_refresh_response(&r).expect_err("not JSON");
    assert!(matches!(protocol_kind(&e, 502), ProtocolErrorKind::NotJson { .. }), "{e:?}");
    let p = protocol(&e);
    assert_eq!(p.content_type(), Some("text/html; charset=utf-8"));
    let excerpt = p.excerpt().expect("an excerpt");
    assert!(excerpt.starts_with("<html>"), "{excerpt:?}");
    assert!(excerpt.contains("502 Bad Gateway"), "{excerpt:?}");
    assert!(excerpt.chars().count() <= 100, "bounded: {excerpt:?}");
    assert!(!excerpt.contains("TAIL-MARKER"), "never the whole body: {excerpt:?}");
    assert!(!excerpt.contains(['\r', '\n']), "control characters replaced: {excerpt:?}");
    assert!(e.is_retryable(), "a 5xx that is not an OAuth error may be retried");
    assert_eq!(rotated(&e), None);
    let shown = e.to_string();
    assert!(shown.contains("502"), "{shown}");
    assert!(!shown.contains(['\r', '\n']), "{shown:?}");
}

#[test]
fn html_429_from_a_proxy_keeps_retry_after() {
    let r =
        response(429, &[("retry-after", "30"), ("content-type", "text/html")], "<h1>Too Many Requests</h1>");
    let e = parse_refresh_response(&r).expect_err("not JSON");
    assert!(matches!(protocol_kind(&e, 429), ProtocolErrorKind::NotJson { .. }));
    assert_eq!(e.retry_after_secs(), Some(30));
    assert!(e.is_retryable());
}

#[test]
fn empty_body_is_a_protocol_error() {
    for status in [200, 500] {
        let r = response(status, &[("content-type", "application/json")], "");
        let e = parse_refresh_response(&r).expect_err("empty");
        assert!(matches!(protocol_kind(&e, status), ProtocolErrorKind::NotJson { .. }), "{e:?}");
        assert_eq!(protocol(&e).excerpt(), None, "nothing to excerpt");
        assert_eq!(protocol(&e).content_type(), Some("application/json"));
        assert_eq!(e.is_retryable(), status == 500);
    }
    let e = err(200, " \r\n\t ");
    assert!(matches!(protocol_kind(&e, 200), ProtocolErrorKind::NotJson { .. }));
    assert_eq!(protocol(&e).excerpt(), None);
}

#[test]
fn form_encoded_token_response_is_not_json() {
    // GitHub's legacy answer without `Accept: application/json`.
    let e = err(200, "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo&token_type=bearer");
    assert!(matches!(protocol_kind(&e, 200), ProtocolErrorKind::NotJson { .. }));
    let excerpt = protocol(&e).excerpt().expect("an excerpt");
    assert!(!excerpt.contains("gho_16C7e42F292c6912E7710c838347Ae178B4a"), "token masked: {excerpt:?}");
}

#[test]
fn object_without_error_on_an_error_status_is_unexpected_status() {
    for (status, body) in [
        (400, "{}"),
        (500, r#"{"message":"internal"}"#),
        (401, r#"{"access_token":"a","token_type":"Bearer"}"#),
        (400, r#"{"error":null}"#),
    ] {
        let e = err(status, body);
        assert!(
            matches!(protocol_kind(&e, status), ProtocolErrorKind::UnexpectedStatus { .. }),
            "{status} {body}: {e:?}"
        );
        assert_eq!(rotated(&e), None);
    }
}

#[test]
fn token_body_with_a_non_2xx_status_is_a_protocol_error() {
    let body = r#"{"access_token":"a","token_type":"Bearer","refresh_token":"rt-new"}"#;
    for status in [101, 302, 304, 400, 500] {
        let e = err(status, body);
        assert!(
            matches!(protocol_kind(&e, status), ProtocolErrorKind::UnexpectedStatus { .. }),
            "{status}: {e:?}"
        );
        assert_eq!(
            rotated(&e),
            None,
            "R18 rotated-token-survives-broken-response is about 2xx bodies only ({status})"
        );
    }
}

#[test]
fn non_object_json_is_not_an_object() {
    for body in ["[]", r#"["access_token"]"#, r#""x""#, "1", "null", "true", " [1] "] {
        let e = err(200, body);
        assert_eq!(protocol_kind(&e, 200), &ProtocolErrorKind::NotAnObject, "{body}");
    }
}

#[test]
fn required_members() {
    let cases: &[(&str, ProtocolErrorKind)] = &[
        (r#"{"token_type":"Bearer"}"#, ProtocolErrorKind::MissingField { field: "access_token" }),
        (
            r#"{"access_token":null,"token_type":"Bearer"}"#,
            ProtocolErrorKind::MissingField { field: "access_token" },
        ),
        (r#"{"access_token":"a"}"#, ProtocolErrorKind::MissingField { field: "token_type" }),
        (
            r#"{"access_token":"a","token_type":null}"#,
            ProtocolErrorKind::MissingField { field: "token_type" },
        ),
        ("{}", ProtocolErrorKind::MissingField { field: "access_token" }),
    ];
    for (body, want) in cases {
        assert_eq!(protocol_kind(&err(200, *body), 200), want, "{body}");
    }
    for (body, field) in [
        (r#"{"access_token":"","token_type":"Bearer"}"#, "access_token"),
        (r#"{"access_token":12345,"token_type":"Bearer"}"#, "access_token"),
        (r#"{"access_token":{"v":"a"},"token_type":"Bearer"}"#, "access_token"),
        (r#"{"access_token":"a","token_type":""}"#, "token_type"),
        (r#"{"access_token":"a","token_type":1}"#, "token_type"),
    ] {
        let e = err(200, body);
        assert!(
            matches!(protocol_kind(&e, 200), ProtocolErrorKind::InvalidField { field: f, .. } if *f == field),
            "{body}: {e:?}"
        );
    }
}

#[test]
fn known_members_of_the_wrong_type() {
    for (member, value) in [
        ("refresh_token", "1"),
        ("refresh_token", r#""""#),
        ("id_token", "1"),
        ("id_token", "{}"),
        ("scope", "1"),
        ("scope", r#"["openid"]"#),
        ("code", "true"),
        ("state", "1"),
        ("step_up_token", "[]"),
        ("amr", "1"),
        ("amr", "[1]"),
        ("provider_name", "{}"),
        ("provider_access_token", "0"),
    ] {
        let body = format!(r#"{{"access_token":"a","token_type":"Bearer","{member}":{value}}}"#);
        let e = err(200, body.as_str());
        assert!(
            matches!(protocol_kind(&e, 200), ProtocolErrorKind::InvalidField { field, .. } if *field == member),
            "{body}: {e:?}"
        );
    }
}

#[test]
fn expires_in_rejections() {
    for value in [
        r#""60s""#,
        "-1",
        "3600.0",
        "1e3",
        r#""""#,
        r#"" 60""#,
        r#""60 ""#,
        r#""+60""#,
        r#""-1""#,
        r#""3600.0""#,
        "18446744073709551616",
        r#""18446744073709551616""#,
        "true",
        "[60]",
        r#"{"s":60}"#,
    ] {
        let body = format!(r#"{{"access_token":"a","token_type":"Bearer","expires_in":{value}}}"#);
        let e = err(200, body.as_str());
        assert!(
            matches!(protocol_kind(&e, 200), ProtocolErrorKind::InvalidField { field: "expires_in", .. }),
            "{value}: {e:?}"
        );
    }
}

#[test]
fn expires_in_accepted_forms() {
    for (value, want) in [
        ("18446744073709551615", u64::MAX),
        (r#""18446744073709551615""#, u64::MAX),
        (r#""0""#, 0),
        ("0", 0),
        (r#""3599""#, 3599),
        ("3600", 3600),
    ] {
        let body = format!(r#"{{"access_token":"a","token_type":"Bearer","expires_in":{value}}}"#);
        assert_eq!(
            ok_json(200, &body),
            json!({"accessToken": "a", "tokenType": "Bearer", "expiresIn": want}),
            "{value}"
        );
    }
}

#[test]
fn duplicate_top_level_member() {
    for (body, name) in [
        (r#"{"access_token":"a","token_type":"Bearer","access_token":"b"}"#, "access_token"),
        (r#"{"access_token":"a","token_type":"Bearer","x":1,"x":1}"#, "x"),
        (r#"{"access_token":"a","\u0074oken_type":"Bearer","token_type":"Bearer"}"#, "token_type"),
    ] {
        assert_eq!(
            protocol_kind(&err(200, body), 200),
            &ProtocolErrorKind::DuplicateMember { name: name.into() },
            "{body}"
        );
    }
}

#[test]
fn duplicate_nested_in_an_unknown_member() {
    for body in [
        r#"{"access_token":"a","token_type":"Bearer","x":{"a":1,"a":2}}"#,
        r#"{"access_token":"a","token_type":"Bearer","x":[{"k":{"a":1,"b":{"c":1,"c":1}}}]}"#,
    ] {
        let e = err(200, body);
        assert!(matches!(protocol_kind(&e, 200), ProtocolErrorKind::DuplicateMember { .. }), "{body}: {e:?}");
    }
    // The same name at different levels is no duplicate.
    let body = r#"{"access_token":"a","token_type":"Bearer","x":{"a":{"a":1}}}"#;
    assert_eq!(ok_json(200, body), json!({"accessToken": "a", "tokenType": "Bearer", "x": {"a": {"a": 1}}}));
}

#[test]
fn invalid_utf8_body() {
    for body in [
        &b"{\"access_token\":\"\xff\",\"token_type\":\"Bearer\"}"[..],
        &b"\xef\xbb\xbf{\"access_token\":\"a\",\"token_type\":\"Bearer\"}"[..], // a BOM is not JSON
        &b"\xc3\x28"[..],
        &b"{\"access_token\":\"a\",\"token_type\":\"Bearer\",\"x\":\"\xed\xa0\x80\"}"[..], // a surrogate
    ] {
        let e = err(200, body.to_vec());
        assert!(matches!(protocol_kind(&e, 200), ProtocolErrorKind::NotJson { .. }), "{body:?}: {e:?}");
    }
}

#[test]
fn trailing_garbage_is_not_json() {
    for body in [
        r#"{"access_token":"a","token_type":"Bearer"} x"#,
        r#"{"access_token":"a","token_type":"Bearer"}{}"#,
        r#"{"access_token":"a","token_type":"Bearer"},"#,
        r#"{"access_token":"a","token_type":"Bearer",}"#,
        r#"{"access_token":'a',"token_type":"Bearer"}"#,
        r#"{"access_token":"a","token_type":"Bearer""#,
    ] {
        let e = err(200, body);
        assert!(matches!(protocol_kind(&e, 200), ProtocolErrorKind::NotJson { .. }), "{body}: {e:?}");
    }
    // Surrounding whitespace is fine.
    assert_eq!(
        ok_json(200, " \n{\"access_token\":\"a\",\"token_type\":\"Bearer\"}\r\n "),
        json!({"accessToken": "a", "tokenType": "Bearer"})
    );
}

fn nested_arrays(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn nested_objects(depth: usize) -> String {
    format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
}

#[test]
fn deep_nesting_of_objects_in_an_unknown_member_is_a_protocol_error() {
    let body = format!(r#"{{"access_token":"a","token_type":"Bearer","x":{}}}"#, nested_objects(10_000));
    let e = err(200, body);
    assert!(matches!(protocol_kind(&e, 200), ProtocolErrorKind::NotJson { .. }), "{e:?}");
}

#[test]
fn deep_nesting_of_arrays_in_an_unknown_member_is_a_protocol_error() {
    let body = format!(r#"{{"access_token":"a","token_type":"Bearer","x":{}}}"#, nested_arrays(10_000));
    let outcome = parse(200, body);
    let e = match outcome {
        Ok(r) => panic!(
            "10 000 nested arrays were accepted (and the result cannot even be turned into a \
             serde_json::Value: {:?})",
            serde_json::to_value(&r).err().map(|e| e.to_string())
        ),
        Err(e) => e,
    };
    assert!(matches!(protocol_kind(&e, 200), ProtocolErrorKind::NotJson { .. }), "{e:?}");
}

#[test]
fn deep_nesting_at_the_top_level_or_in_known_members_never_panics() {
    // Top level: not an object, whichever way the parser gets there.
    let e = err(200, nested_arrays(10_000));
    assert!(
        matches!(protocol_kind(&e, 200), ProtocolErrorKind::NotAnObject | ProtocolErrorKind::NotJson { .. }),
        "{e:?}"
    );
    let e = err(
        200,
        format!(r#"{{"access_token":"a","token_type":"Bearer","scope":{}}}"#, nested_arrays(10_000)),
    );
    assert!(
        matches!(protocol_kind(&e, 200), ProtocolErrorKind::InvalidField { field: "scope", .. }),
        "{e:?}"
    );
    let e = err(200, format!(r#"{{"a":{}}}"#, nested_objects(100_000)));
    assert_eq!(e.fault(), Fault::ServerProtocol);
}

#[test]
fn moderate_nesting_in_unknown_members_is_kept() {
    let body = format!(r#"{{"access_token":"a","token_type":"Bearer","x":{}}}"#, nested_arrays(32));
    let v = ok_json(200, &body);
    let want: Value = serde_json::from_str(&nested_arrays(32)).expect("valid");
    assert_eq!(v["x"], want);
}

// ---------------------------------------------------------------------------------------
// R18 rotated-token-survives-broken-response: never lose a rotated refresh token
// ---------------------------------------------------------------------------------------

#[test]
fn rotated_refresh_token_survives_an_otherwise_broken_2xx() {
    let bad_idt = format!("{}.{}", b64(r#"{"alg":"RS256"}"#), b64(r#"{"sub":"x"}"#));
    let cases = [
        (r#"{"token_type":"Bearer","refresh_token":"rt-rotated-1"}"#.to_owned(), "missing access_token"),
        (
            r#"{"access_token":"","token_type":"Bearer","refresh_token":"rt-rotated-1"}"#.to_owned(),
            "empty access_token",
        ),
        (r#"{"access_token":"a","refresh_token":"rt-rotated-1"}"#.to_owned(), "missing token_type"),
        (
            r#"{"access_token":"a","token_type":"Bearer","expires_in":"60s","refresh_token":"rt-rotated-1"}"#
                .to_owned(),
            "bad expires_in",
        ),
        (
            format!(
                r#"{{"access_token":"a","token_type":"Bearer","id_token":"{bad_idt}","refresh_token":"rt-rotated-1"}}"#
            ),
            "undecodable id_token",
        ),
        (
            r#"{"refresh_token":"rt-rotated-1","access_token":"a","token_type":"Bearer","x":{"d":1,"d":2}}"#
                .to_owned(),
            "nested duplicate",
        ),
        (
            r#"{"refresh_token":"rt-rotated-1","access_token":"a","access_token":"b","token_type":"Bearer"}"#
                .to_owned(),
            "duplicate access_token",
        ),
        (
            r#"{"refresh_token":"rt-rotated-1","access_token":"a","token_type":"Bearer","scope":7}"#
                .to_owned(),
            "bad scope",
        ),
    ];
    for (body, why) in cases {
        for status in [200, 201] {
            let mut e = err(status, body.as_str());
            assert_eq!(e.fault(), Fault::ServerProtocol, "{why}");
            assert_eq!(rotated(&e), Some("rt-rotated-1"), "{why} ({status})");
            let taken = e.take_rotated_refresh_token().map(|t| t.expose_secret().to_owned());
            assert_eq!(taken.as_deref(), Some("rt-rotated-1"));
            assert_eq!(rotated(&e), None, "taken out");
        }
    }
}

#[test]
fn no_rotated_refresh_token_when_it_cannot_be_trusted() {
    for (status, body, why) in [
        (200, r#"{"error":"server_error","refresh_token":"rt-x","token_type":"Bearer"}"#, "2xx with error"),
        (400, r#"{"error":"invalid_grant","refresh_token":"rt-x"}"#, "OAuth error"),
        (400, r#"{"refresh_token":"rt-x"}"#, "400 without error"),
        (302, r#"{"refresh_token":"rt-x","token_type":"Bearer"}"#, "redirect"),
        (200, r#"{"refresh_token":"rt-x","refresh_token":"rt-x","token_type":"Bearer"}"#, "duplicated"),
        (
            200,
            r#"{"refresh_token":"rt-x","refresh_token":"rt-y","access_token":"a","token_type":"Bearer"}"#,
            "two",
        ),
        (200, r#"{"refresh_token":"rt\tx","token_type":"Bearer"}"#, "control character"),
        (200, r#"{"refresh_token":"rt-é","token_type":"Bearer"}"#, "non-ASCII"),
        (200, r#"{"refresh_token":"","token_type":"Bearer"}"#, "empty"),
        (200, r#"{"refresh_token":42,"token_type":"Bearer"}"#, "number"),
        (200, r#"["refresh_token","rt-x"]"#, "not an object"),
    ] {
        let e = err(status, body);
        assert_eq!(rotated(&e), None, "{why}: {e:?}");
    }
}

#[test]
fn malformed_refresh_token_in_a_success_is_a_protocol_error() {
    for value in [r#""rt\u0000x""#, r#""rt-é""#, r#""""#, "1"] {
        let body = format!(r#"{{"access_token":"a","token_type":"Bearer","refresh_token":{value}}}"#);
        let e = err(200, body.as_str());
        assert!(
            matches!(protocol_kind(&e, 200), ProtocolErrorKind::InvalidField { field: "refresh_token", .. }),
            "{value}: {e:?}"
        );
        assert_eq!(rotated(&e), None);
    }
}

// ---------------------------------------------------------------------------------------
// ID tokens: malformed
// ---------------------------------------------------------------------------------------

const HDR: &str = r#"{"alg":"RS256"}"#;

/// Malformed ID tokens and the exact decoding error each must give.
fn malformed_id_tokens() -> Vec<(String, JwtError)> {
    let h = b64(HDR);
    let p = b64(r#"{"sub":"x","aud":"app"}"#);
    // `{"sub":"ab"}` needs no padding but `{"sub":"x"}` does: make sure the padded form differs.
    let needs_pad = b64(r#"{"sub":"x"}"#);
    assert_ne!(needs_pad.len() % 4, 0);
    let padded = format!("{needs_pad}{}", "=".repeat(4 - needs_pad.len() % 4));
    assert_eq!(STANDARD.encode(r#"{"sub":"x"}"#), padded);
    // `{"sub":"a>>>b"}` has a '-' in base64url, which is '+' in the standard alphabet.
    let dash = b64(r#"{"sub":"a>>>b"}"#);
    assert!(dash.contains('-'));
    // `{"sub":"???"}` has a '_' in base64url, '/' in the standard alphabet.
    let underscore = b64(r#"{"sub":"???"}"#);
    assert!(underscore.contains('_'));
    let invalid = |payload: &str| format!("{h}.{}.{SIG}", b64(payload));
    let claim = |c: &'static str| JwtError::InvalidClaim { claim: c, reason: "" };
    vec![
        (format!("{h}.{p}"), JwtError::SegmentCount { found: 2 }),
        (format!("{h}.{p}.{SIG}.{h}.{p}"), JwtError::SegmentCount { found: 5 }),
        (h.clone(), JwtError::SegmentCount { found: 1 }),
        (String::new(), JwtError::SegmentCount { found: 1 }),
        (format!("{h}.{padded}.{SIG}"), JwtError::Base64 { segment: Segment::Payload }),
        (format!("{h}.{}.{SIG}", dash.replace('-', "+")), JwtError::Base64 { segment: Segment::Payload }),
        (
            format!("{h}.{}.{SIG}", underscore.replace('_', "/")),
            JwtError::Base64 { segment: Segment::Payload },
        ),
        (format!("{h}.{p}.c2ln+/"), JwtError::Base64 { segment: Segment::Signature }),
        (format!("{h}.{p}.c2lnbg=="), JwtError::Base64 { segment: Segment::Signature }),
        (format!(".{p}.{SIG}"), JwtError::Base64 { segment: Segment::Header }),
        (format!("{h}..{SIG}"), JwtError::Base64 { segment: Segment::Payload }),
        (format!("{h}.{p} .{SIG}"), JwtError::Base64 { segment: Segment::Payload }),
        (
            format!("{h}.{}.{SIG}", b64([b'{', b'"', 0xff, b'"', b':', b'1', b'}'])),
            JwtError::NotUtf8 { segment: Segment::Payload },
        ),
        (format!("{}.{p}.{SIG}", b64([0xc3, 0x28])), JwtError::NotUtf8 { segment: Segment::Header }),
        (invalid("[]"), JwtError::NotAnObject { segment: Segment::Payload }),
        (invalid(r#""sub""#), JwtError::NotAnObject { segment: Segment::Payload }),
        (invalid("null"), JwtError::NotAnObject { segment: Segment::Payload }),
        (format!("{}.{p}.{SIG}", b64("[1]")), JwtError::NotAnObject { segment: Segment::Header }),
        (
            invalid(r#"{"sub":"a","sub":"b"}"#),
            JwtError::Duplicate { segment: Segment::Payload, name: "sub".into() },
        ),
        (
            invalid(r#"{"x":{"k":1,"k":2}}"#),
            JwtError::Duplicate { segment: Segment::Payload, name: "k".into() },
        ),
        (
            format!("{}.{p}.{SIG}", b64(r#"{"alg":"RS256","alg":"none"}"#)),
            JwtError::Duplicate { segment: Segment::Header, name: "alg".into() },
        ),
        (invalid(r#"{"aud":1}"#), claim("aud")),
        (invalid(r#"{"aud":["app",1]}"#), claim("aud")),
        (invalid(r#"{"aud":{"app":true}}"#), claim("aud")),
        (invalid(r#"{"amr":[true]}"#), claim("amr")),
        (invalid(r#"{"exp":-1}"#), claim("exp")),
        (invalid(r#"{"exp":"1700000000"}"#), claim("exp")),
        (invalid(r#"{"iat":true}"#), claim("iat")),
        (invalid(r#"{"auth_time":-0.5}"#), claim("auth_time")),
        (invalid(r#"{"nbf":"soon"}"#), claim("nbf")),
        (invalid(r#"{"email_verified":"yes"}"#), claim("email_verified")),
        (invalid(r#"{"phone_number_verified":1}"#), claim("phone_number_verified")),
        (invalid(r#"{"new_user":"TRUE"}"#), claim("new_user")),
        (invalid(r#"{"address":"12 St James's Square"}"#), claim("address")),
        (invalid(r#"{"address":{"locality":7}}"#), claim("address")),
        (invalid(r#"{"custom_fields":["a"]}"#), claim("custom_fields")),
        (invalid(r#"{"custom_fields":"a"}"#), claim("custom_fields")),
        (invalid(r#"{"sub":1}"#), claim("sub")),
        (invalid(r#"{"iss":["https://id.example"]}"#), claim("iss")),
        (invalid(r#"{"gender":false}"#), claim("gender")),
        (invalid(r#"{"updated_at":true}"#), claim("updated_at")),
        (invalid(r#"{"updated_at":{}}"#), claim("updated_at")),
    ]
}

/// Compares two JWT errors, ignoring the free-text `reason` of `InvalidClaim`.
fn same_jwt_error(got: &JwtError, want: &JwtError) -> bool {
    match (got, want) {
        (JwtError::InvalidClaim { claim: a, .. }, JwtError::InvalidClaim { claim: b, .. }) => a == b,
        (JwtError::NotJson { segment: a, .. }, JwtError::NotJson { segment: b, .. }) => a == b,
        _ => got == want,
    }
}

#[test]
fn malformed_id_tokens_give_the_precise_error() {
    for (token, want) in malformed_id_tokens() {
        let e = decode_id_token(&token).expect_err(&token);
        assert_eq!(e.fault(), Fault::ServerProtocol);
        assert_eq!(e.status(), None, "no response involved");
        assert_eq!(rotated(&e), None);
        let got = jwt_error(&e);
        assert!(same_jwt_error(got, &want), "{token}: got {got:?}, want {want:?}");
        // The error never shows the token.
        if token.len() > 8 {
            assert!(!format!("{e} {e:?}").contains(&token), "{token}");
        }
    }
}

#[test]
fn malformed_id_token_in_a_200_keeps_the_rotated_refresh_token() {
    for (token, want) in malformed_id_tokens() {
        let body = format!(
            r#"{{"access_token":"at","token_type":"Bearer","id_token":{},"refresh_token":"rt-rotated-2"}}"#,
            serde_json::to_string(&token).expect("a JSON string")
        );
        let e = err(200, body.as_str());
        match protocol_kind(&e, 200) {
            ProtocolErrorKind::IdToken(got) => {
                assert!(same_jwt_error(got, &want), "{token}: got {got:?}, want {want:?}");
            }
            other => panic!("{token}: expected an ID-token error, got {other:?}"),
        }
        assert_eq!(rotated(&e), Some("rt-rotated-2"), "{token}");
    }
}

#[test]
fn header_not_json_and_empty_signature() {
    let p = b64(r#"{"sub":"x"}"#);
    let e = decode_id_token(&format!("{}.{p}.{SIG}", b64("not json"))).expect_err("header not JSON");
    assert!(matches!(jwt_error(&e), JwtError::NotJson { segment: Segment::Header, .. }), "{e:?}");
    let e = decode_id_token(&format!("{}.{}.{SIG}", b64(HDR), b64("{"))).expect_err("payload not JSON");
    assert!(matches!(jwt_error(&e), JwtError::NotJson { segment: Segment::Payload, .. }), "{e:?}");
    // An empty signature segment is allowed (the core never verifies signatures).
    let claims = decode_id_token(&format!("{}.{p}.", b64(HDR))).expect("empty signature");
    assert_eq!(claims.sub(), Some("x"));
    // The header is decoded and returned.
    let (header, _) = decode_id_token_with_header(&format!(
        "{}.{p}.",
        b64(r#"{"alg":"ES256","kid":"k-9","crit":["b64"],"typ":"JWT"}"#)
    ))
    .expect("decodes");
    assert_eq!(header.alg(), Some("ES256"));
    assert_eq!(header.kid(), Some("k-9"));
    assert!(header.has_crit());
}

// ---------------------------------------------------------------------------------------
// ID tokens: leniencies and verbatim claims
// ---------------------------------------------------------------------------------------

fn claims_json(payload: &str) -> Value {
    let token = jwt_raw(HDR, payload);
    match decode_id_token(&token) {
        Ok(c) => serde_json::to_value(&c).expect("serialises"),
        Err(e) => panic!("{payload}: {e:?}"),
    }
}

#[test]
fn aud_and_amr_single_strings_become_arrays() {
    assert_eq!(claims_json(r#"{"aud":"x","amr":"pwd"}"#), json!({"aud": ["x"], "amr": ["pwd"]}));
    assert_eq!(
        claims_json(r#"{"aud":["x","y"],"amr":["pwd","otp"]}"#),
        json!({"aud": ["x", "y"], "amr": ["pwd", "otp"]})
    );
    assert_eq!(claims_json(r#"{"aud":[]}"#), json!({"aud": []}));
    // A missing aud is omitted.
    assert_eq!(claims_json(r#"{"sub":"s"}"#), json!({"sub": "s"}));
}

#[test]
fn boolean_claims_accept_true_false_strings() {
    assert_eq!(
        claims_json(r#"{"email_verified":"true","phone_number_verified":"false","new_user":"true"}"#),
        json!({"emailVerified": true, "phoneNumberVerified": false, "newUser": true})
    );
    assert_eq!(
        claims_json(r#"{"email_verified":false,"phone_number_verified":true,"new_user":false}"#),
        json!({"emailVerified": false, "phoneNumberVerified": true, "newUser": false})
    );
}

#[test]
fn updated_at_kept_as_it_came() {
    assert_eq!(claims_json(r#"{"updated_at":1737456322}"#), json!({"updatedAt": 1_737_456_322u64}));
    assert_eq!(claims_json(r#"{"updated_at":1737456322.25}"#), json!({"updatedAt": 1_737_456_322.25}));
    assert_eq!(
        claims_json(r#"{"updated_at":"2025-01-21T10:45:22"}"#),
        json!({"updatedAt": "2025-01-21T10:45:22"})
    );
    let c = decode_id_token(&jwt_raw(HDR, r#"{"updated_at":"2025-01-21T10:45:22"}"#)).expect("decodes");
    assert_eq!(c.updated_at(), Some(&oidc_refresh_core::UpdatedAt::String("2025-01-21T10:45:22".into())));
}

#[test]
fn numeric_dates_keep_fractions_and_integers() {
    assert_eq!(
        claims_json(r#"{"exp":1700000000.5,"iat":1700000000,"auth_time":0}"#),
        json!({"exp": 1_700_000_000.5, "iat": 1_700_000_000u64, "authTime": 0})
    );
    let c = decode_id_token(&jwt_raw(HDR, r#"{"exp":1700000000.5}"#)).expect("decodes");
    assert_eq!(c.exp().map(|d| d.as_secs()), Some(1_700_000_000));
    assert_eq!(c.exp().map(|d| d.as_secs_f64()), Some(1_700_000_000.5));
    // The largest u64 stays an integer.
    assert_eq!(claims_json(r#"{"exp":18446744073709551615}"#), json!({"exp": u64::MAX}));
}

#[test]
fn unknown_claims_kept_verbatim_and_colliding_names_dropped() {
    assert_eq!(
        claims_json(
            r#"{"sub":"s","https://x/roles":["a"],"groups":["g1","g2"],"nbf":1700000000,"tenant":{"id":7,"name":null},"flag":null,"givenName":"evil","authTime":1,"customFields":{}}"#
        ),
        json!({
            "sub": "s",
            "https://x/roles": ["a"],
            "groups": ["g1", "g2"],
            "nbf": 1_700_000_000u64,
            "tenant": {"id": 7, "name": null},
            "flag": null
        })
    );
    // With the wire claim present, the colliding camelCase claim is still dropped.
    assert_eq!(
        claims_json(r#"{"given_name":"Ada","givenName":"evil","updatedAt":"x","updated_at":5}"#),
        json!({"givenName": "Ada", "updatedAt": 5})
    );
    let c = decode_id_token(&jwt_raw(HDR, r#"{"https://x/roles":["a"],"nbf":12.5}"#)).expect("decodes");
    assert_eq!(c.extra_claim("https://x/roles").map(|v| v.get()), Some(r#"["a"]"#));
    assert_eq!(c.extra_claim("nbf").map(|v| v.get()), Some("12.5"));
}

#[test]
fn known_claim_null_is_absent() {
    assert_eq!(
        claims_json(
            r#"{"sub":"s","aud":null,"exp":null,"email":null,"email_verified":null,"address":null,"updated_at":null,"custom_fields":null,"nbf":null}"#
        ),
        json!({"sub": "s"})
    );
}

#[test]
fn address_and_custom_fields_details() {
    assert_eq!(
        claims_json(
            r#"{"address":{"street_address":"1 Main St","postal_code":"75001","country":null,"extra_line":"Bldg 2"},"custom_fields":{"inner_key":{"x_y":[1]},"CamelKey":"v"}}"#
        ),
        json!({
            "address": {"streetAddress": "1 Main St", "postalCode": "75001", "extra_line": "Bldg 2"},
            "customFields": {"inner_key": {"x_y": [1]}, "CamelKey": "v"}
        })
    );
}

#[test]
fn deep_nesting_of_objects_in_an_unknown_claim_is_a_protocol_error() {
    let payload = format!(r#"{{"sub":"s","x":{}}}"#, nested_objects(10_000));
    let e = decode_id_token(&jwt_raw(HDR, &payload)).expect_err("too deep");
    assert!(matches!(jwt_error(&e), JwtError::NotJson { segment: Segment::Payload, .. }), "{e:?}");
}

#[test]
fn deep_nesting_of_arrays_in_an_unknown_claim_is_a_protocol_error() {
    let payload = format!(r#"{{"sub":"s","x":{}}}"#, nested_arrays(10_000));
    let e = match decode_id_token(&jwt_raw(HDR, &payload)) {
        Ok(c) => panic!(
            "10 000 nested arrays in a claim were accepted (and the payload cannot even be turned \
             into a serde_json::Value: {:?})",
            serde_json::to_value(&c).err().map(|e| e.to_string())
        ),
        Err(e) => e,
    };
    assert!(matches!(jwt_error(&e), JwtError::NotJson { segment: Segment::Payload, .. }), "{e:?}");
}

// ---------------------------------------------------------------------------------------
// Request builder: exact bytes
// ---------------------------------------------------------------------------------------

fn body_text(r: &Request<Vec<u8>>) -> &str {
    std::str::from_utf8(r.body()).expect("UTF-8 body")
}

#[test]
fn reachfive_json_body_byte_for_byte() {
    let client = ClientConfig::reachfive("acme.reach5.net", "kR3m4pYv8aZ1").expect("valid");
    let rt = RefreshToken::new("rt-r5-1");
    let r =
        build_refresh_request(&client, &RefreshParams::new(&rt).scope("openid profile email offline_access"))
            .expect("builds");
    assert_eq!(r.method(), Method::POST);
    assert_eq!(r.uri(), "https://acme.reach5.net/oauth/token");
    assert_eq!(
        r.body().as_slice(),
        br#"{"client_id":"kR3m4pYv8aZ1","grant_type":"refresh_token","refresh_token":"rt-r5-1","scope":"openid profile email offline_access"}"#
    );
    assert_eq!(r.headers()[CONTENT_TYPE], "application/json;charset=UTF-8");
    assert_eq!(r.headers()[ACCEPT], "application/json");
    assert!(r.headers().get(AUTHORIZATION).is_none());
    assert_eq!(r.headers().len(), 2, "{:?}", r.headers());

    // Without a scope, no scope member at all.
    let r = build_refresh_request(&client, &RefreshParams::new(&rt)).expect("builds");
    assert_eq!(
        body_text(&r),
        r#"{"client_id":"kR3m4pYv8aZ1","grant_type":"refresh_token","refresh_token":"rt-r5-1"}"#
    );
}

#[test]
fn json_body_escapes_strings() {
    let client = ClientConfig::reachfive("acme.reach5.net", "app\"1\\").expect("valid");
    let rt = RefreshToken::new(r#"r"t\ /<>&"#);
    let r = build_refresh_request(&client, &RefreshParams::new(&rt)).expect("builds");
    assert_eq!(
        body_text(&r),
        r#"{"client_id":"app\"1\\","grant_type":"refresh_token","refresh_token":"r\"t\\ /<>&"}"#
    );
    let parsed: Value = serde_json::from_slice(r.body()).expect("valid JSON");
    assert_eq!(parsed["refresh_token"], r#"r"t\ /<>&"#);
}

#[test]
fn form_body_escapes_the_refresh_token() {
    let client = ClientConfig::new("https://id.example/token", "my-app").expect("valid");
    let rt = RefreshToken::new("a+b/c=d&e f%~*");
    let r = build_refresh_request(&client, &RefreshParams::new(&rt).scope("openid offline_access"))
        .expect("builds");
    assert_eq!(
        body_text(&r),
        "grant_type=refresh_token&refresh_token=a%2Bb%2Fc%3Dd%26e+f%25%7E*&scope=openid+offline_access&client_id=my-app"
    );
    assert_eq!(r.headers()[CONTENT_TYPE], "application/x-www-form-urlencoded");
    assert_eq!(r.headers()[ACCEPT], "application/json");
    assert!(r.headers().get(AUTHORIZATION).is_none());
    assert_eq!(r.uri(), "https://id.example/token");
    assert_eq!(r.uri().query(), None, "nothing in the URL");
    // Scope tokens may hold any %x21 / %x23-5B / %x5D-7E character; they are escaped too.
    let r =
        build_refresh_request(&client, &RefreshParams::new(&rt).scope("https://api.example/read a&b=c+d"))
            .expect("builds");
    assert!(
        body_text(&r).contains("&scope=https%3A%2F%2Fapi.example%2Fread+a%26b%3Dc%2Bd&"),
        "{}",
        body_text(&r)
    );
}

/// Decodes `application/x-www-form-urlencoded` text (for checking, independent of the core).
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
                out.push(u8::from_str_radix(hex, 16).expect("hex digits"));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn basic_credentials_are_form_encoded_before_base64() {
    let secret = "p%:+ ~*'()s";
    let client = ClientConfig::new("https://id.example/token", "my:app 1")
        .expect("valid")
        .with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new(secret)));
    let rt = RefreshToken::new("rt-1");
    let r = build_refresh_request(&client, &RefreshParams::new(&rt)).expect("builds");
    let h = &r.headers()[AUTHORIZATION];
    assert!(h.is_sensitive(), "R7 accept-json-authorization-sensitive: Authorization is sensitive");
    let value = h.to_str().expect("ASCII");
    let encoded = value.strip_prefix("Basic ").expect("Basic scheme");
    let decoded = String::from_utf8(STANDARD.decode(encoded).expect("standard base64")).expect("UTF-8");
    // RFC 6749 §2.3.1: each of id and secret application/x-www-form-urlencoded, then joined by ':'.
    assert_eq!(decoded, "my%3Aapp+1:p%25%3A%2B+%7E*%27%28%29s");
    let (id, sec) = decoded.split_once(':').expect("one unencoded colon");
    assert_eq!(form_decode(id), "my:app 1");
    assert_eq!(form_decode(sec), secret);
    // With Basic, client_id is not in the body.
    assert_eq!(body_text(&r), "grant_type=refresh_token&refresh_token=rt-1");
    assert_eq!(r.headers()[ACCEPT], "application/json");
    assert_eq!(r.headers()[CONTENT_TYPE], "application/x-www-form-urlencoded");
    assert!(format!("{:?}", r.headers()).contains("Sensitive"));
    assert!(!format!("{:?}", r.headers()).contains(encoded));
}

#[test]
fn post_credentials_go_in_the_body() {
    let client = ClientConfig::new("https://id.example/token", "my app")
        .expect("valid")
        .with_auth(ClientAuth::ClientSecretPost(ClientSecret::new("s&=+ %")));
    let rt = RefreshToken::new("rt-1");
    let r = build_refresh_request(&client, &RefreshParams::new(&rt)).expect("builds");
    assert_eq!(
        body_text(&r),
        "grant_type=refresh_token&refresh_token=rt-1&client_id=my+app&client_secret=s%26%3D%2B+%25"
    );
    assert!(r.headers().get(AUTHORIZATION).is_none());
    // JSON body with post credentials.
    let json_client = client.with_body_format(BodyFormat::Json);
    let r = build_refresh_request(&json_client, &RefreshParams::new(&rt).scope("openid")).expect("builds");
    assert_eq!(
        body_text(&r),
        r#"{"client_id":"my app","client_secret":"s&=+ %","grant_type":"refresh_token","refresh_token":"rt-1","scope":"openid"}"#
    );
}

#[test]
fn local_errors_are_never_sent() {
    let client = ClientConfig::new("https://id.example/token", "app").expect("valid");
    for bad in ["", "a\nb", "tab\there", "é", "\u{7f}"] {
        let rt = RefreshToken::new(bad);
        assert!(
            matches!(
                build_refresh_request(&client, &RefreshParams::new(&rt)),
                Err(ConfigError::InvalidRefreshToken { .. })
            ),
            "{bad:?}"
        );
    }
    let rt = RefreshToken::new("ok");
    for bad in ["", " openid", "openid ", "openid  email", "a\"b", "a\\b", "a\u{1}b", "é"] {
        assert!(
            matches!(
                build_refresh_request(&client, &RefreshParams::new(&rt).scope(bad)),
                Err(ConfigError::InvalidScope { .. })
            ),
            "{bad:?}"
        );
    }
    for name in ["grant_type", "refresh_token", "client_id", "client_secret"] {
        assert_eq!(
            build_refresh_request(&client, &RefreshParams::new(&rt).extra_param(name, "x")).err(),
            Some(ConfigError::ReservedParameter { name: name.into() })
        );
    }
    for secret in ["", "a\rb"] {
        let c = client.clone().with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new(secret)));
        assert!(matches!(
            build_refresh_request(&c, &RefreshParams::new(&rt)),
            Err(ConfigError::InvalidClientSecret { .. })
        ));
    }
    assert_eq!(ClientConfig::new("http://id.example/token", "app").err(), Some(ConfigError::InsecureUrl));
    assert!(ClientConfig::new("http://127.0.0.1:8080/token", "app").is_ok());
    assert!(ClientConfig::new("http://[::1]:8080/token", "app").is_ok());
    assert!(ClientConfig::new("http://localhost:8080/token", "app").is_ok());
}
