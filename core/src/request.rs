//! Building the refresh request (RFC 6749 §6; R1–R7).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method, Request};

use crate::config::{BodyFormat, ClientAuth, ClientConfig, check_client_secret};
use crate::error::ConfigError;
use crate::json;
use crate::secret::RefreshToken;
use crate::syntax::{check_refresh_token_str, check_scope};

/// The parameters of one refresh: the SDK's `{ refreshToken, scope }`, plus optional extra
/// parameters (e.g. `resource`, RFC 8707) that can never override the grant's own.
#[derive(Clone, Debug)]
pub struct RefreshParams<'a> {
    refresh_token: &'a RefreshToken,
    scope: Option<&'a str>,
    extra: Vec<(&'a str, &'a str)>,
}

/// Names an extra parameter may not take: they belong to the grant or to client
/// authentication (R2 form-body-grant-not-overridable).
const RESERVED: &[&str] = &["grant_type", "refresh_token", "client_id", "client_secret", "scope"];

impl<'a> RefreshParams<'a> {
    /// Refresh with `refresh_token`, keeping the scope already granted.
    #[must_use]
    pub fn new(refresh_token: &'a RefreshToken) -> Self {
        Self { refresh_token, scope: None, extra: Vec::new() }
    }

    /// Asks for `scope` (space-delimited), which must not exceed the scope already granted.
    #[must_use]
    pub fn scope(mut self, scope: &'a str) -> Self {
        self.scope = Some(scope);
        self
    }

    /// Adds an extra request parameter. The grant's own names (`grant_type`,
    /// `refresh_token`, `client_id`, `client_secret`, `scope`) are refused when the request
    /// is built.
    #[must_use]
    pub fn extra_param(mut self, name: &'a str, value: &'a str) -> Self {
        self.extra.push((name, value));
        self
    }

    /// The refresh token to send.
    #[must_use]
    pub fn refresh_token(&self) -> &RefreshToken {
        self.refresh_token
    }

    /// The requested scope, if any.
    #[must_use]
    pub fn requested_scope(&self) -> Option<&str> {
        self.scope
    }
}

/// Builds the refresh request: `POST` to the token endpoint, the grant in the body, client
/// authentication as configured, `Accept: application/json`, and the `Authorization`
/// header marked sensitive.
///
/// The body holds the refresh token (and with `client_secret_post` the client secret):
/// send it, never log it.
///
/// ```
/// use oidc_refresh_core::{build_refresh_request, ClientConfig, RefreshParams, RefreshToken};
///
/// let client = ClientConfig::reachfive("acme.reach5.net", "my-app")?;
/// let token = RefreshToken::new("rt-1");
/// let request = build_refresh_request(&client, &RefreshParams::new(&token).scope("openid email"))?;
/// assert_eq!(request.method(), "POST");
/// assert_eq!(request.uri(), "https://acme.reach5.net/oauth/token");
/// assert_eq!(request.headers()["content-type"], "application/json;charset=UTF-8");
/// assert_eq!(
///     request.body().as_slice(),
///     br#"{"client_id":"my-app","grant_type":"refresh_token","refresh_token":"rt-1","scope":"openid email"}"#
/// );
/// # Ok::<(), oidc_refresh_core::ConfigError>(())
/// ```
///
/// # Errors
///
/// [`ConfigError`] for a refresh token, scope, client secret or extra parameter that is
/// invalid; nothing is built and nothing should be sent.
pub fn build_refresh_request(
    config: &ClientConfig,
    params: &RefreshParams<'_>,
) -> Result<Request<Vec<u8>>, ConfigError> {
    let refresh_token = params.refresh_token.expose_secret();
    check_refresh_token_str(refresh_token)?;
    if let Some(scope) = params.scope {
        check_scope(scope)?;
    }
    if let Some(secret) = config.auth().secret() {
        check_client_secret(secret)?;
    }
    for (i, (name, _)) in params.extra.iter().enumerate() {
        if name.is_empty() {
            return Err(ConfigError::InvalidParameter { reason: "empty name" });
        }
        if RESERVED.contains(name) {
            return Err(ConfigError::ReservedParameter { name: (*name).to_owned() });
        }
        if config.body_format() == BodyFormat::Json && params.extra[..i].iter().any(|(n, _)| n == name) {
            return Err(ConfigError::InvalidParameter {
                reason: "a JSON body cannot repeat a parameter name",
            });
        }
    }

    let (client_id, secret_in_body) = body_credentials(config);

    let (body, content_type) = match config.body_format() {
        BodyFormat::Form => {
            let mut form = String::with_capacity(64 + refresh_token.len());
            form_pair(&mut form, "grant_type", "refresh_token");
            form_pair(&mut form, "refresh_token", refresh_token);
            if let Some(scope) = params.scope {
                form_pair(&mut form, "scope", scope);
            }
            if let Some(id) = client_id {
                form_pair(&mut form, "client_id", id);
            }
            if let Some(secret) = secret_in_body {
                form_pair(&mut form, "client_secret", secret);
            }
            for (name, value) in &params.extra {
                form_pair(&mut form, name, value);
            }
            (form.into_bytes(), "application/x-www-form-urlencoded")
        }
        BodyFormat::Json => {
            // R3 reachfive-json-body-exact: exactly these keys in this order, as ReachFive's
            // SDK test pins them.
            let mut body = Vec::with_capacity(96 + refresh_token.len());
            let mut first = true;
            let mut member = |body: &mut Vec<u8>, name: &str, value: &str| {
                body.push(if first { b'{' } else { b',' });
                first = false;
                json_string(body, name);
                body.push(b':');
                json_string(body, value);
            };
            if let Some(id) = client_id {
                member(&mut body, "client_id", id);
            }
            if let Some(secret) = secret_in_body {
                member(&mut body, "client_secret", secret);
            }
            member(&mut body, "grant_type", "refresh_token");
            member(&mut body, "refresh_token", refresh_token);
            if let Some(scope) = params.scope {
                member(&mut body, "scope", scope);
            }
            for (name, value) in &params.extra {
                member(&mut body, name, value);
            }
            body.push(b'}');
            (body, "application/json;charset=UTF-8")
        }
    };

    post(
        config,
        config.token_endpoint().clone(),
        body,
        content_type,
        "the token endpoint cannot be used in a request",
    )
}

/// The client id and secret that go in the body (RFC 6749 §2.3.1): the id unless the client
/// authenticates with HTTP Basic, the secret only with `client_secret_post`.
pub(crate) fn body_credentials(config: &ClientConfig) -> (Option<&str>, Option<&str>) {
    match config.auth() {
        ClientAuth::None => (Some(config.client_id()), None),
        ClientAuth::ClientSecretPost(s) => (Some(config.client_id()), Some(s.expose_secret())),
        ClientAuth::ClientSecretBasic(_) => (None, None),
    }
}

/// A `POST` of `body` to `uri` from the client: `Accept: application/json`, and with
/// `client_secret_basic` its `Authorization` header, marked sensitive.
///
/// # Errors
///
/// [`ConfigError::InvalidClientSecret`] for a secret that cannot be sent in a header;
/// [`ConfigError::InvalidUrl`] with `unusable` when `uri` cannot be used in a request.
pub(crate) fn post(
    config: &ClientConfig,
    uri: http::Uri,
    body: Vec<u8>,
    content_type: &'static str,
    unusable: &'static str,
) -> Result<Request<Vec<u8>>, ConfigError> {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(CONTENT_TYPE, HeaderValue::from_static(content_type))
        .header(ACCEPT, HeaderValue::from_static("application/json"));
    if let ClientAuth::ClientSecretBasic(secret) = config.auth() {
        builder =
            builder.header(AUTHORIZATION, basic_authorization(config.client_id(), secret.expose_secret())?);
    }
    builder.body(body).map_err(|_| ConfigError::InvalidUrl { reason: unusable })
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, RFC 6749 §2.3.1, marked sensitive.
fn basic_authorization(client_id: &str, secret: &str) -> Result<HeaderValue, ConfigError> {
    let mut credentials = String::with_capacity(client_id.len() + secret.len() + 8);
    form_encode(&mut credentials, client_id);
    credentials.push(':');
    form_encode(&mut credentials, secret);
    let mut value = String::with_capacity(6 + credentials.len().div_ceil(3) * 4);
    value.push_str("Basic ");
    STANDARD.encode_string(credentials.as_bytes(), &mut value);
    let mut header = HeaderValue::try_from(value)
        .map_err(|_| ConfigError::InvalidClientSecret { reason: "cannot be sent in a header" })?;
    header.set_sensitive(true);
    Ok(header)
}

/// Appends `name=value` to a form body, `&` first unless it is the first pair: exactly what
/// `form_urlencoded::Serializer::append_pair` appends.
fn form_pair(form: &mut String, name: &str, value: &str) {
    if !form.is_empty() {
        form.push('&');
    }
    form_encode(form, name);
    form.push('=');
    form_encode(form, value);
}

/// `s` form-urlencoded, exactly as `form_urlencoded::byte_serialize` encodes it.
fn form_encode(out: &mut String, s: &str) {
    // byte_serialize keeps ASCII letters, digits and `*-._` as they are: a string of only
    // those (a client id, a token) is copied whole. Checked branch-free over the bytes.
    let kept = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_');
    if json::fold_bytes(s.as_bytes(), 0, |b| u8::from(!kept(b)), |x, y| x | y) == 0 {
        out.push_str(s);
    } else {
        out.extend(form_urlencoded::byte_serialize(s.as_bytes()));
    }
}

/// `s` as a JSON string, exactly as serde_json writes it.
pub(crate) fn json_string(out: &mut Vec<u8>, s: &str) {
    // serde_json escapes `"`, `\` and the control characters, nothing else: a string with none
    // of them (a client id, a token, a scope) is copied whole. Checked branch-free over the
    // bytes (`b < 0x20` is a control character).
    let verbatim =
        json::fold_bytes(s.as_bytes(), 0, |b| u8::from(b < 0x20 || b == b'"' || b == b'\\'), |x, y| x | y)
            == 0;
    if verbatim {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing a &str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ClientSecret;

    fn cfg(auth: ClientAuth) -> ClientConfig {
        match ClientConfig::new("https://id.example/token", "my app") {
            Ok(c) => c.with_auth(auth),
            Err(e) => panic!("{e}"),
        }
    }

    fn body(r: &Request<Vec<u8>>) -> &str {
        std::str::from_utf8(r.body()).unwrap_or("<not utf-8>")
    }

    #[test]
    fn form_body_public_client_escapes_everything() {
        let rt = RefreshToken::new("a+b/c=d&e f~");
        let r = build_refresh_request(
            &cfg(ClientAuth::None),
            &RefreshParams::new(&rt).scope("openid offline_access"),
        );
        let r = r.unwrap_or_default();
        assert_eq!(
            body(&r),
            "grant_type=refresh_token&refresh_token=a%2Bb%2Fc%3Dd%26e+f%7E&scope=openid+offline_access&client_id=my+app"
        );
        assert_eq!(r.headers()[CONTENT_TYPE], "application/x-www-form-urlencoded");
        assert_eq!(r.headers()[ACCEPT], "application/json");
        assert!(r.headers().get(AUTHORIZATION).is_none());
        assert_eq!(r.method(), Method::POST);
        assert_eq!(r.uri().query(), None);
    }

    #[test]
    fn basic_auth_encodes_before_base64() {
        let secret = ClientSecret::new("% : + ~*'()x");
        let rt = RefreshToken::new("rt");
        let r = build_refresh_request(&cfg(ClientAuth::ClientSecretBasic(secret)), &RefreshParams::new(&rt))
            .unwrap_or_default();
        let h = &r.headers()[AUTHORIZATION];
        assert!(h.is_sensitive());
        let b64 = h.to_str().unwrap_or_default().trim_start_matches("Basic ");
        let decoded = String::from_utf8(STANDARD.decode(b64).unwrap_or_default()).unwrap_or_default();
        assert_eq!(decoded, "my+app:%25+%3A+%2B+%7E*%27%28%29x");
        // client_id is not repeated in the body with Basic.
        assert_eq!(body(&r), "grant_type=refresh_token&refresh_token=rt");
        assert!(!format!("{r:?}").contains(b64));
    }

    #[test]
    fn post_auth_puts_id_and_secret_in_the_body() {
        let rt = RefreshToken::new("rt");
        let r = build_refresh_request(
            &cfg(ClientAuth::ClientSecretPost(ClientSecret::new("s&s"))),
            &RefreshParams::new(&rt),
        );
        assert_eq!(
            body(&r.unwrap_or_default()),
            "grant_type=refresh_token&refresh_token=rt&client_id=my+app&client_secret=s%26s"
        );
    }

    #[test]
    fn json_body_is_byte_exact_and_escapes() {
        let c = cfg(ClientAuth::None).with_body_format(BodyFormat::Json);
        let rt = RefreshToken::new("r\"t\\");
        let r = build_refresh_request(&c, &RefreshParams::new(&rt)).unwrap_or_default();
        assert_eq!(
            body(&r),
            r#"{"client_id":"my app","grant_type":"refresh_token","refresh_token":"r\"t\\"}"#
        );
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json;charset=UTF-8");
    }

    #[test]
    fn extras_cannot_override_the_grant() {
        let rt = RefreshToken::new("rt");
        for name in ["grant_type", "refresh_token", "client_id", "client_secret", "scope"] {
            let e = build_refresh_request(
                &cfg(ClientAuth::None),
                &RefreshParams::new(&rt).extra_param(name, "x"),
            );
            assert_eq!(e.err(), Some(ConfigError::ReservedParameter { name: name.into() }));
        }
        let ok = build_refresh_request(
            &cfg(ClientAuth::None),
            &RefreshParams::new(&rt)
                .extra_param("resource", "https://api/")
                .extra_param("resource", "https://b/"),
        );
        assert!(
            body(&ok.unwrap_or_default())
                .ends_with("&resource=https%3A%2F%2Fapi%2F&resource=https%3A%2F%2Fb%2F")
        );
        let json = cfg(ClientAuth::None).with_body_format(BodyFormat::Json);
        assert!(
            build_refresh_request(
                &json,
                &RefreshParams::new(&rt).extra_param("a", "1").extra_param("a", "2")
            )
            .is_err()
        );
        assert!(build_refresh_request(&json, &RefreshParams::new(&rt).extra_param("", "1")).is_err());
    }

    #[test]
    fn local_validation_never_sends_bad_input() {
        let c = cfg(ClientAuth::None);
        for bad in ["", "secretTAB\there", "secretNL\n", "secreté"] {
            let rt = RefreshToken::new(bad);
            let e = build_refresh_request(&c, &RefreshParams::new(&rt));
            assert!(matches!(e, Err(ConfigError::InvalidRefreshToken { .. })), "{bad:?}");
            assert!(
                !format!("{e:?} {}", e.as_ref().err().map(ToString::to_string).unwrap_or_default())
                    .contains("secret")
            );
        }
        let rt = RefreshToken::new("ok");
        for bad in ["", " a", "a ", "a  b", "a\"b", "a\\b", "a\tb", "é"] {
            assert!(
                matches!(
                    build_refresh_request(&c, &RefreshParams::new(&rt).scope(bad)),
                    Err(ConfigError::InvalidScope { .. })
                ),
                "{bad:?}"
            );
        }
        for ok in ["a", "!#[]~", "openid https://api.example/read"] {
            assert!(build_refresh_request(&c, &RefreshParams::new(&rt).scope(ok)).is_ok(), "{ok:?}");
        }
        let with_bad_secret = cfg(ClientAuth::ClientSecretBasic(ClientSecret::new("a\nb")));
        assert!(matches!(
            build_refresh_request(&with_bad_secret, &RefreshParams::new(&rt)),
            Err(ConfigError::InvalidClientSecret { .. })
        ));
    }

    /// The fast paths of `json_string` and `form_encode` write exactly what serde_json and
    /// form_urlencoded write: every ASCII character and a few others, alone and at every
    /// place in strings shorter and longer than the 64-byte blocks of the byte check.
    #[test]
    fn encoders_match_serde_json_and_form_urlencoded() {
        let mut chars: Vec<char> = (0u8..0x80).map(char::from).collect();
        chars.extend(['é', '\u{2028}', '\u{1F600}', '\u{FEFF}']);
        let mut inputs = vec![String::new()];
        for c in chars {
            inputs.push(c.to_string());
            for len in [15, 63, 64, 65, 130] {
                for at in [0, len / 2, len - 1] {
                    let mut s: String = "a".repeat(len);
                    s.replace_range(at..=at, &c.to_string());
                    inputs.push(s);
                }
            }
        }
        for s in &inputs {
            let mut json = Vec::new();
            json_string(&mut json, s);
            assert_eq!(json, serde_json::to_vec(s).unwrap_or_default(), "{s:?}");
            let mut form = String::from("x");
            form_encode(&mut form, s);
            let expected: String = form_urlencoded::byte_serialize(s.as_bytes()).collect();
            assert_eq!(form, format!("x{expected}"), "{s:?}");
        }
    }
}
