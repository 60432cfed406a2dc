//! A name that cannot resolve is a connect failure, retryable, as in every transport; and the
//! error names its cause once: in its message, never again as a `source`.

use std::time::Duration;

use oidc_refresh_core::http::Request;
use oidc_refresh_core::{Error, TransportErrorKind};
use oidc_refresh_ureq::{Options, Transport};

/// `.invalid` never resolves (RFC 6761 §6.4): with a network, the resolver says no such
/// name; without one, it fails to ask. Either way a resolver failure, never a connection.
const UNRESOLVABLE: &str = "https://does-not-exist.invalid/token";

#[test]
fn a_name_that_does_not_resolve_is_a_retryable_connect_failure_named_once() {
    let options = Options::default().proxy_from_env(false).timeout(Duration::from_secs(20));
    let transport = Transport::new(options).expect("transport");
    let request = Request::post(UNRESOLVABLE).body(b"grant_type=refresh_token".to_vec()).expect("request");
    let e = transport.execute(request).expect_err("no such host");
    let Error::Transport(t) = &e else { panic!("a transport error: {e:?}") };
    assert_eq!(t.kind(), TransportErrorKind::Connect, "{e}");
    assert!(t.kind().is_retryable());
    let message = e.to_string();
    assert!(message.contains("could not connect") && message.contains("does-not-exist.invalid"), "{message}");
    assert!(t.cause().is_some(), "the client's error stays at hand");
    // The chain names each cause once: no `source` repeats what the message says.
    let mut chain = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = cur {
        chain.push(err.to_string());
        cur = err.source();
    }
    for pair in chain.windows(2) {
        assert!(!pair[0].contains(&pair[1]), "a cause shown twice: {chain:?}");
    }
}
