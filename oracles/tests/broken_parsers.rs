//! The `discovery` and `id_token` oracles catch a parser that refuses what it must accept.
//!
//! Each oracle takes the parser under test as an argument (`check_with`); here it is given
//! the core's, which must pass on every known-good input, then deliberately broken stand-ins
//! (one that refuses everything, and ones that refuse one kind of valid input each), which
//! must each be caught on some known-good input by the acceptance check, and by nothing
//! else: every other invariant holds for a stand-in that refuses the way the core refuses.

// Tests fail by panicking: `expect`/`unwrap`/`panic!` are how they report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use oidc_refresh_core::http::Response;
use oidc_refresh_core::{
    AuthResult, Error, IdTokenPayload, JwtHeader, ProviderMetadata, decode_id_token,
    decode_id_token_with_header, parse_discovery_response, parse_refresh_response,
};
use oidc_refresh_oracles::common::{panic_message, response};
use oidc_refresh_oracles::reference::endpoint::discovery_document_ok;
use oidc_refresh_oracles::reference::jose::{base64url_decode, id_token_ok, unsigned_jwt};
use oidc_refresh_oracles::{discovery, id_token};

/// What `f` panicked with, if it did.
fn failure(f: impl FnOnce()) -> Option<String> {
    catch_unwind(AssertUnwindSafe(f)).err().map(|p| panic_message(&*p))
}

// ---------------------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------------------

/// Well-formed discovery documents (status, issuer, body): real providers' and edge cases
/// the contract allows.
const GOOD_DOCUMENTS: &[(u16, &str, &str)] = &[
    (
        200,
        "https://accounts.google.com",
        r#"{"issuer":"https://accounts.google.com","authorization_endpoint":"https://accounts.google.com/o/oauth2/v2/auth","token_endpoint":"https://oauth2.googleapis.com/token","jwks_uri":"https://www.googleapis.com/oauth2/v3/certs","response_types_supported":["code","token","id_token"],"grant_types_supported":["authorization_code","refresh_token"]}"#,
    ),
    (
        200,
        "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
        r#"{"token_endpoint":"https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/oauth2/v2.0/token","issuer":"https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0","tenant_region_scope":null,"cloud_instance_name":"microsoftonline.com"}"#,
    ),
    (
        200,
        "https://sso.example.com/realms/acme",
        r#"{"issuer":"https://sso.example.com/realms/acme","token_endpoint":"https://sso.example.com/realms/acme/protocol/openid-connect/token","mtls_endpoint_aliases":{"token_endpoint":"https://mtls.example.com/t"}}"#,
    ),
    (
        200,
        "https://acme.eu.auth0.com/",
        r#"{"issuer":"https://acme.eu.auth0.com/","token_endpoint":"https://acme.eu.auth0.com/oauth/token","jwks_uri":"https://acme.eu.auth0.com/.well-known/jwks.json"}"#,
    ),
    (
        200,
        "https://acme.reach5.net",
        r#"{"issuer":"https://acme.reach5.net","token_endpoint":"https://acme.reach5.net/oauth/token"}"#,
    ),
    (
        200,
        "http://127.0.0.1:3000",
        r#"{"issuer":"http://127.0.0.1:3000","token_endpoint":"http://127.0.0.1:3000/token"}"#,
    ),
    (
        200,
        "http://localhost:8080",
        r#"{"issuer":"http://localhost:8080","token_endpoint":"http://LOCALHOST:8080/t"}"#,
    ),
    (200, "http://[::1]:9", r#"{"issuer":"http://[::1]:9","token_endpoint":"http://[::1]:9/token"}"#),
    // JSON escapes, whitespace, a query, an IPv6 host, other statuses of success.
    (
        200,
        "https://id.example",
        " {\"issuer\" : \"https:\\/\\/id.ex\\u0061mple\", \"token_endpoint\":\"https://id.example/t?tenant=a%2Fb\"}\n",
    ),
    (
        200,
        "https://id.example",
        r#"{"issuer":"https://id.example","token_endpoint":"https://[2001:db8::1]:8443/t","jwks_uri":7}"#,
    ),
    (
        201,
        "https://id.example",
        r#"{"issuer":"https://id.example","token_endpoint":"https://id.example/token"}"#,
    ),
    (
        204,
        "https://id.example",
        r#"{"issuer":"https://id.example","token_endpoint":"https://id.example/token"}"#,
    ),
];

/// Refuses as the core refuses a document that is not an object, with the same status.
fn refusal(r: &Response<Vec<u8>>, issuer: &str) -> Result<ProviderMetadata, Error> {
    let mut broken = r.clone();
    *broken.body_mut() = b"[]".to_vec();
    parse_discovery_response(&broken, issuer)
}

/// Broken stand-ins for `parse_discovery_response`, each refusing a kind of valid document.
const BROKEN_DISCOVERY: &[(&str, discovery::Parser)] = &[
    ("refuses everything", refusal),
    ("refuses http even on loopback", |r, issuer| {
        if r.body().windows(7).any(|w| w == b"\"http:/") {
            refusal(r, issuer)
        } else {
            parse_discovery_response(r, issuer)
        }
    }),
    ("refuses metadata it does not use", |r, issuer| {
        if r.body().windows(9).any(|w| w == b"supported") {
            refusal(r, issuer)
        } else {
            parse_discovery_response(r, issuer)
        }
    }),
    ("refuses escaped strings", |r, issuer| {
        if r.body().contains(&b'\\') { refusal(r, issuer) } else { parse_discovery_response(r, issuer) }
    }),
    ("refuses every success but 200", |r, issuer| {
        if r.status() == 200 { parse_discovery_response(r, issuer) } else { refusal(r, issuer) }
    }),
];

#[test]
fn the_core_accepts_every_good_discovery_document() {
    for (status, issuer, body) in GOOD_DOCUMENTS {
        assert!(discovery_document_ok(*status, issuer, body.as_bytes()), "not good by the reference: {body}");
        let r = response(*status, &[], body.as_bytes().to_vec());
        assert!(parse_discovery_response(&r, issuer).is_ok(), "{body}");
        discovery::check(issuer, &r);
    }
}

#[test]
fn broken_discovery_parsers_are_caught() {
    for (what, parse) in BROKEN_DISCOVERY {
        let mut caught = 0;
        for (status, issuer, body) in GOOD_DOCUMENTS {
            let r = response(*status, &[], body.as_bytes().to_vec());
            match failure(|| discovery::check_with(*parse, issuer, &r)) {
                Some(message) => {
                    assert!(message.contains("was refused"), "{what}: caught by another check: {message}");
                    caught += 1;
                }
                None => assert!(parse(&r, issuer).is_ok(), "{what}: a refusal of {body} went unnoticed"),
            }
        }
        assert!(caught > 0, "{what}: never caught");
    }
}

// ---------------------------------------------------------------------------------------
// ID tokens
// ---------------------------------------------------------------------------------------

/// Well-formed ID tokens (header, claims, signature segment): real-world shapes and the
/// contract's leniencies.
fn good_id_tokens() -> Vec<String> {
    let tokens: &[(&str, &str, &str)] = &[
        (
            r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#,
            r#"{"iss":"https://accounts.google.com","azp":"app","aud":"app","sub":"110169484474386276334","email":"a@example.com","email_verified":true,"at_hash":"HK6E_P6Dh8Y93mRNtsDB1Q","iat":1700000000,"exp":1700003600}"#,
            "c2lnbmF0dXJl",
        ),
        (
            r#"{"alg":"RS256"}"#,
            r#"{"iss":"https://acme.reach5.net","sub":"AVPw-jHcQG6W","aud":["app","api"],"amr":"pwd","auth_time":1699999000.5,"nbf":0,"email_verified":"true","phone_number_verified":"false","new_user":false,"updated_at":"2025-01-21T10:45:22","address":{"country":"FR","postal_code":null,"extra":[1]},"custom_fields":{"tier":"gold"},"auth_type":"password"}"#,
            "",
        ),
        (
            r#"{"alg":"ES256","crit":["exp"],"x":{"y":null}}"#,
            r#"{"sub":"\u00e9t\u00e9 \ud83d\ude00","name":null,"updated_at":1700000000,"exp":1e10,"authTime":"collides","unknown":{"deep":[[[[]]]]}}"#,
            "AAEC_-8",
        ),
        (r#"{}"#, r#"{}"#, "YQ"),
    ];
    tokens.iter().map(|(h, c, s)| format!("{}{s}", unsigned_jwt(h, c))).collect()
}

/// The token a stand-in refuses with: the core's refusal of a token that is not one.
const NOT_A_JWT: &str = "not-a-jwt";

fn refuse_payload(_: &str) -> Result<IdTokenPayload, Error> {
    decode_id_token(NOT_A_JWT)
}

fn refuse_with_header(_: &str) -> Result<(JwtHeader, IdTokenPayload), Error> {
    decode_id_token_with_header(NOT_A_JWT)
}

fn refuse_response(_: &Response<Vec<u8>>) -> Result<AuthResult, Error> {
    let body = format!(r#"{{"access_token":"at-fuzz-0001","token_type":"Bearer","id_token":"{NOT_A_JWT}"}}"#);
    parse_refresh_response(&response(200, &[], body.into_bytes()))
}

/// The `id_token` of a token response, as the core reads it.
fn id_token_of(r: &Response<Vec<u8>>) -> String {
    let value: serde_json::Value = serde_json::from_slice(r.body()).expect("the seed response is JSON");
    value["id_token"].as_str().expect("the seed response has an id_token").to_owned()
}

/// The decoded header (`i` 0) or claims (`i` 1) segment, as text.
fn segment_text(jwt: &str, i: usize) -> String {
    let bytes =
        jwt.split('.').nth(i).and_then(base64url_decode).expect("a base64url segment of the seed token");
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A stand-in that refuses (consistently, in all three places) the tokens `bad` picks.
macro_rules! refusing {
    ($bad:expr) => {{
        const BAD: fn(&str) -> bool = $bad;
        id_token::Decoders {
            decode: |jwt| if BAD(jwt) { refuse_payload(jwt) } else { decode_id_token(jwt) },
            decode_with_header: |jwt| {
                if BAD(jwt) { refuse_with_header(jwt) } else { decode_id_token_with_header(jwt) }
            },
            parse_response: |r| {
                if BAD(&id_token_of(r)) { refuse_response(r) } else { parse_refresh_response(r) }
            },
        }
    }};
}

/// Broken stand-ins for the core's ID-token decoding, each refusing a kind of valid token.
fn broken_decoders() -> Vec<(&'static str, id_token::Decoders)> {
    vec![
        (
            "refuses everything",
            id_token::Decoders {
                decode: refuse_payload,
                decode_with_header: refuse_with_header,
                parse_response: refuse_response,
            },
        ),
        ("refuses an empty signature", refusing!(|jwt| jwt.ends_with('.'))),
        ("refuses a single-string aud", refusing!(|jwt| segment_text(jwt, 1).contains(r#""aud":""#))),
        ("refuses boolean strings", refusing!(|jwt| segment_text(jwt, 1).contains(r#""true""#))),
        ("refuses fractional dates", refusing!(|jwt| segment_text(jwt, 1).contains(".5"))),
        ("refuses unknown header members", refusing!(|jwt| segment_text(jwt, 0).contains("crit"))),
    ]
}

#[test]
fn the_core_decodes_every_good_id_token() {
    for jwt in good_id_tokens() {
        assert!(id_token_ok(&jwt), "not well-formed by the reference: {jwt}");
        assert!(decode_id_token(&jwt).is_ok(), "{jwt}");
        id_token::check(&jwt);
        id_token::check_with(id_token::CORE, &jwt);
    }
}

#[test]
fn broken_id_token_decoders_are_caught() {
    for (what, decoders) in broken_decoders() {
        let mut caught = 0;
        for jwt in good_id_tokens() {
            match failure(|| id_token::check_with(decoders, &jwt)) {
                Some(message) => {
                    assert!(
                        message.contains("a well-formed ID token was refused"),
                        "{what}: caught by another check: {message}"
                    );
                    caught += 1;
                }
                None => assert!((decoders.decode)(&jwt).is_ok(), "{what}: a refusal of {jwt} went unnoticed"),
            }
        }
        assert!(caught > 0, "{what}: never caught");
    }
}
