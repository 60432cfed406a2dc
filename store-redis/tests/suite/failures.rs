//! Failures typed by who can fix them, and what the store leaves behind: a malformed value
//! or one of another type is left untouched; Redis down, restarted, or refusing.

use oidc_refresh_driver::store::{StoreGuard, TokenStore};
use oidc_refresh_redis::{RedisStore, RedisStoreErrorKind};
use oidc_refresh_testing::redis::RedisServer;
use oidc_refresh_testing::servers::closed_port;

use crate::common::{KEY, set, store};

#[test]
fn a_malformed_value_is_an_error_that_leaves_it_untouched_and_never_shows_it() {
    let server = RedisServer::start();
    let store = store(&server);
    for value in [&b"not json"[..], b"{\"expires_at\":\"secret-token-value\"}", b""] {
        server.set(KEY, value);
        let e = store.load().unwrap_err();
        assert_eq!(e.kind(), RedisStoreErrorKind::Malformed, "{e}");
        assert!(!e.to_string().contains("secret-token-value"), "{e}");
        let e = store.lock().unwrap().load().unwrap_err();
        assert_eq!(e.kind(), RedisStoreErrorKind::Malformed, "{e}");
        assert_eq!(server.get(KEY).as_deref(), Some(value), "untouched");
    }
}

#[test]
fn a_value_of_another_type_is_a_refusal_and_left_untouched() {
    let server = RedisServer::start();
    server.command(&["LPUSH", KEY, "x"]);
    let e = store(&server).load().unwrap_err();
    assert_eq!(e.kind(), RedisStoreErrorKind::Refused, "{e}");
    assert!(e.to_string().contains("WRONGTYPE"), "{e}");
    assert_eq!(server.command(&["TYPE", KEY]).as_text(), Some("list"));
}

#[test]
fn a_wrong_or_missing_password_is_a_refusal_that_never_shows_the_password() {
    let server = RedisServer::builder().password("s3cret-pw").start();
    let wrong = server.url().replace("s3cret-pw", "wrong-pw");
    let e = RedisStore::open(&wrong, KEY).unwrap().load().unwrap_err();
    assert_eq!(e.kind(), RedisStoreErrorKind::Refused, "{e}");
    let none = format!("redis://127.0.0.1:{}/", server.port());
    let e = RedisStore::open(&none, KEY).unwrap().load().unwrap_err();
    assert_eq!(e.kind(), RedisStoreErrorKind::Refused, "{e}");
    let right = RedisStore::open(&server.url(), KEY).unwrap();
    right.init(&set("rt-1", None, None)).unwrap();
    let shown = format!("{right:?} {e} {e:?}");
    assert!(!shown.contains("s3cret-pw") && !shown.contains("wrong-pw"), "{shown}");
}

#[test]
fn redis_down_is_unavailable_and_a_restart_is_survived() {
    let down = RedisStore::open(&format!("redis://127.0.0.1:{}/", closed_port()), KEY).unwrap();
    let e = down.load().unwrap_err();
    assert_eq!(e.kind(), RedisStoreErrorKind::Unavailable, "{e}");
    let e = down.lock().map(drop).unwrap_err();
    assert_eq!(e.kind(), RedisStoreErrorKind::Unavailable, "{e}");

    let mut server = RedisServer::start();
    let store = store(&server);
    store.init(&set("rt-1", None, None)).unwrap();
    // The connection the store reuses dies with the server; the next command makes another.
    server.restart();
    assert_eq!(store.load().unwrap(), Some(set("rt-1", None, None)), "AOF kept it; reconnected");
    server.stop();
    let e = store.load().unwrap_err();
    assert_eq!(e.kind(), RedisStoreErrorKind::Unavailable, "{e}");
    server.restart();
    store.init(&set("rt-2", None, None)).unwrap();
    assert_eq!(store.load().unwrap(), Some(set("rt-2", None, None)));
}

#[test]
fn an_unusable_url_is_invalid() {
    for url in ["http://127.0.0.1:6379/", "redis://", "not a url"] {
        let e = RedisStore::open(url, KEY).unwrap_err();
        assert_eq!(e.kind(), RedisStoreErrorKind::InvalidUrl, "{url}: {e}");
    }
}

#[test]
fn a_value_that_is_json_but_not_an_object_is_malformed_and_never_read_by_position() {
    let server = RedisServer::start();
    let store = store(&server);
    let six = r#"["rt-secret","at-secret","Bearer","openid",null,99999999999]"#;
    for value in [r#"["rt-secret"]"#, six, r#""rt-secret""#, "12345"] {
        server.set(KEY, value);
        let e = store.load().unwrap_err();
        assert_eq!(e.kind(), RedisStoreErrorKind::Malformed, "{e}");
        assert!(e.to_string().contains("not a JSON object"), "{e}");
        assert!(!e.to_string().contains("secret") && !e.to_string().contains("12345"), "{e}");
        let e = store.lock().unwrap().load().unwrap_err();
        assert_eq!(e.kind(), RedisStoreErrorKind::Malformed, "{e}");
        assert_eq!(server.get(KEY).as_deref(), Some(value.as_bytes()), "untouched");
    }
}
