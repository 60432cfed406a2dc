//! Records the seeds: compiles the root package's vector tests against the recording
//! facade (`oidc_refresh` is this package's library), and adds hand-written seeds for what
//! those tests do not cover (discovery documents, nesting limits, structured error inputs).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// The big `json!` literals of the provider vectors need a deeper macro recursion.
#![recursion_limit = "256"]

// Not ours to format: rustfmt must not follow this into the root package's tests.
#[rustfmt::skip]
#[allow(unused_attributes)]
#[path = "../../../tests/core_vectors.rs"]
mod core_vectors;

// Not ours to format: rustfmt must not follow this into the root package's tests.
#[rustfmt::skip]
#[allow(unused_attributes)]
#[path = "../../../tests/secrets.rs"]
mod secrets;

use oidc_refresh::{record_discovery, record_request, record_response, record_structured_error};

fn nested_arrays(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn nested_objects(depth: usize) -> String {
    format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
}

#[test]
fn hand_written_discovery_documents() {
    let docs: &[(&str, &str)] = &[
        (
            "https://accounts.google.com",
            r#"{"issuer":"https://accounts.google.com","authorization_endpoint":"https://accounts.google.com/o/oauth2/v2/auth","token_endpoint":"https://oauth2.googleapis.com/token","userinfo_endpoint":"https://openidconnect.googleapis.com/v1/userinfo","jwks_uri":"https://www.googleapis.com/oauth2/v3/certs","response_types_supported":["code","token","id_token","code token","code id_token","token id_token","code token id_token","none"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"],"scopes_supported":["openid","email","profile"],"grant_types_supported":["authorization_code","refresh_token","urn:ietf:params:oauth:grant-type:device_code","urn:ietf:params:oauth:grant-type:jwt-bearer"]}"#,
        ),
        (
            "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
            r#"{"token_endpoint":"https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/oauth2/v2.0/token","token_endpoint_auth_methods_supported":["client_secret_post","private_key_jwt","client_secret_basic"],"jwks_uri":"https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/discovery/v2.0/keys","issuer":"https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0","tenant_region_scope":null,"cloud_instance_name":"microsoftonline.com"}"#,
        ),
        (
            "https://sso.example.com/realms/acme",
            r#"{"issuer":"https://sso.example.com/realms/acme","token_endpoint":"https://sso.example.com/realms/acme/protocol/openid-connect/token","jwks_uri":"https://sso.example.com/realms/acme/protocol/openid-connect/certs","grant_types_supported":["authorization_code","implicit","refresh_token","password","client_credentials"],"mtls_endpoint_aliases":{"token_endpoint":"https://sso.example.com/realms/acme/protocol/openid-connect/token"}}"#,
        ),
        (
            "https://acme.eu.auth0.com/",
            r#"{"issuer":"https://acme.eu.auth0.com/","token_endpoint":"https://acme.eu.auth0.com/oauth/token","jwks_uri":"https://acme.eu.auth0.com/.well-known/jwks.json","scopes_supported":["openid","profile","offline_access"]}"#,
        ),
        (
            "https://acme.reach5.net",
            r#"{"issuer":"https://acme.reach5.net","token_endpoint":"https://acme.reach5.net/oauth/token","jwks_uri":"https://acme.reach5.net/.well-known/jwks.json","userinfo_endpoint":"https://acme.reach5.net/identity/v1/userinfo"}"#,
        ),
        (
            "http://127.0.0.1:3000",
            r#"{"issuer":"http://127.0.0.1:3000","token_endpoint":"http://127.0.0.1:3000/token","jwks_uri":"http://127.0.0.1:3000/jwks","claims_parameter_supported":false}"#,
        ),
        (
            "http://localhost:8080",
            r#"{"issuer":"http://localhost:8080","token_endpoint":"http://LOCALHOST:8080/t"}"#,
        ),
        ("http://[::1]:9", r#"{"issuer":"http://[::1]:9","token_endpoint":"http://[::1]:9/token"}"#),
        // Refused: plain http off loopback, wrong issuer, missing or repeated members.
        (
            "https://id.example",
            r#"{"issuer":"https://id.example","token_endpoint":"http://id.example/token"}"#,
        ),
        ("https://id.example", r#"{"issuer":"https://id.example","token_endpoint":"http://127.1/token"}"#),
        (
            "https://id.example",
            r#"{"issuer":"https://id.example","token_endpoint":"http://localhost.evil.example/t"}"#,
        ),
        (
            "https://id.example",
            r#"{"issuer":"https://id.example/","token_endpoint":"https://id.example/token"}"#,
        ),
        ("https://id.example", r#"{"issuer":"https://id.example"}"#),
        (
            "https://id.example",
            r#"{"issuer":"https://id.example","token_endpoint":"https://u:p@id.example/t"}"#,
        ),
        (
            "https://id.example",
            r#"{"issuer":"https://id.example","token_endpoint":"https://id.example/t#f"}"#,
        ),
        (
            "https://id.example",
            r#"{"issuer":"https://id.example","issuer":"https://id.example","token_endpoint":"https://id.example/t"}"#,
        ),
        (
            "https://id.example",
            r#"{"issuer":"https://id.example","token_endpoint":"https://id.example/t","x":{"a":1,"a":2}}"#,
        ),
        ("https://id.example", "<html><body>Not Found</body></html>"),
        ("https://id.example", "[]"),
        (
            "https://id.example?x=1",
            r#"{"issuer":"https://id.example?x=1","token_endpoint":"https://id.example/t"}"#,
        ),
    ];
    for (issuer, body) in docs {
        record_discovery(issuer, body.as_bytes());
    }
}

#[test]
fn hand_written_nesting_limits() {
    // serde_json's recursion limit is 128: just below, at and past it, at the top level, in
    // an unknown member and in a known one.
    for depth in [126, 127, 128, 129, 200] {
        let arrays = nested_arrays(depth);
        let objects = nested_objects(depth);
        for body in [
            format!(r#"{{"access_token":"a","token_type":"Bearer","x":{arrays}}}"#),
            format!(r#"{{"access_token":"a","token_type":"Bearer","x":{objects}}}"#),
            format!(r#"{{"access_token":"a","token_type":"Bearer","scope":{arrays}}}"#),
            format!(r#"{{"access_token":"a","token_type":"Bearer","accessToken":{objects}}}"#),
            format!(r#"{{"error":"invalid_grant","x":{arrays}}}"#),
            arrays.clone(),
        ] {
            record_response(200, body.as_bytes());
            record_response(400, body.as_bytes());
        }
    }
}

#[test]
fn hand_written_token_responses() {
    for body in [
        // A known member's repeated name only inside a dropped (colliding) member.
        r#"{"access_token":"at-1234567890","token_type":"Bearer","accessToken":{"a":1,"a":2}}"#,
        r#"{"access_token":"at-1234567890","token_type":"DPoP","expires_in":"18446744073709551615"}"#,
        r#"{"access_token":"at-1234567890","token_type":"bearer","expires_in":18446744073709551616}"#,
        r#"{"access_token":"at-1234567890","token_type":"Bearer","expires_in":-0}"#,
        r#"{"access_token":"at-1234567890","token_type":"Bearer","expires_in":"0003600"}"#,
        r#"{"access_token":"at-1234567890","token_type":"Bearer","big":1e400,"small":-1e-400}"#,
        r#"{"access_token":"at-1234567890","token_type":"Bearer","refresh_token":"rt\u0000x"}"#,
        r#"{"access_token":"at-1234567890","token_type":"Bearer","\u0061ccess_token":"x"}"#,
        r#"{"access_token":"SECRET-AT-abcdefghijklmnopqrstuvwxyz","token_type":"Bearer","refresh_token":"SECRET-RT-abcdefghijklmnopqrstuvwxyz","code":"SECRET-CODE-1234567890","step_up_token":"SECRET-SU-1234567890","provider_access_token":"SECRET-PAT-1234567890","provider_name":"google","state":"st-1","amr":"pwd"}"#,
        r#"{"token_type":"Bearer","refresh_token":"SECRET-RT-rotated-0123456789abcdef","expires_in":3600.5}"#,
        r#"{"access_token":"at","error":null,"token_type":"Bearer","scope":null,"x":null}"#,
    ] {
        record_response(200, body.as_bytes());
    }
    for (status, body) in [
        (
            400,
            r#"{"error":"invalid_grant","error_description":"token SECRET-RT-abcdefghijklmnopqrstuvwxyz revoked","refresh_token":"SECRET-RT-abcdefghijklmnopqrstuvwxyz"}"#,
        ),
        (400, r#"{"error":"invalid_authorization_details"}"#),
        (401, r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#),
        (429, r#"{"error":"slow_down","error_details":[{"field":"a","field":"b"}]}"#),
        (503, "Service Unavailable\r\n\r\nretry later"),
        (502, "\u{feff}{\"error\":\"server_error\"}"),
    ] {
        record_response(status, body.as_bytes());
    }
}

#[test]
fn hand_written_requests() {
    use oidc_refresh::{BodyFormat, ClientAuth, ClientSecret};
    let basic = ClientAuth::ClientSecretBasic(ClientSecret::new("p%:+ ~*'()s"));
    let post = ClientAuth::ClientSecretPost(ClientSecret::new("s&=+ %"));
    for (format, auth, rt, scope, id) in [
        (BodyFormat::Form, &basic, "rt-1", Some("openid offline_access"), "my:app 1"),
        (BodyFormat::Json, &post, "r\"t\\ /<>&", Some("openid"), "app\"1\\"),
        (
            BodyFormat::Form,
            &ClientAuth::None,
            "a+b/c=d&e f%~*",
            Some("https://api.example/read a&b=c+d"),
            "my-app",
        ),
        (BodyFormat::Json, &ClientAuth::None, "rt-r5-1", None, "kR3m4pYv8aZ1"),
        (BodyFormat::Form, &ClientAuth::None, "rt", Some("!#[]~ \u{7f}"), "app"),
        (BodyFormat::Form, &ClientAuth::None, "tab\there", Some("openid"), "app"),
        (BodyFormat::Form, &basic, "rt", Some(""), "app"),
    ] {
        record_request(format, auth, rt, scope, id);
    }
}

#[test]
fn hand_written_structured_errors() {
    // Arbitrary reader bytes: each gives some OAuth-error-shaped body (see structured_error).
    let inputs: &[&[u8]] = &[
        &[0x07, 0, 0, 0, 1, 0, 0, 2, 3, 0, 1, 4, 3, 5],
        &[0x00, 3, 0, 3, 0, 0, 2, 8, 2, 3, b'a', b'b', b'c', 5, b'h', b'e', b'l', b'l', b'o', 0],
        &[
            0x01, 1, 5, b'1', b'2', b'0', b' ', b' ', 2, 0, 3, 1, 9, 30, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
            11, 12,
        ],
        &[0x18, 4, 0, 4, 7, 3, 0, 5, 6, 9, 0, 3, 1, 2, 3, 6, b'}', b'x', b'y', 40],
        &[0x02, 2, 1, 1, 0, 3, 3, 6, 3, 0, 6, 2, 0, 3, 16],
    ];
    for (i, input) in inputs.iter().enumerate() {
        record_structured_error(i as u8 * 3, input);
    }
}
