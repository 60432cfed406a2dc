//! Token revocation (RFC 7009): the request that revokes a refresh token, and what its
//! answer means. Revoking a refresh token also ends the grant's access tokens at most
//! providers (RFC 7009 §2.1 lets them); a signed-out user signs in again.

use http::{Request, Response, StatusCode, Uri};

use crate::config::{BodyFormat, ClientConfig, check_client_secret, parse_endpoint};
use crate::error::{ConfigError, Error, ProtocolError, ProtocolErrorKind};
use crate::request::{body_credentials, json_string, post};
use crate::secret::RefreshToken;
use crate::syntax::check_refresh_token_str;

/// Builds the request that revokes `refresh_token` at `revocation_endpoint` (RFC 7009 §2.1):
/// `POST` with `token` and `token_type_hint=refresh_token`, the client authenticated as for a
/// refresh (`client_id` in the body unless it uses HTTP Basic). The body format follows the
/// client's: form, or JSON for the ReachFive profile.
///
/// The body holds the refresh token: send it, never log it.
///
/// ```
/// use oidc_refresh_core::{build_revocation_request, ClientConfig, RefreshToken};
///
/// let client = ClientConfig::new("https://id.example/token", "my-app")?;
/// let request = build_revocation_request(&client, "https://id.example/revoke", &RefreshToken::new("rt-1"))?;
/// assert_eq!(request.method(), "POST");
/// assert_eq!(request.uri(), "https://id.example/revoke");
/// assert_eq!(request.body().as_slice(), b"token=rt-1&token_type_hint=refresh_token&client_id=my-app");
/// # Ok::<(), oidc_refresh_core::ConfigError>(())
/// ```
///
/// # Errors
///
/// [`ConfigError`] for an endpoint that is not https (plain http only to a loopback host), a
/// refresh token or client secret that cannot be sent; nothing is built.
pub fn build_revocation_request(
    client: &ClientConfig,
    revocation_endpoint: &str,
    refresh_token: &RefreshToken,
) -> Result<Request<Vec<u8>>, ConfigError> {
    let endpoint: Uri = parse_endpoint(revocation_endpoint)?;
    let token = refresh_token.expose_secret();
    check_refresh_token_str(token)?;
    if let Some(secret) = client.auth().secret() {
        check_client_secret(secret)?;
    }
    let (client_id, secret) = body_credentials(client);
    let members = [("token", Some(token)), ("token_type_hint", Some("refresh_token"))]
        .into_iter()
        .chain([("client_id", client_id), ("client_secret", secret)]);
    let (body, content_type) = match client.body_format() {
        BodyFormat::Form => {
            let mut form = form_urlencoded::Serializer::new(String::with_capacity(64 + token.len()));
            for (name, value) in members {
                if let Some(value) = value {
                    form.append_pair(name, value);
                }
            }
            (form.finish().into_bytes(), "application/x-www-form-urlencoded")
        }
        BodyFormat::Json => {
            let mut body = Vec::with_capacity(96 + token.len());
            for (name, value) in members {
                if let Some(value) = value {
                    body.push(if body.is_empty() { b'{' } else { b',' });
                    json_string(&mut body, name);
                    body.push(b':');
                    json_string(&mut body, value);
                }
            }
            body.push(b'}');
            (body, "application/json;charset=UTF-8")
        }
    };
    post(client, endpoint, body, content_type, "the revocation endpoint cannot be used in a request")
}

/// Reads the answer to a revocation request (RFC 7009 §2.2): any 200 is success, whatever
/// its body (a token the server did not know counts as revoked).
///
/// # Errors
///
/// [`Error::Server`] for an OAuth error (`unsupported_token_type`, `invalid_client`, ...,
/// and `503` with `Retry-After` when the server asks to try later: see
/// [`Error::is_retryable`]); [`Error::Protocol`] for any other status.
pub fn parse_revocation_response<B: AsRef<[u8]>>(response: &Response<B>) -> Result<(), Error> {
    let status = response.status();
    if status == StatusCode::OK {
        return Ok(());
    }
    // An error object is read as a token endpoint's would be; anything else is a protocol
    // error that names the status.
    match crate::response::parse_refresh_response(response) {
        Err(e @ Error::Server(_)) => Err(e),
        Err(Error::Protocol(mut e)) => {
            e.rotated_refresh_token = None;
            Err(Error::Protocol(e))
        }
        _ => {
            let mut e = ProtocolError::new(ProtocolErrorKind::UnexpectedStatus {
                reason: "a revocation succeeds with 200 only",
            });
            e.status = Some(status);
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClientAuth;
    use crate::secret::ClientSecret;

    fn client(auth: ClientAuth) -> ClientConfig {
        ClientConfig::new("https://id.example/token", "app").expect("a valid endpoint").with_auth(auth)
    }

    fn body(r: &Request<Vec<u8>>) -> &str {
        std::str::from_utf8(r.body()).expect("UTF-8")
    }

    #[test]
    fn the_request_follows_the_clients_authentication_and_body_format() {
        let rt = RefreshToken::new("rt+1");
        let r = build_revocation_request(&client(ClientAuth::None), "https://id.example/revoke", &rt)
            .expect("built");
        assert_eq!(body(&r), "token=rt%2B1&token_type_hint=refresh_token&client_id=app");
        assert_eq!(r.headers()["content-type"], "application/x-www-form-urlencoded");
        assert!(r.headers().get("authorization").is_none());

        let basic = client(ClientAuth::ClientSecretBasic(ClientSecret::new("s")));
        let r = build_revocation_request(&basic, "https://id.example/revoke", &rt).expect("built");
        assert_eq!(body(&r), "token=rt%2B1&token_type_hint=refresh_token");
        assert!(r.headers()["authorization"].is_sensitive());

        let post = client(ClientAuth::ClientSecretPost(ClientSecret::new("s")));
        let r = build_revocation_request(&post, "https://id.example/revoke", &rt).expect("built");
        assert_eq!(body(&r), "token=rt%2B1&token_type_hint=refresh_token&client_id=app&client_secret=s");

        let reachfive = ClientConfig::reachfive("acme.reach5.net", "app").expect("valid");
        let r =
            build_revocation_request(&reachfive, "https://acme.reach5.net/oauth/revoke", &rt).expect("built");
        assert_eq!(body(&r), r#"{"token":"rt+1","token_type_hint":"refresh_token","client_id":"app"}"#);
    }

    #[test]
    fn an_insecure_endpoint_or_an_unsendable_token_builds_nothing() {
        let c = client(ClientAuth::None);
        assert!(build_revocation_request(&c, "http://id.example/revoke", &RefreshToken::new("rt")).is_err());
        assert!(build_revocation_request(&c, "http://127.0.0.1:9/revoke", &RefreshToken::new("rt")).is_ok());
        assert!(build_revocation_request(&c, "https://id.example/revoke", &RefreshToken::new("")).is_err());
        assert!(
            build_revocation_request(&c, "https://id.example/revoke", &RefreshToken::new("a\nb")).is_err()
        );
    }

    fn answer(status: u16, body: &str) -> Result<(), Error> {
        parse_revocation_response(&Response::builder().status(status).body(body).expect("valid"))
    }

    #[test]
    fn any_200_is_success_and_errors_are_typed_by_fault() {
        assert!(answer(200, "").is_ok());
        assert!(answer(200, "<html>ok</html>").is_ok());
        assert!(answer(200, r#"{"error":"whatever"}"#).is_ok(), "RFC 7009: the status decides");
        let e = answer(400, r#"{"error":"unsupported_token_type"}"#).expect_err("refused");
        assert_eq!(e.oauth_error_code(), Some("unsupported_token_type"));
        let e = answer(503, "<html>down</html>").expect_err("down");
        assert!(matches!(e, Error::Protocol(_)) && e.is_retryable(), "{e:?}");
        let e = answer(204, "").expect_err("not 200");
        assert!(matches!(e, Error::Protocol(_)), "{e:?}");
        let e = answer(201, r#"{"access_token":"at","token_type":"Bearer"}"#).expect_err("not 200");
        assert!(matches!(e, Error::Protocol(_)), "{e:?}");
    }
}
