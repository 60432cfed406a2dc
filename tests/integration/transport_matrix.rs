//! The transport matrix: every transport against the same misbehaving loopback servers,
//! asserting the exact error class and that nothing outlives its deadline.
//!
//! Each test loops over [`drivers`]: the ureq transport (feature `ureq`) and the hyper
//! transport (feature `hyper`, driven on a tokio runtime). A new transport only needs a
//! [`Driver`]. The servers live in `support/`.

#![cfg(any(feature = "ureq", feature = "hyper"))]

use std::time::{Duration, Instant};

use oidc_refresh::ProviderMetadata;
use oidc_refresh::http::{Method, Request, Response};
use oidc_refresh::{
    AuthResult, BodyFormat, ClientAuth, ClientConfig, ClientSecret, ConfigError, Error, Fault, Options,
    ProtocolErrorKind, RefreshParams, RefreshToken, TransportErrorKind, build_refresh_request,
};
use oidc_refresh_testing::servers::{
    Behaviour, ConnectProxy, EventRecorder, Listener, PROXIED_NAME, Server, chunked_response, closed_port,
    html_response, http_response, json_response, test_pki,
};

/// The transport settings every driver is built with. Short deadlines keep the suite fast.
#[derive(Clone, Debug)]
struct MatrixOptions {
    timeout: Duration,
    connect_timeout: Duration,
    max_body: u64,
    extra_roots: Vec<Vec<u8>>,
    /// Off but in the proxy test, so that a developer's `HTTP_PROXY` cannot change results.
    proxy_from_env: bool,
}

impl Default for MatrixOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
            max_body: 1_048_576,
            extra_roots: Vec::new(),
            proxy_from_env: false,
        }
    }
}

impl MatrixOptions {
    /// The options every transport takes.
    fn options(&self) -> Options {
        self.extra_roots.iter().fold(
            Options::default()
                .timeout(self.timeout)
                .connect_timeout(self.connect_timeout)
                .max_body(self.max_body)
                .proxy_from_env(self.proxy_from_env),
            |o, der| o.add_root_certificate_der(der.clone()),
        )
    }
}

/// One transport, seen blocking. Each call builds a fresh transport from the options.
trait Driver {
    fn name(&self) -> &'static str;
    /// The `Debug` of a transport built from `opts`.
    fn debug(&self, opts: &MatrixOptions) -> String;
    fn refresh(
        &self,
        opts: &MatrixOptions,
        client: &ClientConfig,
        rt: &RefreshToken,
    ) -> Result<AuthResult, Error>;
    fn discover(&self, opts: &MatrixOptions, issuer: &str) -> Result<ProviderMetadata, Error>;
    fn execute(&self, opts: &MatrixOptions, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error>;
}

#[cfg(feature = "ureq")]
mod ureq_driver {
    use super::*;
    use oidc_refresh::ureq::Transport;

    pub(super) struct Ureq;

    fn transport(opts: &MatrixOptions) -> Result<Transport, Error> {
        Transport::new(opts.options())
    }

    impl Driver for Ureq {
        fn name(&self) -> &'static str {
            "ureq"
        }
        fn debug(&self, opts: &MatrixOptions) -> String {
            format!("{:?}", transport(opts))
        }
        fn refresh(
            &self,
            opts: &MatrixOptions,
            client: &ClientConfig,
            rt: &RefreshToken,
        ) -> Result<AuthResult, Error> {
            transport(opts)?.refresh_tokens(client, &RefreshParams::new(rt))
        }
        fn discover(&self, opts: &MatrixOptions, issuer: &str) -> Result<ProviderMetadata, Error> {
            transport(opts)?.discover(issuer)
        }
        fn execute(
            &self,
            opts: &MatrixOptions,
            request: Request<Vec<u8>>,
        ) -> Result<Response<Vec<u8>>, Error> {
            transport(opts)?.execute(request)
        }
    }
}

#[cfg(feature = "hyper")]
mod hyper_driver {
    use super::*;
    use oidc_refresh::hyper::Transport;

    /// The hyper transport, driven on a current-thread tokio runtime (current-thread, so that
    /// `tracing`'s thread-local subscriber in the log test sees its events).
    pub(super) struct Hyper;

    fn transport(opts: &MatrixOptions) -> Result<Transport, Error> {
        Transport::new(opts.options())
    }

    fn block_on<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime").block_on(f)
    }

    impl Driver for Hyper {
        fn name(&self) -> &'static str {
            "hyper"
        }
        fn debug(&self, opts: &MatrixOptions) -> String {
            format!("{:?}", transport(opts))
        }
        fn refresh(
            &self,
            opts: &MatrixOptions,
            client: &ClientConfig,
            rt: &RefreshToken,
        ) -> Result<AuthResult, Error> {
            let t = transport(opts)?;
            block_on(t.refresh_tokens(client, &RefreshParams::new(rt)))
        }
        fn discover(&self, opts: &MatrixOptions, issuer: &str) -> Result<ProviderMetadata, Error> {
            let t = transport(opts)?;
            block_on(t.discover(issuer))
        }
        fn execute(
            &self,
            opts: &MatrixOptions,
            request: Request<Vec<u8>>,
        ) -> Result<Response<Vec<u8>>, Error> {
            let t = transport(opts)?;
            block_on(t.execute(request))
        }
    }
}

#[allow(clippy::vec_init_then_push)] // one `push` per transport feature
fn drivers() -> Vec<Box<dyn Driver>> {
    let mut all: Vec<Box<dyn Driver>> = Vec::new();
    #[cfg(feature = "ureq")]
    all.push(Box::new(ureq_driver::Ureq));
    #[cfg(feature = "hyper")]
    all.push(Box::new(hyper_driver::Hyper));
    all
}

// ---------------------------------------------------------------------------------------
// Helpers

const CLIENT_ID: &str = "matrix-app";
const REFRESH_TOKEN: &str = "rt-matrix-old-0123456789abcdef";
const SUCCESS: &str = r#"{"access_token":"at-matrix-new-0123456789abcdef","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-matrix-new-0123456789abcdef"}"#;

fn client_for(server: &Server) -> ClientConfig {
    ClientConfig::new(&server.url("/token"), CLIENT_ID).expect("loopback client")
}

fn refresh_token() -> RefreshToken {
    RefreshToken::new(REFRESH_TOKEN)
}

/// Runs `f`, returning its result and how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn expect_err<T>(result: Result<T, Error>, ctx: &str) -> Error {
    match result {
        Ok(_) => panic!("{ctx}: succeeded, expected an error"),
        Err(e) => e,
    }
}

#[track_caller]
fn assert_transport(e: &Error, kind: TransportErrorKind, ctx: &str) {
    assert_eq!(e.fault(), Fault::Transport, "{ctx}: {e}");
    match e {
        Error::Transport(t) => assert_eq!(t.kind(), kind, "{ctx}: {e}"),
        other => panic!("{ctx}: not a transport error: {other}"),
    }
}

/// Asserts a refresh against a server answering `response` fails with `kind`.
#[track_caller]
fn assert_refresh_fails(response: Vec<u8>, kind: TransportErrorKind, ctx: &str) {
    for d in drivers() {
        let server = Server::start(Behaviour::Respond(response.clone()));
        let e = expect_err(d.refresh(&MatrixOptions::default(), &client_for(&server), &refresh_token()), ctx);
        assert_transport(&e, kind, &format!("{} {ctx}", d.name()));
        drop(server.finish());
    }
}

/// A JSON token response padded with spaces to exactly `len` bytes.
fn padded_success(len: usize) -> Vec<u8> {
    let mut body = SUCCESS.as_bytes().to_vec();
    assert!(body.len() <= len);
    body.resize(len, b' ');
    body
}

// ---------------------------------------------------------------------------------------
// Success and the request on the wire

#[test]
fn success_sends_exactly_the_request_the_core_built() {
    for d in drivers() {
        let cases = [
            (BodyFormat::Form, ClientAuth::ClientSecretBasic(ClientSecret::new("s3cret %:+ ~*'()"))),
            (BodyFormat::Json, ClientAuth::None),
        ];
        for (format, auth) in cases {
            let server = Server::start(Behaviour::Respond(json_response(200, SUCCESS)));
            let client = client_for(&server).with_body_format(format).with_auth(auth);
            let rt = refresh_token();
            let expected = build_refresh_request(&client, &RefreshParams::new(&rt)).expect("request");

            let result = d.refresh(&MatrixOptions::default(), &client, &rt).expect("refresh");
            assert_eq!(result.access_token().expose_secret(), "at-matrix-new-0123456789abcdef");
            assert_eq!(
                result.refresh_token().map(RefreshToken::expose_secret),
                Some("rt-matrix-new-0123456789abcdef")
            );

            let log = server.finish();
            let ctx = format!("{} {format:?}", d.name());
            assert_eq!(log.connections, 1, "{ctx}");
            let [seen] = log.requests.as_slice() else { panic!("{ctx}: {} requests", log.requests.len()) };
            assert_eq!(seen.method(), "POST", "{ctx}");
            assert_eq!(seen.path(), "/token", "{ctx}");
            assert_eq!(seen.header("accept"), Some("application/json"), "{ctx}");
            for name in ["content-type", "authorization"] {
                let want = expected.headers().get(name).map(|v| v.to_str().expect("ascii header"));
                assert_eq!(seen.header(name), want, "{ctx}: {name}");
            }
            assert_eq!(
                seen.header("content-length"),
                Some(expected.body().len().to_string().as_str()),
                "{ctx}"
            );
            assert_eq!(seen.body, *expected.body(), "{ctx}: body bytes");
            assert!(seen.headers("accept-encoding").is_empty(), "{ctx}: no content coding is asked for");
        }
    }
}

#[test]
fn discovery_yields_a_client_and_checks_the_issuer() {
    for d in drivers() {
        let listener = Listener::bind();
        let issuer = listener.base_url();
        let doc = format!(
            r#"{{"issuer":"{issuer}","token_endpoint":"{issuer}/token","jwks_uri":"{issuer}/jwks"}}"#
        );
        let server = listener.serve(Behaviour::Respond(json_response(200, &doc)));
        let meta =
            d.discover(&MatrixOptions::default(), &format!("{issuer}/")).map(|m| m.issuer().to_owned());
        // The document names the issuer without the trailing slash: not the one asked for.
        let e = expect_err(meta, d.name());
        assert_eq!(e.fault(), Fault::ServerProtocol, "{}: {e}", d.name());
        let meta = d.discover(&MatrixOptions::default(), &issuer).expect("discovery");
        assert_eq!(meta.issuer(), issuer);
        assert_eq!(meta.token_endpoint().to_string(), format!("{issuer}/token"));
        let client = meta.client(CLIENT_ID).expect("client");
        assert_eq!(client.issuer(), Some(issuer.as_str()));

        let log = server.finish();
        assert_eq!(log.requests.len(), 2, "{}", d.name());
        for seen in &log.requests {
            assert_eq!(seen.method(), "GET");
            assert_eq!(seen.path(), "/.well-known/openid-configuration");
            assert_eq!(seen.header("accept"), Some("application/json"));
            assert!(seen.body.is_empty());
        }
    }
}

#[test]
fn discovery_of_another_issuer_is_a_protocol_error() {
    for d in drivers() {
        let doc = r#"{"issuer":"https://evil.example","token_endpoint":"https://evil.example/token"}"#;
        let server = Server::start(Behaviour::Respond(json_response(200, doc)));
        let e = expect_err(d.discover(&MatrixOptions::default(), &server.url("")), d.name());
        match &e {
            Error::Protocol(p) => assert!(matches!(p.kind(), ProtocolErrorKind::Discovery { .. }), "{e}"),
            other => panic!("{}: {other}", d.name()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Connection failures and deadlines

#[test]
fn connection_refused_is_connect() {
    let port = closed_port();
    for d in drivers() {
        let client = ClientConfig::new(&format!("http://127.0.0.1:{port}/token"), CLIENT_ID).expect("client");
        // `Connect`, not `Timeout`: the refusal ended the exchange, not the deadline.
        let e = expect_err(d.refresh(&MatrixOptions::default(), &client, &refresh_token()), d.name());
        assert_transport(&e, TransportErrorKind::Connect, d.name());
        assert!(e.is_retryable());
    }
}

#[test]
fn a_server_that_never_answers_times_out_at_the_deadline() {
    // The server keeps the connection open and silent until it stops (LIFETIME, 10 s), and
    // then closes it: a client without a deadline would report `Interrupted` then. So
    // `Timeout` says the deadline ended the exchange, and the lower bound that it did not end
    // it early; neither depends on how busy the machine is.
    for d in drivers() {
        let server = Server::start(Behaviour::Silent);
        let opts = MatrixOptions { timeout: Duration::from_millis(1000), ..MatrixOptions::default() };
        let (result, elapsed) = timed(|| d.refresh(&opts, &client_for(&server), &refresh_token()));
        let e = expect_err(result, d.name());
        assert_transport(&e, TransportErrorKind::Timeout, d.name());
        assert!(e.is_retryable());
        assert!(elapsed >= Duration::from_millis(900), "{}: gave up early, {elapsed:?}", d.name());
        assert_eq!(server.finish().requests.len(), 1);
    }
}

#[test]
fn a_slow_drip_body_times_out_at_the_total_deadline() {
    // Headers, then a body dripping one byte every 200 ms until the server stops (10 s) and
    // closes, short of its Content-Length: every read succeeds, so only the total deadline can
    // end the exchange as `Timeout`. A deadline reset by each byte would read on until the
    // close and report `Interrupted`.
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
    for d in drivers() {
        let server = Server::start(Behaviour::DripBody {
            head: head.as_bytes().to_vec(),
            body_byte: b' ',
            interval: Duration::from_millis(200),
        });
        let opts = MatrixOptions { timeout: Duration::from_millis(1500), ..MatrixOptions::default() };
        let (result, elapsed) = timed(|| d.refresh(&opts, &client_for(&server), &refresh_token()));
        let e = expect_err(result, d.name());
        assert_transport(&e, TransportErrorKind::Timeout, d.name());
        assert!(elapsed >= Duration::from_millis(1300), "{}: gave up early, {elapsed:?}", d.name());
    }
}

#[test]
fn slow_drip_headers_time_out_at_the_total_deadline() {
    // 104 bytes of headers, one every 100 ms: complete after 10.4 s, past the server's life
    // (10 s). `Timeout` says the deadline ended the exchange: without one, the client
    // would see the connection close and report `Interrupted`.
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n".to_vec();
    for d in drivers() {
        let server =
            Server::start(Behaviour::Drip { bytes: head.clone(), interval: Duration::from_millis(100) });
        let opts = MatrixOptions { timeout: Duration::from_millis(1000), ..MatrixOptions::default() };
        let (result, elapsed) = timed(|| d.refresh(&opts, &client_for(&server), &refresh_token()));
        let e = expect_err(result, d.name());
        assert_transport(&e, TransportErrorKind::Timeout, d.name());
        assert!(elapsed >= Duration::from_millis(900), "{}: gave up early, {elapsed:?}", d.name());
    }
}

#[test]
fn a_body_cut_short_is_interrupted() {
    let response =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"access_t"
            .to_vec();
    assert_refresh_fails(response, TransportErrorKind::Interrupted, "Content-Length 100, 10 bytes sent");
}

#[test]
fn a_connection_closed_without_an_answer_is_interrupted() {
    for d in drivers() {
        let server = Server::start(Behaviour::Close);
        let e = expect_err(
            d.refresh(&MatrixOptions::default(), &client_for(&server), &refresh_token()),
            d.name(),
        );
        assert_transport(&e, TransportErrorKind::Interrupted, d.name());
        assert!(e.is_retryable());
        // Sent once, never retried.
        let log = server.finish();
        assert_eq!((log.connections, log.requests.len()), (1, 1), "{}", d.name());
    }
}

// ---------------------------------------------------------------------------------------
// The body cap

#[test]
fn an_endless_chunked_body_is_too_large() {
    for d in drivers() {
        let server = Server::start(Behaviour::EndlessChunked);
        // `BodyTooLarge`, not `Timeout`: the cap ended the exchange, not the deadline.
        let opts = MatrixOptions { max_body: 100_000, ..MatrixOptions::default() };
        let e = expect_err(d.refresh(&opts, &client_for(&server), &refresh_token()), d.name());
        assert_transport(&e, TransportErrorKind::BodyTooLarge, d.name());
        assert!(!e.is_retryable());
    }
}

#[test]
fn a_body_of_exactly_the_cap_passes_and_one_byte_more_fails() {
    let opts = MatrixOptions { max_body: 1000, ..MatrixOptions::default() };
    for d in drivers() {
        for chunked in [false, true] {
            let ctx = format!("{} chunked={chunked}", d.name());
            let respond = |body: &[u8]| {
                if chunked { chunked_response(200, body) } else { http_response(200, &[], body) }
            };
            let server = Server::start(Behaviour::Respond(respond(&padded_success(1000))));
            let result = d.refresh(&opts, &client_for(&server), &refresh_token());
            assert!(result.is_ok(), "{ctx}: 1000 bytes: {:?}", result.err());

            let server = Server::start(Behaviour::Respond(respond(&padded_success(1001))));
            let e = expect_err(d.refresh(&opts, &client_for(&server), &refresh_token()), &ctx);
            assert_transport(&e, TransportErrorKind::BodyTooLarge, &format!("{ctx}: 1001 bytes"));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Redirects

#[test]
fn a_redirect_is_refused_and_never_followed() {
    for d in drivers() {
        let target = Server::start(Behaviour::Respond(json_response(200, SUCCESS)));
        let location = target.url("/token");
        let server = Server::start(Behaviour::Respond(http_response(302, &[("Location", &location)], b"")));
        let e = expect_err(
            d.refresh(&MatrixOptions::default(), &client_for(&server), &refresh_token()),
            d.name(),
        );
        assert_transport(&e, TransportErrorKind::Redirect, d.name());
        assert!(!e.is_retryable());
        assert_eq!(server.finish().requests.len(), 1, "{}", d.name());
        assert_eq!(target.finish().connections, 0, "{}: the redirect target was contacted", d.name());
    }
}

#[test]
fn every_3xx_without_location_is_a_redirect_error() {
    for status in [300, 301, 302, 303, 304, 307, 308] {
        assert_refresh_fails(
            http_response(status, &[], b""),
            TransportErrorKind::Redirect,
            &format!("HTTP {status}"),
        );
    }
    // Even with a token response in the body.
    assert_refresh_fails(json_response(307, SUCCESS), TransportErrorKind::Redirect, "307 with a token body");
}

#[test]
fn a_redirected_discovery_is_refused() {
    for d in drivers() {
        let server = Server::start(Behaviour::Respond(http_response(
            301,
            &[("Location", "http://127.0.0.1:9/x")],
            b"",
        )));
        let e = expect_err(d.discover(&MatrixOptions::default(), &server.url("")), d.name());
        assert_transport(&e, TransportErrorKind::Redirect, d.name());
    }
}

// ---------------------------------------------------------------------------------------
// Error statuses reach the core intact

#[test]
fn an_html_502_is_a_retryable_protocol_error() {
    for d in drivers() {
        let server =
            Server::start(Behaviour::Respond(html_response(502, &[], "<html><h1>Bad Gateway</h1></html>")));
        let e = expect_err(
            d.refresh(&MatrixOptions::default(), &client_for(&server), &refresh_token()),
            d.name(),
        );
        assert_eq!(e.fault(), Fault::ServerProtocol, "{}: {e}", d.name());
        assert_eq!(e.status().map(|s| s.as_u16()), Some(502));
        assert!(e.is_retryable());
    }
}

#[test]
fn a_json_429_slow_down_keeps_retry_after() {
    for d in drivers() {
        let response = http_response(
            429,
            &[("Content-Type", "application/json"), ("Retry-After", "3")],
            br#"{"error":"slow_down"}"#,
        );
        let server = Server::start(Behaviour::Respond(response));
        let e = expect_err(
            d.refresh(&MatrixOptions::default(), &client_for(&server), &refresh_token()),
            d.name(),
        );
        assert_eq!(e.fault(), Fault::ServerRefused, "{}: {e}", d.name());
        assert_eq!(e.oauth_error_code(), Some("slow_down"));
        assert_eq!(e.status().map(|s| s.as_u16()), Some(429));
        assert_eq!(e.retry_after_secs(), Some(3));
        assert!(e.is_retryable());
    }
}

#[test]
fn an_html_429_keeps_retry_after() {
    for d in drivers() {
        let server = Server::start(Behaviour::Respond(html_response(
            429,
            &[("Retry-After", "3")],
            "<p>slow down</p>",
        )));
        let e = expect_err(
            d.refresh(&MatrixOptions::default(), &client_for(&server), &refresh_token()),
            d.name(),
        );
        assert_eq!(e.fault(), Fault::ServerProtocol, "{}: {e}", d.name());
        assert_eq!(e.status().map(|s| s.as_u16()), Some(429));
        assert_eq!(e.retry_after_secs(), Some(3));
        assert!(e.is_retryable());
    }
}

#[test]
fn oauth_errors_whatever_the_status() {
    for d in drivers() {
        for status in [200, 400] {
            let server = Server::start(Behaviour::Respond(json_response(
                status,
                r#"{"error":"invalid_grant","error_description":"refresh token revoked"}"#,
            )));
            let e = expect_err(
                d.refresh(&MatrixOptions::default(), &client_for(&server), &refresh_token()),
                d.name(),
            );
            assert_eq!(e.fault(), Fault::ServerRefused, "{} {status}: {e}", d.name());
            assert_eq!(e.status().map(|s| s.as_u16()), Some(status));
            assert!(e.is_reauth_required());
            assert!(!e.is_retryable());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Plain http and TLS

#[test]
fn plain_http_to_a_non_loopback_host_is_refused_before_connecting() {
    for d in drivers() {
        let request = Request::builder()
            .method(Method::POST)
            .uri("http://example.invalid/token")
            .body(b"grant_type=refresh_token&refresh_token=x".to_vec())
            .expect("request");
        // `InsecureUrl` comes only from the URL check that runs before any I/O (a look-up of
        // `example.invalid` would have failed as `Connect`).
        let e = expect_err(d.execute(&MatrixOptions::default(), request), d.name());
        assert!(matches!(e, Error::Config(ConfigError::InsecureUrl)), "{}: {e}", d.name());
    }
}

#[test]
fn tls_with_the_test_ca_trusted_succeeds() {
    let pki = test_pki();
    for d in drivers() {
        for host in ["localhost", "127.0.0.1"] {
            let server =
                Server::start_tls(Behaviour::Respond(json_response(200, SUCCESS)), pki.server_config.clone());
            let client = ClientConfig::new(&server.url_with_host(host, "/token"), CLIENT_ID).expect("client");
            let opts = MatrixOptions { extra_roots: vec![pki.ca_der.clone()], ..MatrixOptions::default() };
            let result = d.refresh(&opts, &client, &refresh_token());
            assert!(result.is_ok(), "{} {host}: {:?}", d.name(), result.err());
            let log = server.finish();
            assert_eq!(log.requests.len(), 1);
            assert_eq!(log.requests[0].path(), "/token");
        }
    }
}

#[test]
fn tls_with_an_untrusted_certificate_fails_before_any_request_byte() {
    let pki = test_pki();
    for d in drivers() {
        let server =
            Server::start_tls(Behaviour::Respond(json_response(200, SUCCESS)), pki.server_config.clone());
        let client =
            ClientConfig::new(&server.url_with_host("localhost", "/token"), CLIENT_ID).expect("client");
        let e = expect_err(d.refresh(&MatrixOptions::default(), &client, &refresh_token()), d.name());
        assert_transport(&e, TransportErrorKind::Tls, d.name());
        assert!(!e.is_retryable());
        let log = server.finish();
        assert_eq!(log.connections, 1, "{}", d.name());
        assert!(log.requests.is_empty(), "{}: the server saw a request", d.name());
        assert_eq!(log.bytes_received, 0, "{}: application bytes after a failed handshake", d.name());
    }
}

// ---------------------------------------------------------------------------------------
// Logs

#[test]
fn logs_name_the_host_and_rotation_but_never_a_token() {
    for d in drivers() {
        let recorder = EventRecorder::default();
        let secret = "client-secret-0123456789abcdef";
        // A success that rotates, then a broken response that rotates
        // (R18 rotated-token-survives-broken-response).
        for body in [
            SUCCESS,
            r#"{"access_token":"at-matrix-new-0123456789abcdef","refresh_token":"rt-matrix-new-0123456789abcdef"}"#,
        ] {
            let server = Server::start(Behaviour::Respond(json_response(200, body)));
            let client =
                client_for(&server).with_auth(ClientAuth::ClientSecretPost(ClientSecret::new(secret)));
            let _ = tracing::subscriber::with_default(recorder.clone(), || {
                d.refresh(&MatrixOptions::default(), &client, &refresh_token())
            });
        }
        let events = recorder.events();
        let ours: Vec<&String> = events.iter().filter(|e| e.starts_with("oidc_refresh ")).collect();
        let ctx = format!("{}: {events:#?}", d.name());
        assert!(ours.iter().any(|e| e.contains("127.0.0.1")), "{ctx}");
        assert!(ours.iter().any(|e| e.contains("rotated=true") && e.contains("success")), "{ctx}");
        assert!(ours.iter().any(|e| e.contains("rotated=true") && e.contains("server_protocol")), "{ctx}");
        for leak in [REFRESH_TOKEN, "rt-matrix-new", "at-matrix-new", secret, "0123456789abcdef"] {
            assert!(events.iter().all(|e| !e.contains(leak)), "{ctx}: leaked {leak}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Proxies from the environment

/// The environment variable that makes this binary the proxy test's child.
const PROXY_CHILD: &str = "OIDC_REFRESH_MATRIX_PROXY_CHILD";

/// Proxies from the environment: an `http://` proxy reached with `CONNECT` for remote hosts,
/// never for loopback ones. The environment is read when a transport is built, and changing
/// this process's environment is not safe while other tests run, so the test runs this binary
/// again as a child with `HTTPS_PROXY` pointing at a proxy on loopback.
#[test]
fn the_environment_proxy_is_used_for_remote_hosts_and_never_for_loopback() {
    if let Ok(spec) = std::env::var(PROXY_CHILD) {
        return proxy_child(&spec);
    }
    let pki = test_pki();
    let tls =
        Server::start_tls(Behaviour::Respond(json_response(200, r#"{"via":"tunnel"}"#)), pki.server_config);
    let direct = Server::start(Behaviour::Respond(json_response(200, r#"{"via":"direct"}"#)));
    let tls_addr = tls.url("/").trim_start_matches("https://").trim_end_matches('/').parse().expect("addr");
    let proxy = ConnectProxy::start(tls_addr);

    // This test's name in the test binary: its module path without the crate's name.
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    let this_test =
        format!("{module}::the_environment_proxy_is_used_for_remote_hosts_and_never_for_loopback");
    let mut command = std::process::Command::new(std::env::current_exe().expect("test binary"));
    for name in ["ALL_PROXY", "all_proxy", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"]
    {
        command.env_remove(name);
    }
    let ca: String = pki.ca_der.iter().map(|b| format!("{b:02x}")).collect();
    let output = command
        .args(["--exact", &this_test, "--nocapture"])
        .env(PROXY_CHILD, format!("{} {ca}", direct.url("/")))
        .env("HTTPS_PROXY", proxy.url())
        .output()
        .expect("run the child");
    assert!(
        output.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let n = drivers().len();
    let seen = proxy.seen();
    assert_eq!(seen.len(), 2 * n, "{seen:?}");
    for pair in seen.chunks(2) {
        assert!(pair[0].starts_with(&format!("CONNECT {PROXIED_NAME}:443 ")), "{seen:?}");
        assert!(pair[1].starts_with("CONNECT example.invalid:443 "), "{seen:?}");
    }
    assert_eq!(direct.finish().requests.len(), n, "the loopback target is reached directly");
    assert_eq!(tls.finish().requests.len(), n, "every tunnelled request reached the server");
}

fn proxy_child(spec: &str) {
    let (direct, ca) = spec.split_once(' ').expect("spec");
    let ca: Vec<u8> =
        (0..ca.len()).step_by(2).map(|i| u8::from_str_radix(&ca[i..i + 2], 16).expect("hex")).collect();
    let opts = MatrixOptions {
        timeout: Duration::from_secs(5),
        extra_roots: vec![ca],
        proxy_from_env: true,
        ..MatrixOptions::default()
    };
    let get = |url: &str| Request::get(url).body(Vec::new()).expect("request");
    for d in drivers() {
        let shown = d.debug(&opts);
        assert!(!shown.contains("proxy: None") && !shown.contains("proxy: false"), "{}: {shown}", d.name());
        let off = d.debug(&MatrixOptions { proxy_from_env: false, ..opts.clone() });
        assert!(off.contains("proxy: None") || off.contains("proxy: false"), "{}: {off}", d.name());

        // Loopback: straight to the target, although a proxy is configured.
        let response = d.execute(&opts, get(direct)).expect("direct");
        assert_eq!(response.body().as_slice(), br#"{"via":"direct"}"#, "{}", d.name());

        // A remote host: through the proxy's tunnel, TLS end to end.
        let response = d.execute(&opts, get(&format!("https://{PROXIED_NAME}/token"))).expect("tunnelled");
        assert_eq!(response.body().as_slice(), br#"{"via":"tunnel"}"#, "{}", d.name());

        // A remote host the proxy refuses: a connect failure.
        let e = expect_err(d.execute(&opts, get("https://example.invalid/")), d.name());
        assert_transport(&e, TransportErrorKind::Connect, d.name());
    }
}
