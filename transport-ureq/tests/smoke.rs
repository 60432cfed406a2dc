//! Smoke tests of the ureq transport that need no server. The network behaviour is covered
//! for every transport by the root package's `tests/integration/transport_matrix.rs`.

use oidc_refresh_core::http::{Method, Request};
use oidc_refresh_core::{ClientConfig, ConfigError, Error, Fault, RefreshParams, RefreshToken};
use oidc_refresh_ureq::{Options, Transport};

#[test]
fn an_unparsable_root_certificate_is_refused_up_front() {
    for der in [Vec::new(), b"-----BEGIN CERTIFICATE-----".to_vec(), vec![0x30, 0x03, 0x02, 0x01, 0x00]] {
        let e = match Transport::new(Options::default().add_root_certificate_der(der)) {
            Ok(t) => panic!("accepted: {t:?}"),
            Err(e) => e,
        };
        assert!(matches!(&e, Error::Config(ConfigError::InvalidRootCertificate { index: 1 })), "{e}");
        assert_eq!(e.fault(), Fault::Caller);
        assert!(e.to_string().contains("root certificate #1"), "{e}");
    }
}

#[test]
fn a_real_root_certificate_is_accepted_beside_mozillas() {
    let der = webpki_root_certs::TLS_SERVER_ROOT_CERTS[0].to_vec();
    let t = Transport::new(Options::default().add_root_certificate_der(der).proxy_from_env(false));
    assert!(t.is_ok(), "{:?}", t.err());
}

#[test]
fn debug_shows_settings_not_certificates() {
    let der = webpki_root_certs::TLS_SERVER_ROOT_CERTS[0].to_vec();
    let t = Transport::new(Options::default().add_root_certificate_der(der).proxy_from_env(false))
        .expect("transport");
    let shown = format!("{t:?}");
    assert!(shown.contains("extra_root_certificates: 1"), "{shown}");
    assert!(shown.contains("proxy: None"), "{shown}");
    assert!(shown.len() < 400, "{shown}");
    let cloned = t.clone();
    assert_eq!(cloned.options().get_max_body(), 1_048_576);
}

#[test]
fn plain_http_off_loopback_is_refused_without_sending() {
    let t = Transport::new(Options::default().proxy_from_env(false)).expect("transport");
    for url in ["http://example.invalid/token", "http://10.0.0.1/token", "ftp://127.0.0.1/x"] {
        let request = Request::builder().method(Method::POST).uri(url).body(b"x".to_vec()).expect("request");
        let e = match t.execute(request) {
            Ok(r) => panic!("{url}: sent, got {}", r.status()),
            Err(e) => e,
        };
        assert_eq!(e.fault(), Fault::Caller, "{url}: {e}");
    }
    let request = Request::get("http://example.invalid/").body(Vec::new()).expect("request");
    assert!(matches!(t.execute(request), Err(Error::Config(ConfigError::InsecureUrl))));
}

#[test]
fn a_bad_refresh_token_is_refused_before_anything_is_sent() {
    // Port 9 on loopback: had anything been sent, this would be a transport error.
    let client = ClientConfig::new("http://127.0.0.1:9/token", "app").expect("client");
    let token = RefreshToken::new("line\nbreak");
    let e = match oidc_refresh_ureq::refresh_tokens(&client, &RefreshParams::new(&token)) {
        Ok(_) => panic!("refreshed with a malformed token"),
        Err(e) => e,
    };
    assert!(matches!(e, Error::Config(ConfigError::InvalidRefreshToken { .. })), "{e}");
}
