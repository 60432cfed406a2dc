//! Records the seeds: compiles the core's and the root package's vector tests against the
//! recording facade (`oidc_refresh` is this package's library), and adds hand-written seeds
//! for what those tests do not cover (discovery documents, nesting limits, structured error
//! inputs, and the event scripts of the `session` target).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// The big `json!` literals of the provider vectors need a deeper macro recursion.
#![recursion_limit = "256"]

// The core's vectors name `oidc_refresh_core`: in this test crate that name is the recording
// facade (this package's library, `oidc_refresh`), so every input they hand the core is
// recorded. (The package depends on the real core under another name, `real_core`.)
extern crate oidc_refresh as oidc_refresh_core;

// Not ours to format: rustfmt must not follow this into the core's tests.
#[rustfmt::skip]
#[path = "../../../core/tests/suite/vectors.rs"]
mod core_vectors;

// Not ours to format: rustfmt must not follow this into the root package's tests.
#[rustfmt::skip]
#[allow(unused_attributes)]
#[path = "../../../tests/integration/secrets.rs"]
mod secrets;

// The `key_set` and `verify` seeds.
#[path = "record/signatures.rs"]
mod signatures;

use oidc_refresh::{record, record_discovery, record_request, record_response, record_structured_error};

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

#[test]
fn hand_written_session_scripts() {
    // The `session` target's input builder and checker: every seed is run through it here
    // and must reach the path it is written for.
    use oidc_refresh_oracles::session::*;
    type Reaches = fn(&SessionStats) -> bool;
    // `R_SUCCESS` flags: bit 0 rotate, bit 1 an ID token (two claims bytes follow), bit 2 a
    // scope, bits 3-6 the `expires_in` choice (12: 3600 s, 1: 0 s, 0: absent).
    const ROTATE: u8 = 1 | 12 << 3;
    const ROTATE_ID: u8 = 1 | 2 | 12 << 3;
    // Poll, load the store's content, poll (Send).
    // The initial access token has expired: poll, load the store's content, poll (Send).
    let to_send = |cfg: u8| {
        Script::new(cfg | CFG_EXPIRED).op(OP_POLL_NOW, &[]).op(OP_LOADED, &[0]).op(OP_POLL_NOW, &[])
    };
    let scripts: Vec<(&str, Script, Reaches)> = vec![
        ("happy rotation", Script::new(START_NEW | CFG_EXPIRED).steps(6), |s| {
            s.rotation_stored > 0 && s.ready > 0
        }),
        ("a fresh token without I/O", Script::new(START_WITH_TOKENS).op(OP_POLL_NOW, &[]), |s| {
            s.ready > 0 && s.load == 0
        }),
        (
            "rotation with ID-token continuity, JSON body and scope",
            to_send(START_NEW | CFG_ID_TOKEN | CFG_ISSUER | CFG_JSON | CFG_SCOPE)
                .op(OP_RESPOND, &[1, R_SUCCESS, ROTATE_ID | 4, 0, 0])
                .steps(3),
            |s| s.rotation_stored > 0 && s.ready > 0,
        ),
        (
            "another subject: the rotated token is dropped",
            to_send(START_NEW | CFG_ID_TOKEN).op(OP_RESPOND, &[1, R_SUCCESS, ROTATE_ID, 1, 0]).steps(6),
            |s| s.identity_discarded > 0 && s.failed > 0,
        ),
        (
            "another issuer than configured",
            to_send(START_NEW | CFG_ISSUER).op(OP_RESPOND, &[1, R_SUCCESS, ROTATE_ID, 2, 0]).steps(6),
            |s| s.identity_discarded > 0,
        ),
        (
            "aud without the client",
            to_send(START_NEW).op(OP_RESPOND, &[1, R_SUCCESS, ROTATE_ID, 4, 0]).steps(6),
            |s| s.identity_discarded > 0,
        ),
        (
            "another audience set",
            to_send(START_NEW | CFG_ID_TOKEN).op(OP_RESPOND, &[1, R_SUCCESS, ROTATE_ID, 8, 0]).steps(6),
            |s| s.identity_discarded > 0,
        ),
        (
            "another subject, expired: dropped all the same (identity is checked first)",
            to_send(START_NEW | CFG_ID_TOKEN).op(OP_RESPOND, &[1, R_SUCCESS, ROTATE_ID, 1 | 32, 0]).steps(6),
            |s| s.identity_discarded > 0,
        ),
        (
            "another nonce: the rotated token is kept (R18)",
            to_send(START_NEW | CFG_ID_TOKEN).op(OP_RESPOND, &[1, R_SUCCESS, ROTATE_ID, 64, 0]).steps(6),
            |s| s.rotated_in_error > 0 && s.rotation_stored > 0 && s.failed > 0,
        ),
        (
            "a broken rotating response: stored, then reported",
            to_send(START_NEW).op(OP_RESPOND, &[1, R_BROKEN, 1, 0]).steps(6),
            |s| s.rotated_in_error > 0 && s.rotation_stored > 0 && s.failed > 0,
        ),
        (
            "a broken rotating response whose write fails",
            to_send(START_NEW)
                .op(OP_RESPOND, &[1, R_BROKEN, 1, 0])
                .op(OP_POLL_NOW, &[])
                .op(OP_STORED_ERR, &[])
                .steps(8),
            |s| s.rotated_surfaced > 0 && s.rotation_stored > 0 && s.ready > 0,
        ),
        (
            "a rotation whose write fails twice",
            to_send(START_NEW)
                .op(OP_RESPOND, &[1, R_SUCCESS, ROTATE])
                .op(OP_POLL_NOW, &[])
                .op(OP_STORED_ERR, &[])
                .op(OP_POLL_NOW, &[])
                .op(OP_POLL_NOW, &[])
                .op(OP_LOADED, &[0])
                .op(OP_POLL_NOW, &[])
                .op(OP_STORED_ERR, &[])
                .steps(8),
            |s| s.rotated_surfaced >= 2 && s.store_failed >= 2 && s.rotation_stored > 0,
        ),
        (
            "a 503 then success",
            to_send(START_NEW)
                .op(OP_RESPOND, &[1, R_HTML_5XX, 1])
                .op(OP_POLL_NOW, &[])
                .op(OP_POLL_AT, &[0])
                .op(OP_RESPOND, &[1, R_SUCCESS, ROTATE])
                .steps(3),
            |s| s.retry > 0 && s.wait > 0 && s.ready > 0,
        ),
        (
            "three transient failures: reported",
            to_send(START_NEW)
                .op(OP_RESPOND, &[0, R_HTML_5XX, 2])
                .op(OP_STEP, &[])
                .op(OP_POLL_NOW, &[])
                .op(OP_TRANSPORT, &[1, 1])
                .op(OP_STEP, &[])
                .op(OP_POLL_NOW, &[])
                .op(OP_RESPOND, &[0, R_UNAVAILABLE, 0])
                .steps(6),
            |s| s.retry >= 2 && s.failed > 0,
        ),
        (
            "429 with Retry-After 7",
            to_send(START_NEW).op(OP_RESPOND, &[0, R_429, 2, 0]).op(OP_POLL_NOW, &[]).steps(6),
            |s| s.wait > 0 && s.retry > 0,
        ),
        (
            "429 with Retry-After 120: no retry",
            to_send(START_NEW).op(OP_RESPOND, &[0, R_429, 5, 1]).steps(6),
            |s| s.retry == 0 && s.failed > 0,
        ),
        (
            "Retry-After 120 within a 10-year backoff",
            Script::with_timing(START_NEW | CFG_EXPIRED, 3 << 6, 7)
                .op(OP_POLL_NOW, &[])
                .op(OP_LOADED, &[0])
                .op(OP_POLL_NOW, &[])
                .op(OP_RESPOND, &[0, R_429, 5, 0])
                .steps(6),
            |s| s.wait > 0 && s.retry > 0,
        ),
        (
            "a timeout retried, then a TLS failure reported",
            to_send(START_NEW)
                .op(OP_TRANSPORT, &[2, 1])
                .op(OP_STEP, &[])
                .op(OP_POLL_NOW, &[])
                .op(OP_TRANSPORT, &[2, 2])
                .steps(6),
            |s| s.retry > 0 && s.failed > 0,
        ),
        (
            "invalid_grant: SignIn until another grant is stored",
            to_send(START_NEW)
                .op(OP_RESPOND, &[0, R_INVALID_GRANT, 0])
                .op(OP_POLL_NOW, &[])
                .op(OP_POLL_NOW, &[])
                .op(OP_LOADED, &[0])
                .op(OP_POLL_NOW, &[])
                .op(OP_POLL_NOW, &[])
                .op(OP_LOADED, &[5])
                .steps(6),
            |s| s.sign_in >= 2 && s.adopted > 0 && s.ready > 0,
        ),
        (
            "invalid_grant in a 200 beside an access token",
            to_send(START_NEW).op(OP_RESPOND, &[0, R_ERROR_IN_200]).steps(4),
            |s| s.sign_in > 0,
        ),
        ("an empty store: SignIn", Script::new(START_EMPTY).steps(4), |s| s.sign_in > 0 && s.send == 0),
        (
            "a store read failure",
            Script::new(START_NEW).op(OP_POLL_NOW, &[]).op(OP_LOADED, &[2]).steps(6),
            |s| s.failed > 0 && s.ready > 0,
        ),
        (
            "another process rotated first: adopted, nothing sent",
            Script::new(START_WITH_TOKENS | CFG_EXPIRED).op(OP_POLL_NOW, &[]).op(OP_LOADED, &[3]).steps(2),
            |s| s.adopted > 0 && s.send == 0 && s.ready > 0,
        ),
        (
            "a stale start: the spent token is never sent",
            Script::new(START_STALE | CFG_EXPIRED | CFG_ID_TOKEN).steps(3),
            |s| s.adopted > 0 && s.send == 0 && s.ready > 0,
        ),
        (
            "a failed early refresh keeps the valid token",
            Script::new(START_WITH_TOKENS)
                .op(OP_POLL_AT, &[6])
                .op(OP_POLL, &[31])
                .op(OP_LOADED, &[0])
                .op(OP_POLL_NOW, &[])
                .op(OP_RESPOND, &[0, R_OTHER_ERROR, 1])
                .op(OP_POLL_NOW, &[])
                .op(OP_POLL, &[5]),
            |s| s.ready_with_error > 0,
        ),
        (
            "expires_in 0: handed out once",
            to_send(START_NEW).op(OP_RESPOND, &[3, R_SUCCESS, 1 | 1 << 3]).steps(4),
            |s| s.ready_expired_once > 0,
        ),
        (
            "an access token reported invalid, a stale one, an unknown one",
            Script::new(START_WITH_TOKENS)
                .op(OP_POLL_NOW, &[])
                .op(OP_INVALID_AT, &[0])
                .op(OP_INVALID_AT, &[0])
                .op(OP_INVALID_AT, &[2])
                .steps(6)
                .op(OP_INVALID_AT, &[1]),
            |s| s.invalidated == 1 && s.rotation_stored > 0,
        ),
        (
            "a forced refresh of a fresh token",
            Script::new(START_WITH_TOKENS).op(OP_FORCE, &[]).steps(6),
            |s| s.rotation_stored > 0,
        ),
        ("a request abandoned", to_send(START_NEW).op(OP_ABANDON, &[]).steps(8), |s| {
            s.abandoned > 0 && s.failed > 0 && s.ready > 0
        }),
        (
            "a rotated token's write abandoned",
            to_send(START_NEW).op(OP_RESPOND, &[1, R_SUCCESS, ROTATE]).op(OP_ABANDON, &[]).steps(8),
            |s| s.abandoned > 0 && s.rotated_surfaced > 0 && s.rotation_stored > 0,
        ),
        (
            "the clock goes back and jumps far ahead",
            Script::new(START_WITH_TOKENS)
                .op(OP_JUMP, &[0, 255])
                .op(OP_JUMP, &[2, 40])
                .steps(6)
                .op(OP_JUMP, &[2, 63])
                .steps(6),
            |s| s.ready >= 2 && s.rotation_stored > 0,
        ),
        (
            "one attempt, no backoff, no margin",
            Script::with_timing(START_NEW | CFG_EXPIRED, 1 | 1 << 2 | 1 << 4 | 1 << 6, 3)
                .op(OP_POLL_NOW, &[])
                .op(OP_LOADED, &[0])
                .op(OP_POLL_NOW, &[])
                .op(OP_RESPOND, &[0, R_HTML_5XX, 0])
                .steps(6),
            |s| s.retry == 0 && s.failed > 0 && s.ready > 0,
        ),
        (
            "raw, truncated and odd responses",
            to_send(START_NEW)
                .op(OP_RESPOND, &[0, R_RAW, 0, 9, b'{', b'"', b'e', b'r', b'r', b'o', b'r', b'"', b':'])
                .steps(4)
                .op(OP_RESPOND, &[0, R_TRUNCATED, ROTATE, 40])
                .steps(4)
                .op(OP_RESPOND, &[0, R_ODD_STATUS, 0])
                .steps(4)
                .op(OP_RESPOND, &[0, R_BAD_REFRESH_TOKEN, 1])
                .steps(4)
                .op(OP_RESPOND, &[0, R_INVALID_REQUEST])
                .steps(6),
            |s| s.failed >= 5 && s.ready > 0,
        ),
        (
            "calls out of turn are ignored",
            Script::new(START_WITH_TOKENS)
                .op(OP_STORED_OK, &[])
                .op(OP_RESPOND, &[0, R_SUCCESS, ROTATE])
                .op(OP_TRANSPORT, &[0, 0])
                .op(OP_LOADED, &[0])
                .op(OP_POLL_NOW, &[]),
            |s| s.ignored >= 4 && s.ready > 0,
        ),
        (
            "another process writes only when the lock is free",
            Script::new(START_NEW)
                .op(OP_OTHER_PROCESS, &[0])
                .op(OP_POLL_NOW, &[])
                .op(OP_LOADED, &[4])
                .op(OP_OTHER_PROCESS, &[0])
                .steps(4)
                .op(OP_OTHER_PROCESS, &[2 | 16])
                .op(OP_FORCE, &[])
                .steps(6),
            |s| s.other_writes >= 2 && s.adopted >= 2,
        ),
        // The three bugs this target found in `Session` (see fuzz/regressions/session/).
        (
            "an unwritten set without a rotated token yields to another process's rotation",
            to_send(START_NEW | CFG_EXPIRED)
                .op(OP_RESPOND, &[0, R_SUCCESS, 12 << 3])
                .op(OP_POLL_NOW, &[])
                .op(OP_STORED_ERR, &[])
                .op(OP_POLL_NOW, &[])
                .op(OP_POLL_NOW, &[])
                .op(OP_LOADED, &[3])
                .steps(4),
            |s| s.store_failed > 0 && s.adopted > 0 && s.send == 1 && s.ready > 0,
        ),
        (
            "an access token reported invalid while its set is written",
            Script::new(START_WITH_TOKENS)
                .op(OP_POLL_AT, &[5])
                .op(OP_LOADED, &[0])
                .op(OP_POLL_NOW, &[])
                .op(OP_RESPOND, &[0, R_BROKEN, 1, 0])
                .op(OP_POLL_NOW, &[])
                .op(OP_INVALID_AT, &[0])
                .op(OP_STORED_OK, &[])
                .steps(8),
            |s| s.invalidated > 0 && s.rotated_in_error > 0 && s.ready > 0,
        ),
        (
            "a set written again long after",
            to_send(START_NEW)
                .op(OP_RESPOND, &[0, R_SUCCESS, ROTATE])
                .op(OP_POLL_NOW, &[])
                .op(OP_STORED_ERR, &[])
                .op(OP_POLL_NOW, &[])
                .op(OP_JUMP, &[1, 200])
                .steps(10),
            |s| s.store_failed > 0 && s.rotation_stored > 0 && s.send == 2 && s.ready > 0,
        ),
    ];
    let mut short = Vec::new();
    for (name, script, reaches) in &scripts {
        let stats = run_with_stats(script.bytes());
        if !reaches(&stats) {
            short.push(format!("{name}: {stats:?}\n{}", trace(script.bytes()).join("\n")));
        }
        record("session", script.bytes());
    }
    assert!(short.is_empty(), "seeds that do not reach their path:\n\n{}", short.join("\n\n"));
}
