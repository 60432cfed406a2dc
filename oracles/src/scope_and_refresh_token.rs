//! The `scope_and_refresh_token` target: `check_refresh_token`, `check_scope` and
//! `build_refresh_request` against the RFC 6749 reference predicates
//! ([`crate::reference::rfc6749`]), and the request body and Basic credentials decoded back
//! independently.
//!
//! Input: `[flags] refresh_token 0xFF scope 0xFF client_secret 0xFF client_id` (fields as
//! lossy UTF-8, separated by [`SEP`]); flags: bit 0 the JSON body, bits 1-2 the client
//! authentication (0 none, 1 basic, 2 post, 3 none), bit 3 a scope is requested. A missing
//! secret is `s3cret`; a missing or invalid client id is `app`.

use oidc_refresh_core::http::Method;
use oidc_refresh_core::http::header::{AUTHORIZATION, CONTENT_TYPE};
use oidc_refresh_core::{
    BodyFormat, ClientAuth, ClientConfig, ClientSecret, ConfigError, RefreshParams, RefreshToken,
    build_refresh_request, check_refresh_token, check_scope,
};
use serde_json::Value;

use crate::common::{SEP, rotated};
use crate::reference::json::duplicates;
use crate::reference::rfc6749::{
    base64_standard_decode, client_id_ok, form_decode, form_decode_component, refresh_token_ok, scope_ok,
};

/// The token endpoint of every request.
pub const ENDPOINT: &str = "https://id.example/token";

/// The whole body of the `scope_and_refresh_token` fuzz target: syntax checks against
/// reference predicates, and the request body decoded back.
pub fn run(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else { return };
    let mut fields = rest.split(|&b| b == SEP);
    let refresh_token = String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    let scope = fields.next().unwrap_or_default();
    let scope = (flags & 8 != 0).then(|| String::from_utf8_lossy(scope).into_owned());
    let secret =
        fields.next().map_or_else(|| "s3cret".to_owned(), |s| String::from_utf8_lossy(s).into_owned());
    let client_id = fields
        .next()
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .filter(|id| client_id_ok(id))
        .unwrap_or_else(|| "app".to_owned());
    let format = if flags & 1 == 0 { BodyFormat::Form } else { BodyFormat::Json };
    let auth = match (flags >> 1) & 3 {
        1 => ClientAuth::ClientSecretBasic(ClientSecret::new(secret.clone())),
        2 => ClientAuth::ClientSecretPost(ClientSecret::new(secret.clone())),
        _ => ClientAuth::None,
    };
    check(&refresh_token, scope.as_deref(), &secret, &client_id, format, auth);
}

/// Every invariant of the request checks and of `build_refresh_request` on one set of
/// parameters (panics when one fails). `secret` is the one `auth` holds, if any.
pub fn check(
    refresh_token: &str,
    scope: Option<&str>,
    secret: &str,
    client_id: &str,
    format: BodyFormat,
    auth: ClientAuth,
) {
    let token = RefreshToken::new(refresh_token);
    let token_ok = refresh_token_ok(refresh_token);
    match check_refresh_token(&token) {
        Ok(()) => assert!(token_ok, "check_refresh_token accepted {refresh_token:?}"),
        Err(e) => {
            assert!(!token_ok, "check_refresh_token refused {refresh_token:?}: {e}");
            assert!(matches!(e, ConfigError::InvalidRefreshToken { .. }), "{e:?}");
        }
    }
    let scope_ok = scope.is_none_or(scope_ok);
    if let Some(scope) = scope {
        match check_scope(scope) {
            Ok(()) => assert!(scope_ok, "check_scope accepted {scope:?}"),
            Err(e) => {
                assert!(!scope_ok, "check_scope refused {scope:?}: {e}");
                assert!(matches!(e, ConfigError::InvalidScope { .. }), "{e:?}");
            }
        }
    }
    let uses_secret = auth.secret().is_some();
    // A client secret follows the client id's rule: non-empty, no control character.
    let secret_ok = !uses_secret || client_id_ok(secret);
    let (id_in_body, secret_in_body, basic) = match &auth {
        ClientAuth::ClientSecretBasic(_) => (false, false, true),
        ClientAuth::ClientSecretPost(_) => (true, true, false),
        _ => (true, false, false),
    };
    let Ok(config) = ClientConfig::new(ENDPOINT, client_id) else {
        panic!("client id {client_id:?} refused")
    };
    let config = config.with_body_format(format).with_auth(auth);

    let build = |t: &RefreshToken| {
        let mut params = RefreshParams::new(t);
        if let Some(scope) = scope {
            params = params.scope(scope);
        }
        build_refresh_request(&config, &params)
    };
    let request = match build(&token) {
        Err(e) => {
            assert!(!(token_ok && scope_ok && secret_ok), "a valid request was refused: {e:?}");
            let fits = match e {
                ConfigError::InvalidRefreshToken { .. } => !token_ok,
                ConfigError::InvalidScope { .. } => !scope_ok,
                ConfigError::InvalidClientSecret { .. } => !secret_ok,
                _ => false,
            };
            assert!(fits, "the wrong error: {e:?}");
            // The error never depends on (so never shows) the refresh token's value.
            let other = rotated(refresh_token);
            if let Err(e2) = build(&RefreshToken::new(other.as_str())) {
                assert_eq!(format!("{e:?} {e}"), format!("{e2:?} {e2}"), "the error shows the refresh token");
            } else {
                panic!("a refresh token of the same shape changed the outcome");
            }
            return;
        }
        Ok(request) => request,
    };
    assert!(token_ok && scope_ok && secret_ok, "an invalid request was built");
    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.uri(), ENDPOINT);
    assert!(request.uri().query().is_none(), "nothing goes in the URL");

    let mut want: Vec<(String, String)> =
        vec![("grant_type".into(), "refresh_token".into()), ("refresh_token".into(), refresh_token.into())];
    if let Some(scope) = scope {
        want.push(("scope".into(), scope.into()));
    }
    if id_in_body {
        want.push(("client_id".into(), client_id.into()));
    }
    if secret_in_body {
        want.push(("client_secret".into(), secret.into()));
    }
    want.sort();
    let content_type = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut got = match format {
        BodyFormat::Json => {
            assert_eq!(content_type, "application/json;charset=UTF-8");
            assert!(!duplicates(request.body()).any, "a repeated name in the JSON body");
            let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(request.body()) else {
                panic!("the JSON body is not a JSON object: {:?}", String::from_utf8_lossy(request.body()))
            };
            map.into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => (k, s),
                    other => panic!("member {k:?} is {other:?}"),
                })
                .collect::<Vec<_>>()
        }
        _ => {
            assert_eq!(content_type, "application/x-www-form-urlencoded");
            let Ok(text) = std::str::from_utf8(request.body()) else { panic!("the form body is not UTF-8") };
            assert!(text.is_ascii(), "the form body is not all escaped: {text:?}");
            form_decode(text)
        }
    };
    got.sort();
    assert_eq!(got, want, "the request body does not decode back to the parameters");

    match request.headers().get(AUTHORIZATION) {
        Some(value) => {
            assert!(basic, "an Authorization header without client_secret_basic");
            assert!(value.is_sensitive(), "Authorization is not marked sensitive");
            let text = value.to_str().unwrap_or_default();
            let Some(b64) = text.strip_prefix("Basic ") else { panic!("not Basic: {text:?}") };
            let decoded = base64_standard_decode(b64).unwrap_or_default();
            let decoded = String::from_utf8(decoded).unwrap_or_default();
            let Some((id, sec)) = decoded.split_once(':') else { panic!("no ':' in the Basic credentials") };
            assert_eq!(
                (form_decode_component(id), form_decode_component(sec)),
                (client_id.to_owned(), secret.to_owned()),
                "Basic credentials are form-encoded id ':' secret (RFC 6749 §2.3.1)"
            );
        }
        None => assert!(!basic, "client_secret_basic without an Authorization header"),
    }
}
