//! TLS for real: a tokio-rustls server with an rcgen certificate for `localhost` and
//! `127.0.0.1`, issued by a test certificate authority.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{ACCEPT_WINDOW, Captured, TOKEN_BODY, json_ok, kind, listener, read_request};
use oidc_refresh_core::{ClientConfig, RefreshParams, RefreshToken, TransportErrorKind};
use oidc_refresh_hyper::{Options, Transport};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::AsyncWriteExt;
use tokio::task::JoinHandle;

/// A test CA and a server configuration whose certificate it issued.
struct Pki {
    ca_der: Vec<u8>,
    server: Arc<rustls::ServerConfig>,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key")).expect("CA");

    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("leaf params")
        .signed_by(&leaf_key, &ca)
        .expect("leaf");

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), CertificateDer::from(ca.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .expect("server config");
    Pki { ca_der: ca.der().to_vec(), server: Arc::new(server) }
}

/// A TLS server for one connection: handshake, read the request, answer `response`.
/// The handle yields the request, or `None` when the handshake failed (no request line).
async fn tls_server(
    config: Arc<rustls::ServerConfig>,
    response: Vec<u8>,
) -> (SocketAddr, JoinHandle<Option<Captured>>) {
    let (listener, addr) = listener().await;
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let handle = tokio::spawn(async move {
        let (tcp, _) = tokio::time::timeout(ACCEPT_WINDOW, listener.accept()).await.ok()?.ok()?;
        let mut tls = tokio::time::timeout(ACCEPT_WINDOW, acceptor.accept(tcp)).await.ok()?.ok()?;
        let got = tokio::time::timeout(ACCEPT_WINDOW, read_request(&mut tls)).await.ok()?.ok()?;
        let _ = tls.write_all(&response).await;
        let _ = tls.shutdown().await;
        Some(got)
    });
    (addr, handle)
}

fn options() -> Options {
    Options::default().timeout(Duration::from_secs(5)).connect_timeout(Duration::from_secs(2))
}

#[tokio::test]
async fn a_trusted_root_certificate_makes_tls_work() {
    let pki = pki();
    let transport =
        Transport::new(options().add_root_certificate_der(pki.ca_der.clone())).expect("transport");
    for host in ["127.0.0.1", "localhost"] {
        let (addr, server) = tls_server(pki.server.clone(), json_ok(TOKEN_BODY)).await;
        let client = ClientConfig::new(&format!("https://{host}:{}/oauth/token", addr.port()), "my-app")
            .expect("endpoint");
        let rt = RefreshToken::new("rt-1");
        let result = transport.refresh_tokens(&client, &RefreshParams::new(&rt)).await;
        // `localhost` may resolve to ::1 first; the connector falls back to 127.0.0.1.
        let result = result.unwrap_or_else(|e| panic!("{host}: {e}"));
        assert_eq!(result.access_token().expose_secret(), "at-2");
        let got = server.await.expect("server task").expect("request over TLS");
        assert_eq!(got.request_line(), "POST /oauth/token HTTP/1.1");
        assert_eq!(got.body, b"grant_type=refresh_token&refresh_token=rt-1&client_id=my-app");
    }
}

#[tokio::test]
async fn an_untrusted_certificate_is_tls_and_nothing_is_sent() {
    let pki = pki();
    // Mozilla's roots only: the test CA is unknown.
    let transport = Transport::new(options()).expect("transport");
    let (addr, server) = tls_server(pki.server.clone(), json_ok(TOKEN_BODY)).await;
    let client = ClientConfig::new(&format!("https://127.0.0.1:{}/oauth/token", addr.port()), "my-app")
        .expect("endpoint");
    let rt = RefreshToken::new("rt-1");
    let e = transport.refresh_tokens(&client, &RefreshParams::new(&rt)).await.expect_err("untrusted");
    assert_eq!(kind(&e), Some(TransportErrorKind::Tls), "{e}");
    assert!(!e.is_retryable());
    assert!(server.await.expect("server task").is_none(), "the server received an HTTP request");
}

#[tokio::test]
async fn a_certificate_for_another_name_is_tls() {
    let pki = pki();
    let transport =
        Transport::new(options().add_root_certificate_der(pki.ca_der.clone())).expect("transport");
    let (addr, server) = tls_server(pki.server.clone(), json_ok(TOKEN_BODY)).await;
    let request = http::Request::get(format!("https://127.0.0.1:{}/", addr.port()))
        .header("host", "other.example")
        .body(Vec::new())
        .expect("request");
    // The name checked is the URL's host, not a Host header: this one passes.
    let ok = transport.execute(request).await.expect("the URL's host is checked");
    assert_eq!(ok.status(), 200);
    assert!(server.await.expect("server task").is_some());

    let pki_other = {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("CA");
        let key = KeyPair::generate().expect("key");
        let leaf = CertificateParams::new(vec!["id.example".to_owned()])
            .expect("params")
            .signed_by(&key, &ca)
            .expect("leaf");
        let server =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_no_client_auth()
                .with_single_cert(vec![leaf.der().clone()], PrivateKeyDer::Pkcs8(key.serialize_der().into()))
                .expect("config");
        (ca.der().to_vec(), Arc::new(server))
    };
    let transport = Transport::new(options().add_root_certificate_der(pki_other.0)).expect("transport");
    let (addr, server) = tls_server(pki_other.1, json_ok(TOKEN_BODY)).await;
    let e = transport
        .execute(
            http::Request::get(format!("https://127.0.0.1:{}/", addr.port())).body(Vec::new()).expect("req"),
        )
        .await
        .expect_err("wrong name");
    assert_eq!(kind(&e), Some(TransportErrorKind::Tls), "{e}");
    assert!(server.await.expect("server task").is_none());
}
