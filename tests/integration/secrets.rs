//! R28 secrets-never-formatted: access, refresh and ID tokens and client secrets never appear in `Debug`,
//! `Display` or error messages. Every public type that can hold one is built here with
//! distinctive test secrets and formatted every way it can be.
//!
//! The secrets are deliberately short (under the 24 characters from which the core masks
//! token-like runs in *server-written* text) or hold spaces, so that these tests prove real
//! redaction and not the masking. Only where a server echoes a credential back (an
//! `error_description`, an HTML page) is the secret long: there, masking is the mechanism.

// Tests fail by panicking: `expect`/`unwrap`/`panic!` are how they report.

use std::fmt::{Debug, Display};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oidc_refresh::http::{Request, Response};
use oidc_refresh::{
    AccessToken, AuthResult, ClientAuth, ClientConfig, ClientSecret, ConfigError, Error, Expectations,
    IdToken, OtherSecret, RefreshParams, RefreshToken, UnixTime, build_refresh_request, decode_id_token,
    parse_refresh_response, validate_auth_result,
};

const AT: &str = "SECRET-AT-1234567890";
const RT: &str = "SECRET-RT-0987654321";
const RT_ROTATED: &str = "SECRET RT rotated 42";
const CS_BASIC: &str = "SECRET-CS-basic 77";
const CS_POST: &str = "SECRET-CS-post 88";
const CODE: &str = "SECRET-CODE-314";
const STEP_UP: &str = "SECRET-SU-2718";
const PROVIDER_AT: &str = "SECRET-PAT-1618";
const STANDALONE_ID: &str = "SECRET-ID-5551212";

/// Every secret string a test may have used; none may ever show.
const ALL: &[&str] =
    &[AT, RT, RT_ROTATED, CS_BASIC, CS_POST, CODE, STEP_UP, PROVIDER_AT, STANDALONE_ID, "SECRET"];

fn b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

/// An ID token whose payload holds personal data (not secrets, but `IdTokenPayload`'s
/// `Debug` promises to list claim names only).
fn id_token() -> String {
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"RS256","kid":"k1"}"#),
        b64(
            r#"{"iss":"https://id.example","sub":"PII-SUB-1","aud":"app","exp":2000,"iat":1000,"email":"PII-EMAIL@example.com","name":"PII NAME"}"#
        ),
        b64("signature-bytes")
    )
}

/// The parts of a compact ID token that must not show either.
fn id_token_parts() -> Vec<String> {
    let t = id_token();
    let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
    parts.push(t);
    parts
}

fn assert_hidden(what: &str, shown: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!shown.contains(s), "{what} shows the secret {s:?}: {shown}");
    }
}

/// `{:?}` and `{:#?}` hide every secret.
fn check_debug<T: Debug + ?Sized>(what: &str, value: &T, secrets: &[&str]) {
    assert_hidden(what, &format!("{value:?}"), secrets);
    assert_hidden(what, &format!("{value:#?}"), secrets);
}

/// `{:?}`, `{:#?}` and `{}` hide every secret.
fn check_all<T: Debug + Display + ?Sized>(what: &str, value: &T, secrets: &[&str]) {
    check_debug(what, value, secrets);
    assert_hidden(what, &value.to_string(), secrets);
    assert_hidden(what, &format!("{value:#}"), secrets);
}

/// Checks an error and every error in its `source()` chain.
fn check_error(what: &str, e: &Error, secrets: &[&str]) {
    check_all(what, e, secrets);
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        check_all(&format!("{what} (source)"), s, secrets);
        source = s.source();
    }
}

fn full_response_body() -> String {
    format!(
        r#"{{"access_token":"{AT}","token_type":"Bearer","expires_in":3600,"refresh_token":"{RT_ROTATED}","id_token":"{}","scope":"openid","code":"{CODE}","state":"st","step_up_token":"{STEP_UP}","amr":["pwd"],"provider_name":"google","provider_access_token":"{PROVIDER_AT}","x_unknown":"not a secret"}}"#,
        id_token()
    )
}

fn full_result() -> AuthResult {
    let response = Response::builder().status(200).body(full_response_body()).expect("response");
    parse_refresh_response(&response).expect("parses")
}

#[test]
fn secret_wrappers_redact() {
    check_debug("AccessToken", &AccessToken::new(AT), ALL);
    check_debug("RefreshToken", &RefreshToken::new(RT), ALL);
    check_debug("IdToken", &IdToken::new(STANDALONE_ID), ALL);
    check_debug("ClientSecret", &ClientSecret::new(CS_BASIC), ALL);
    check_debug("OtherSecret", &OtherSecret::new(CODE), ALL);
    check_debug("Option<RefreshToken>", &Some(RefreshToken::new(RT)), ALL);
    check_debug("Vec<AccessToken>", &vec![AccessToken::new(AT)], ALL);
    // The values are still there for whoever asks explicitly.
    assert_eq!(AccessToken::new(AT).expose_secret(), AT);
}

#[test]
fn auth_result_with_every_token_field() {
    let result = full_result();
    // Sanity: every secret really is in the result.
    assert_eq!(result.access_token().expose_secret(), AT);
    assert_eq!(result.refresh_token().map(RefreshToken::expose_secret), Some(RT_ROTATED));
    assert_eq!(result.id_token().map(IdToken::expose_secret), Some(id_token().as_str()));
    assert_eq!(result.code().map(OtherSecret::expose_secret), Some(CODE));
    assert_eq!(result.step_up_token().map(OtherSecret::expose_secret), Some(STEP_UP));
    assert_eq!(result.provider_access_token().map(OtherSecret::expose_secret), Some(PROVIDER_AT));

    let parts = id_token_parts();
    let mut secrets: Vec<&str> = ALL.to_vec();
    secrets.extend(parts.iter().map(String::as_str));
    check_debug("AuthResult", &result, &secrets);
    check_debug("Result<AuthResult, Error>", &Ok::<_, Error>(result.clone()), &secrets);

    // The decoded payload lists claim names only.
    let payload = result.id_token_payload().expect("payload");
    check_debug("IdTokenPayload", payload, &["PII-SUB-1", "PII-EMAIL", "PII NAME"]);
    check_debug("JwtHeader", result.id_token_header().expect("header"), &secrets);
    check_debug(
        "IdTokenPayload (decoded)",
        &decode_id_token(&id_token()).expect("decodes"),
        &["PII-SUB-1", "PII-EMAIL", "PII NAME"],
    );

    // Serialising is the explicit way out, and it does carry the tokens.
    let json = serde_json::to_string(&result).expect("serialises");
    for s in [AT, RT_ROTATED, CODE, STEP_UP, PROVIDER_AT] {
        assert!(json.contains(s), "{s} is serialised on purpose");
    }
}

#[test]
fn client_config_and_params() {
    let basic = ClientConfig::new("https://id.example/token", "app")
        .expect("valid")
        .with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new(CS_BASIC)));
    let post = ClientConfig::new("https://id.example/token", "app")
        .expect("valid")
        .with_auth(ClientAuth::ClientSecretPost(ClientSecret::new(CS_POST)));
    check_debug("ClientConfig basic", &basic, ALL);
    check_debug("ClientConfig post", &post, ALL);
    check_debug("ClientAuth basic", basic.auth(), ALL);
    check_debug("ClientAuth post", post.auth(), ALL);

    let rt = RefreshToken::new(RT);
    let params = RefreshParams::new(&rt).scope("openid").extra_param("resource", "https://api.example/");
    check_debug("RefreshParams", &params, ALL);
}

#[test]
fn built_requests_headers() {
    let rt = RefreshToken::new(RT);
    for config in [
        ClientConfig::new("https://id.example/token", "app")
            .expect("valid")
            .with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new(CS_BASIC))),
        ClientConfig::new("https://id.example/token", "app")
            .expect("valid")
            .with_auth(ClientAuth::ClientSecretPost(ClientSecret::new(CS_POST))),
        ClientConfig::reachfive("acme.reach5.net", "app").expect("valid"),
    ] {
        let request: Request<Vec<u8>> =
            build_refresh_request(&config, &RefreshParams::new(&rt).scope("openid")).expect("builds");
        // The body (`Vec<u8>`) holds the refresh token (and a `client_secret_post` secret):
        // the core documents it as secret, and `Vec<u8>`'s `Debug` prints the bytes, so the
        // request as a whole is not formatted here; its head is.
        let headers = request.headers();
        check_debug("request headers", headers, ALL);
        check_debug("request method and URI", &(request.method(), request.uri(), request.version()), ALL);
        if let Some(auth) = headers.get("authorization") {
            assert!(auth.is_sensitive());
            let value = auth.to_str().expect("ASCII");
            let shown = format!("{headers:?} {auth:?}");
            assert!(shown.contains("Sensitive"), "{shown}");
            assert!(!shown.contains(value.trim_start_matches("Basic ")), "{shown}");
        }
    }
}

#[test]
fn config_errors() {
    let client = ClientConfig::new("https://id.example/token", "app").expect("valid");
    // A bad refresh token (with a control character): the error must not echo it.
    let bad_rt = RefreshToken::new(format!("{RT}\n"));
    let e = build_refresh_request(&client, &RefreshParams::new(&bad_rt)).expect_err("invalid");
    assert!(matches!(e, ConfigError::InvalidRefreshToken { .. }));
    check_all("ConfigError::InvalidRefreshToken", &e, ALL);
    check_error("Error::Config (refresh token)", &Error::from(e), ALL);

    // A non-ASCII refresh token.
    let bad_rt = RefreshToken::new(format!("{RT}é"));
    let e = build_refresh_request(&client, &RefreshParams::new(&bad_rt)).expect_err("invalid");
    check_error("Error::Config (refresh token, non-ASCII)", &Error::from(e), ALL);

    // A bad scope, with a good refresh token: nothing of the token shows.
    let rt = RefreshToken::new(RT);
    let e =
        build_refresh_request(&client, &RefreshParams::new(&rt).scope("openid  \"x\"")).expect_err("invalid");
    assert!(matches!(e, ConfigError::InvalidScope { .. }));
    check_error("Error::Config (scope)", &Error::from(e), ALL);

    // A reserved extra parameter.
    let e = build_refresh_request(&client, &RefreshParams::new(&rt).extra_param("client_secret", CS_POST))
        .expect_err("reserved");
    check_error("Error::Config (reserved)", &Error::from(e), ALL);

    // A bad client secret (control character), both methods.
    for auth in [
        ClientAuth::ClientSecretBasic(ClientSecret::new(format!("{CS_BASIC}\u{7}"))),
        ClientAuth::ClientSecretPost(ClientSecret::new(format!("{CS_POST}\r"))),
    ] {
        let c = client.clone().with_auth(auth);
        let e = build_refresh_request(&c, &RefreshParams::new(&rt)).expect_err("invalid");
        assert!(matches!(e, ConfigError::InvalidClientSecret { .. }));
        check_error("Error::Config (client secret)", &Error::from(e), ALL);
    }
}

/// Some servers echo the refresh token they refuse. The secret is long here on purpose
/// (server-written text is masked by token-like runs).
const ECHOED_RT: &str = "SECRETRTxxxxxxxxxxxxxxxxxxxxxxxx";

fn server_error_echoing_the_token() -> Error {
    let body = format!(
        r#"{{"error":"invalid_grant","error_description":"refresh token {ECHOED_RT} is invalid","error_user_msg":"token {ECHOED_RT} expired","error_details":[{{"field":"refresh_token","message":"{ECHOED_RT} is spent","code":"invalid"}}],"error_uri":"https://id.example/e?t={ECHOED_RT}"}}"#
    );
    let response = Response::builder().status(400).body(body).expect("response");
    let e = parse_refresh_response(&response).expect_err("refused");
    assert_eq!(e.oauth_error_code(), Some("invalid_grant"));
    e
}

#[test]
fn server_error_echoing_a_token_display() {
    let e = server_error_echoing_the_token();
    assert_hidden("Error::Server Display", &e.to_string(), &[ECHOED_RT]);
    assert_hidden("Error::Server Display", &format!("{e:#}"), &[ECHOED_RT]);
    match &e {
        Error::Server(s) => assert_hidden("OAuthError Display", &s.to_string(), &[ECHOED_RT]),
        other => panic!("expected Error::Server, got {other}"),
    }
}

#[test]
fn server_error_echoing_a_token_debug() {
    let e = server_error_echoing_the_token();
    check_debug("Error::Server Debug", &e, &[ECHOED_RT]);
    match &e {
        Error::Server(s) => check_debug("OAuthError Debug", &**s, &[ECHOED_RT]),
        other => panic!("expected Error::Server, got {other}"),
    }
}

#[test]
fn protocol_error_with_rotated_refresh_token() {
    // A 200 that rotated the refresh token but lacks access_token.
    let body = format!(r#"{{"token_type":"Bearer","refresh_token":"{RT_ROTATED}","code":"{CODE}"}}"#);
    let response = Response::builder().status(200).body(body).expect("response");
    let e = parse_refresh_response(&response).expect_err("broken");
    assert_eq!(e.rotated_refresh_token().map(RefreshToken::expose_secret), Some(RT_ROTATED));
    check_error("Error::Protocol with rotated token", &e, ALL);
    if let Error::Protocol(p) = &e {
        check_all("ProtocolError", &**p, ALL);
        check_all("ProtocolErrorKind", p.kind(), ALL);
    }

    // Same with an undecodable ID token, which is a JwtError source.
    let body = format!(
        r#"{{"access_token":"{AT}","token_type":"Bearer","refresh_token":"{RT_ROTATED}","id_token":"{}.{}"}}"#,
        b64(r#"{"alg":"RS256"}"#),
        b64(r#"{"sub":"x"}"#)
    );
    let response = Response::builder().status(200).body(body).expect("response");
    let e = parse_refresh_response(&response).expect_err("broken id_token");
    assert_eq!(e.rotated_refresh_token().map(RefreshToken::expose_secret), Some(RT_ROTATED));
    check_error("Error::Protocol (ID token) with rotated token", &e, ALL);

    // A bad expires_in beside every other secret.
    let body = full_response_body().replace(r#""expires_in":3600"#, r#""expires_in":"3600s""#);
    let response = Response::builder().status(200).body(body).expect("response");
    let e = parse_refresh_response(&response).expect_err("broken expires_in");
    let parts = id_token_parts();
    let mut secrets: Vec<&str> = ALL.to_vec();
    secrets.extend(parts.iter().map(String::as_str));
    check_error("Error::Protocol (expires_in)", &e, &secrets);
}

#[test]
fn id_token_validation_error_with_rotated_refresh_token() {
    let result = full_result();
    // exp is 2000: at t = 10 000 the ID token has expired, which is not an identity
    // mismatch, so the error keeps the rotated refresh token.
    let e = validate_auth_result(result, &Expectations::new("app"), None, UnixTime::from_secs(10_000))
        .expect_err("expired");
    assert_eq!(e.rotated_refresh_token().map(RefreshToken::expose_secret), Some(RT_ROTATED));
    let parts = id_token_parts();
    let mut secrets: Vec<&str> = ALL.to_vec();
    secrets.extend(parts.iter().map(String::as_str));
    check_error("Error::IdToken with rotated token", &e, &secrets);
    if let Error::IdToken(inner) = &e {
        check_all("IdTokenError", &**inner, &secrets);
    }

    // An identity mismatch holds nothing.
    let e =
        validate_auth_result(full_result(), &Expectations::new("other-app"), None, UnixTime::from_secs(1500))
            .expect_err("audience mismatch");
    assert!(e.rotated_refresh_token().is_none());
    check_error("Error::IdToken (mismatch)", &e, &secrets);
}

#[test]
fn html_page_echoing_a_token() {
    // A proxy error page that echoes the request body in its first line.
    const ECHOED: &str = "SECRETRTyyyyyyyyyyyyyyyyyyyyyyyy";
    for (status, body) in [
        (
            502,
            format!("<html><body>Bad request: refresh_token={ECHOED}&grant_type=refresh_token</body></html>"),
        ),
        (400, format!("refresh token {ECHOED} rejected")),
        (500, ECHOED.to_owned()),
        // The echo straddles the excerpt's bound (80 characters).
        (500, format!("{}{ECHOED}", "x ".repeat(34))),
    ] {
        let response = Response::builder()
            .status(status)
            .header("content-type", "text/html")
            .body(body.clone())
            .expect("response");
        let e = parse_refresh_response(&response).expect_err("not JSON");
        check_error("Error::Protocol (HTML)", &e, &[ECHOED]);
        if let Error::Protocol(p) = &e {
            let excerpt = p.excerpt().unwrap_or_else(|| panic!("an HTML body keeps an excerpt: {body}"));
            assert_hidden("excerpt", excerpt, &[ECHOED]);
        }
    }
}
