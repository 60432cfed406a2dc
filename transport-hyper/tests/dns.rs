//! A name that cannot resolve is a connect failure, retryable, as in every transport; and the
//! error names its cause once: in its message, never again as a `source`.

use std::time::Duration;

use oidc_refresh_core::{Error, TransportErrorKind};
use oidc_refresh_hyper::{Options, Transport};

/// `.invalid` never resolves (RFC 6761 §6.4): with a network, the resolver says no such
/// name; without one, it fails to ask. Either way a resolver failure, never a connection.
const UNRESOLVABLE: &str = "https://does-not-exist.invalid/token";

#[tokio::test]
async fn a_name_that_does_not_resolve_is_a_retryable_connect_failure_named_once() {
    let options = Options::default().proxy_from_env(false).timeout(Duration::from_secs(20));
    let transport = Transport::new(options).expect("transport");
    let request =
        http::Request::post(UNRESOLVABLE).body(b"grant_type=refresh_token".to_vec()).expect("request");
    let e = transport.execute(request).await.expect_err("no such host");
    let Error::Transport(t) = &e else { panic!("a transport error: {e:?}") };
    assert_eq!(t.kind(), TransportErrorKind::Connect, "{e}");
    assert!(t.kind().is_retryable());
    let message = e.to_string();
    // The cause is in the message, down to the resolver's own words, not hidden behind
    // hyper's "client error (Connect)".
    assert!(message.starts_with("transport error: could not connect: "), "{message}");
    assert!(message.contains("dns error"), "{message}");
    assert!(t.cause().is_some(), "the client's error stays at hand");
    assert!(std::error::Error::source(&e).is_none(), "named once: {message}");
}
