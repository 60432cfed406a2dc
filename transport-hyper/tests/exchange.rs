//! The hyper transport against loopback fault servers: the exact request, and every
//! failure class (connect, timeout, interrupted, body cap, redirect, HTML error, OAuth error).

mod common;

use std::time::{Duration, Instant};

use common::{Captured, TOKEN_BODY, client, json_ok, kind, listener, response, serve_one, serve_raw};
use oidc_refresh_core::{
    ClientAuth, ClientSecret, ConfigError, Continuity, Error, RefreshParams, RefreshToken,
    TransportErrorKind, build_refresh_request,
};
use oidc_refresh_hyper::{Options, Transport};
use tokio::io::AsyncWriteExt;

fn transport(options: Options) -> Transport {
    Transport::new(options).expect("transport")
}

fn one_second() -> Options {
    Options::default().timeout(Duration::from_secs(1)).connect_timeout(Duration::from_secs(1))
}

fn get(url: &str) -> http::Request<Vec<u8>> {
    http::Request::get(url).body(Vec::new()).expect("request")
}

#[tokio::test]
async fn success_sends_exactly_the_core_request() {
    let (addr, server) = serve_raw(json_ok(TOKEN_BODY)).await;
    let client = client(addr);
    let rt = RefreshToken::new("rt-1");
    let params = RefreshParams::new(&rt).scope("openid email");
    let (result, continuity) = transport(Options::default())
        .refresh_tokens_with_previous(&client, &params, None)
        .await
        .expect("refresh succeeds");
    assert_eq!(result.access_token().expose_secret(), "at-2");
    assert_eq!(result.refresh_token().map(RefreshToken::expose_secret), Some("rt-2"));
    assert_eq!(result.expires_in(), Some(3600));
    assert_eq!(continuity, Continuity::NoIdToken);

    let got: Captured = server.await.expect("server task").expect("server got a request");
    let expected = build_refresh_request(&client, &params).expect("core builds the request");
    assert_eq!(got.request_line(), "POST /oauth/token HTTP/1.1");
    assert_eq!(got.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(got.header("accept"), Some("application/json"));
    assert_eq!(got.header("host"), Some(addr.to_string().as_str()));
    assert_eq!(got.header("content-length"), Some(expected.body().len().to_string().as_str()));
    assert!(
        got.header("user-agent").is_some_and(|ua| ua.starts_with("oidc-refresh/") && ua.ends_with("(hyper)"))
    );
    assert_eq!(got.header("authorization"), None);
    assert_eq!(got.header("transfer-encoding"), None);
    assert_eq!(got.body, expected.body().as_slice());
    assert_eq!(got.body, b"grant_type=refresh_token&refresh_token=rt-1&scope=openid+email&client_id=my-app");
}

#[tokio::test]
async fn basic_auth_and_json_body_go_out_as_built() {
    let (addr, server) = serve_raw(json_ok(TOKEN_BODY)).await;
    let client = client(addr)
        .with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new("s3cr%t:+")))
        .with_body_format(oidc_refresh_core::BodyFormat::Json);
    let rt = RefreshToken::new("rt-1");
    let params = RefreshParams::new(&rt);
    transport(Options::default()).refresh_tokens(&client, &params).await.expect("refresh succeeds");
    let got = server.await.expect("server task").expect("server got a request");
    let expected = build_refresh_request(&client, &params).expect("core builds the request");
    let authorization = expected.headers()["authorization"].to_str().expect("ascii");
    assert_eq!(got.header("authorization"), Some(authorization));
    assert_eq!(got.header("content-type"), Some("application/json;charset=UTF-8"));
    assert_eq!(got.body, expected.body().as_slice());
}

#[tokio::test]
async fn connection_refused_is_connect() {
    let (l, addr) = listener().await;
    drop(l);
    let rt = RefreshToken::new("rt-1");
    let e = transport(one_second())
        .refresh_tokens(&client(addr), &RefreshParams::new(&rt))
        .await
        .expect_err("nobody listens");
    assert_eq!(kind(&e), Some(TransportErrorKind::Connect), "{e}");
    assert!(e.is_retryable());
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_at_the_deadline() {
    // Silent for 30 s, then the connection closes: a client without a deadline would report
    // `Interrupted` then. `Timeout` says the deadline ended the exchange, the lower bound that
    // it did not end it early; neither depends on how busy the machine is.
    let (addr, _server) = serve_one(|stream| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    })
    .await;
    let rt = RefreshToken::new("rt-1");
    let started = Instant::now();
    let e = transport(one_second())
        .refresh_tokens(&client(addr), &RefreshParams::new(&rt))
        .await
        .expect_err("no answer");
    let elapsed = started.elapsed();
    assert_eq!(kind(&e), Some(TransportErrorKind::Timeout), "{e}");
    assert!(elapsed >= Duration::from_millis(950), "gave up early: {elapsed:?}");
}

#[tokio::test]
async fn a_slow_drip_times_out_at_the_total_deadline() {
    // Every read succeeds, so only the total deadline can end the exchange as `Timeout`; a
    // deadline reset by each byte would read on until the server closes the unfinished body
    // (after 10 s) and report `Interrupted`.
    let (addr, _server) = serve_one(|mut stream| async move {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        // One byte every 200 ms, for at most 10 s.
        for _ in 0..50 {
            if stream.write_all(b"1\r\n \r\n").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    let rt = RefreshToken::new("rt-1");
    let started = Instant::now();
    let e = transport(one_second())
        .refresh_tokens(&client(addr), &RefreshParams::new(&rt))
        .await
        .expect_err("never completes");
    let elapsed = started.elapsed();
    assert_eq!(kind(&e), Some(TransportErrorKind::Timeout), "{e}");
    assert!(elapsed >= Duration::from_millis(950), "gave up early: {elapsed:?}");
}

#[tokio::test]
async fn a_body_cut_short_is_interrupted() {
    let mut raw =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n".to_vec();
    raw.extend_from_slice(b"{\"access_t");
    let (addr, _server) = serve_raw(raw).await;
    let rt = RefreshToken::new("rt-1");
    let e = transport(one_second())
        .refresh_tokens(&client(addr), &RefreshParams::new(&rt))
        .await
        .expect_err("cut short");
    assert_eq!(kind(&e), Some(TransportErrorKind::Interrupted), "{e}");
    assert!(e.is_retryable());
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_interrupted() {
    let (addr, _server) = serve_one(|stream| async move { drop(stream) }).await;
    let rt = RefreshToken::new("rt-1");
    let e = transport(one_second())
        .refresh_tokens(&client(addr), &RefreshParams::new(&rt))
        .await
        .expect_err("closed");
    assert_eq!(kind(&e), Some(TransportErrorKind::Interrupted), "{e}");
}

#[tokio::test]
async fn an_endless_chunked_body_is_too_large() {
    let (addr, _server) = serve_one(|mut stream| async move {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("64\r\n{}\r\n", "x".repeat(100));
        // "Endless": until the client hangs up, at most 10 MB.
        for _ in 0..100_000 {
            if stream.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
    })
    .await;
    let rt = RefreshToken::new("rt-1");
    let e = transport(one_second().max_body(1000))
        .refresh_tokens(&client(addr), &RefreshParams::new(&rt))
        .await
        .expect_err("too large");
    assert_eq!(kind(&e), Some(TransportErrorKind::BodyTooLarge), "{e}");
    assert!(!e.is_retryable());
}

/// A chunked response whose body is `sizes` chunks of `x`.
fn chunked(sizes: &[usize]) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for size in sizes {
        out.extend_from_slice(format!("{size:x}\r\n{}\r\n", "x".repeat(*size)).as_bytes());
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

#[tokio::test]
async fn exactly_the_cap_passes_and_one_more_byte_fails() {
    let t = transport(one_second().max_body(1000));
    // Counted after transfer decoding: the chunked framing is not part of the body.
    let (addr, _s) = serve_raw(chunked(&[300, 700])).await;
    let ok = t.execute(get(&format!("http://{addr}/"))).await.expect("exactly the cap");
    assert_eq!(ok.body().len(), 1000);

    let (addr, _s) = serve_raw(chunked(&[300, 701])).await;
    let e = t.execute(get(&format!("http://{addr}/"))).await.expect_err("one byte over");
    assert_eq!(kind(&e), Some(TransportErrorKind::BodyTooLarge), "{e}");

    let (addr, _s) = serve_raw(response("200 OK", &[], &[b'y'; 1000])).await;
    let ok = t.execute(get(&format!("http://{addr}/"))).await.expect("exactly the cap");
    assert_eq!(ok.body().len(), 1000);

    let (addr, _s) = serve_raw(response("200 OK", &[], &[b'y'; 1001])).await;
    let e = t.execute(get(&format!("http://{addr}/"))).await.expect_err("one byte over");
    assert_eq!(kind(&e), Some(TransportErrorKind::BodyTooLarge), "{e}");

    // A declared length over the cap fails before the body arrives: the server sends no body
    // byte, so a client waiting for one would end at its 1 s deadline with `Timeout`.
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n".to_vec();
    let (addr, _s) = serve_one(move |mut stream| async move {
        let _ = stream.write_all(&head).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let e = t.execute(get(&format!("http://{addr}/"))).await.expect_err("declared over the cap");
    assert_eq!(kind(&e), Some(TransportErrorKind::BodyTooLarge), "{e}");
}

#[tokio::test]
async fn the_default_cap_is_one_mebibyte() {
    let t = transport(one_second());
    assert_eq!(t.options().get_max_body(), 1_048_576);
    let (addr, _s) = serve_raw(response("200 OK", &[], &vec![b'z'; 1_048_576])).await;
    let ok = t.execute(get(&format!("http://{addr}/"))).await.expect("exactly 1 MiB");
    assert_eq!(ok.body().len(), 1_048_576);
    let (addr, _s) = serve_raw(chunked(&[1_048_576, 1])).await;
    let e = t.execute(get(&format!("http://{addr}/"))).await.expect_err("1 MiB + 1");
    assert_eq!(kind(&e), Some(TransportErrorKind::BodyTooLarge), "{e}");
}

#[tokio::test]
async fn redirects_are_refused_and_never_followed() {
    let (second, second_addr) = listener().await;
    let location = format!("http://{second_addr}/oauth/token");
    let t = transport(one_second());
    let rt = RefreshToken::new("rt-1");
    for status in [
        "302 Found",
        "301 Moved Permanently",
        "303 See Other",
        "307 Temporary Redirect",
        "308 Permanent Redirect",
    ] {
        let (addr, server) = serve_raw(response(status, &[("Location", &location)], b"")).await;
        let e = t.refresh_tokens(&client(addr), &RefreshParams::new(&rt)).await.expect_err("redirect");
        assert_eq!(kind(&e), Some(TransportErrorKind::Redirect), "{status}: {e}");
        assert!(server.await.expect("server task").is_some());
    }
    // Without Location too.
    let (addr, _s) = serve_raw(response("302 Found", &[], b"")).await;
    let e = t.refresh_tokens(&client(addr), &RefreshParams::new(&rt)).await.expect_err("redirect");
    assert_eq!(kind(&e), Some(TransportErrorKind::Redirect), "{e}");
    let (addr, _s) = serve_raw(response("300 Multiple Choices", &[], b"{}")).await;
    let e = t.execute(get(&format!("http://{addr}/"))).await.expect_err("redirect");
    assert_eq!(kind(&e), Some(TransportErrorKind::Redirect), "{e}");

    // The redirect target never saw a connection.
    let nothing = tokio::time::timeout(Duration::from_millis(300), second.accept()).await;
    assert!(nothing.is_err(), "the redirect was followed");
}

#[tokio::test]
async fn an_html_502_is_a_protocol_error_with_its_status() {
    let html = b"<html><body><h1>502 Bad Gateway</h1></body></html>";
    let (addr, _s) = serve_raw(response("502 Bad Gateway", &[("Content-Type", "text/html")], html)).await;
    let rt = RefreshToken::new("rt-1");
    let e = transport(one_second())
        .refresh_tokens(&client(addr), &RefreshParams::new(&rt))
        .await
        .expect_err("HTML");
    assert!(matches!(e, Error::Protocol(_)), "{e:?}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(502));
    assert!(e.is_retryable());
}

#[tokio::test]
async fn a_429_slow_down_keeps_retry_after() {
    let (addr, _s) = serve_raw(response(
        "429 Too Many Requests",
        &[("Content-Type", "application/json"), ("Retry-After", "3")],
        br#"{"error":"slow_down"}"#,
    ))
    .await;
    let rt = RefreshToken::new("rt-1");
    let e = transport(one_second())
        .refresh_tokens(&client(addr), &RefreshParams::new(&rt))
        .await
        .expect_err("slow down");
    assert!(matches!(e, Error::Server(_)), "{e:?}");
    assert_eq!(e.oauth_error_code(), Some("slow_down"));
    assert_eq!(e.retry_after_secs(), Some(3));
    assert_eq!(e.status().map(|s| s.as_u16()), Some(429));
    assert!(e.is_retryable());
}

#[tokio::test]
async fn invalid_grant_means_sign_in_again() {
    let (addr, _s) = serve_raw(response(
        "400 Bad Request",
        &[("Content-Type", "application/json")],
        br#"{"error":"invalid_grant","error_description":"expired"}"#,
    ))
    .await;
    let rt = RefreshToken::new("rt-1");
    let e = oidc_refresh_hyper::refresh_tokens(&client(addr), &RefreshParams::new(&rt))
        .await
        .expect_err("invalid_grant");
    assert!(e.is_reauth_required(), "{e}");
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn the_shared_default_transport_refreshes() {
    let (addr, server) = serve_raw(json_ok(TOKEN_BODY)).await;
    let rt = RefreshToken::new("rt-1");
    let result =
        oidc_refresh_hyper::refresh_tokens(&client(addr), &RefreshParams::new(&rt)).await.expect("refresh");
    assert_eq!(result.access_token().expose_secret(), "at-2");
    assert!(server.await.expect("server task").is_some());
}

#[tokio::test]
async fn a_rotated_token_in_a_broken_response_is_handed_over() {
    let (addr, _s) = serve_raw(json_ok(r#"{"token_type":"Bearer","refresh_token":"rt-2"}"#)).await;
    let rt = RefreshToken::new("rt-1");
    let mut e = transport(one_second())
        .refresh_tokens(&client(addr), &RefreshParams::new(&rt))
        .await
        .expect_err("no access token");
    assert!(matches!(e, Error::Protocol(_)), "{e:?}");
    assert!(!e.to_string().contains("rt-2"));
    assert_eq!(e.take_rotated_refresh_token().map(|t| t.expose_secret().to_owned()), Some("rt-2".into()));
}

#[tokio::test]
async fn discovery_requires_the_exact_issuer() {
    let (listener, addr) = listener().await;
    let issuer = format!("http://{addr}");
    let doc = format!(
        r#"{{"issuer":"{issuer}","token_endpoint":"{issuer}/oauth/token","jwks_uri":"{issuer}/jwks"}}"#
    );
    let server = tokio::spawn(async move {
        let (mut stream, _) =
            tokio::time::timeout(common::ACCEPT_WINDOW, listener.accept()).await.ok()?.ok()?;
        let got = common::read_request(&mut stream).await.ok()?;
        stream.write_all(&json_ok(&doc)).await.ok()?;
        Some(got)
    });
    let meta = transport(one_second()).discover(&format!("{issuer}/")).await;
    // A trailing slash makes another issuer string: refused, but the document was fetched.
    assert!(matches!(meta, Err(Error::Protocol(_))), "{meta:?}");
    let got = server.await.expect("server task").expect("request");
    assert_eq!(got.request_line(), "GET /.well-known/openid-configuration HTTP/1.1");
    assert_eq!(got.header("accept"), Some("application/json"));
}

#[tokio::test]
async fn discovery_success_and_redirect() {
    let (listener, addr) = listener().await;
    let issuer = format!("http://{addr}");
    let doc = format!(r#"{{"issuer":"{issuer}","token_endpoint":"{issuer}/oauth/token"}}"#);
    let server = tokio::spawn(async move {
        let (mut stream, _) =
            tokio::time::timeout(common::ACCEPT_WINDOW, listener.accept()).await.ok()?.ok()?;
        let got = common::read_request(&mut stream).await.ok()?;
        stream.write_all(&json_ok(&doc)).await.ok()?;
        Some(got)
    });
    let t = transport(one_second());
    let meta = t.discover(&issuer).await.expect("discovery");
    assert_eq!(meta.issuer(), issuer);
    assert_eq!(meta.token_endpoint().to_string(), format!("{issuer}/oauth/token"));
    assert!(server.await.expect("server task").is_some());

    let (addr, _s) =
        serve_raw(response("301 Moved Permanently", &[("Location", "https://elsewhere.invalid/")], b""))
            .await;
    let e = t.discover(&format!("http://{addr}")).await.expect_err("redirect");
    assert_eq!(kind(&e), Some(TransportErrorKind::Redirect), "{e}");
}

#[tokio::test]
async fn plain_http_off_loopback_is_refused_before_any_io() {
    let t = transport(one_second());
    for url in ["http://id.example.invalid/token", "http://127.example.invalid/", "http://[::2]/token"] {
        let e = t.execute(get(url)).await.expect_err("insecure");
        assert!(matches!(e, Error::Config(ConfigError::InsecureUrl)), "{url}: {e:?}");
    }
    for url in ["ftp://127.0.0.1/token", "/relative/path"] {
        let e = t.execute(get(url)).await.expect_err("invalid");
        assert!(matches!(e, Error::Config(ConfigError::InvalidUrl { .. })), "{url}: {e:?}");
    }
    // And a refresh against such an endpoint is a config error from the core already.
    assert!(oidc_refresh_core::ClientConfig::new("http://id.example.invalid/token", "a").is_err());
}

#[tokio::test]
async fn execute_returns_any_non_redirect_status_with_its_body() {
    let (addr, _s) = serve_raw(response("404 Not Found", &[("Content-Type", "text/plain")], b"nope")).await;
    let r = transport(one_second()).execute(get(&format!("http://{addr}/x"))).await.expect("a response");
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert_eq!(r.body().as_slice(), b"nope");
}

#[test]
fn a_transport_is_built_outside_a_runtime_and_refuses_a_bad_root() {
    let o = Options::default().add_root_certificate_der(vec![1, 2, 3]);
    // Built outside any runtime; a bad root certificate is refused up front.
    let e = Transport::new(o).expect_err("not a certificate");
    assert!(matches!(&e, Error::Config(ConfigError::InvalidRootCertificate { index: 1 })), "{e}");
    let t = Transport::new(Options::default()).expect("built outside a runtime");
    let debug = format!("{t:?}");
    assert!(debug.starts_with("Transport") && debug.contains("timeout"), "{debug}");
}

#[tokio::test]
async fn a_full_accept_queue_hits_the_connect_timeout() {
    // A listener that never accepts, with its backlog filled: further SYNs are dropped, so
    // the next connect hangs until the connect timeout.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
    let addr = socket.local_addr().expect("addr");
    let _listener = socket.listen(0).expect("listen");
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) =
            tokio::time::timeout(Duration::from_millis(200), tokio::net::TcpStream::connect(addr)).await
        {
            fillers.push(s);
        }
    }
    // A total deadline of 60 s and a connect timeout of 300 ms: the kernel gives up on the
    // SYNs only after minutes, so nothing but the connect timeout can end the attempt within
    // 30 s (two orders of magnitude apart: a busy machine cannot blur them).
    let t = transport(
        Options::default().timeout(Duration::from_secs(60)).connect_timeout(Duration::from_millis(300)),
    );
    let started = Instant::now();
    let e = t.execute(get(&format!("http://{addr}/"))).await.expect_err("cannot connect");
    let elapsed = started.elapsed();
    assert_eq!(kind(&e), Some(TransportErrorKind::Timeout), "{e}");
    assert!(elapsed >= Duration::from_millis(300), "gave up early: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(30), "the connect timeout did not apply: {elapsed:?}");
    assert!(e.is_retryable());
}

#[tokio::test]
async fn a_garbage_answer_is_other() {
    let (addr, _s) = serve_raw(b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec()).await;
    let e = transport(one_second()).execute(get(&format!("http://{addr}/"))).await.expect_err("not HTTP");
    assert_eq!(kind(&e), Some(TransportErrorKind::Other), "{e}");
}

#[tokio::test]
async fn a_deadline_of_duration_max_does_not_overflow() {
    let (addr, server) = serve_raw(json_ok(TOKEN_BODY)).await;
    let options =
        Options::default().timeout(Duration::MAX).connect_timeout(Duration::MAX).proxy_from_env(false);
    let response = transport(options).execute(get(&format!("http://{addr}/x"))).await.expect("an answer");
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), TOKEN_BODY.as_bytes());
    assert!(server.await.expect("server task").is_some());
}
