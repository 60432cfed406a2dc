//! Both managers' `revoke` with a scripted provider: the stored refresh token is revoked
//! and the store cleared, after which every caller is told to sign in again; a failed
//! revocation leaves the store and the session as they were; an empty store has nothing to
//! revoke.

use std::sync::Mutex;

use oidc_refresh_core::http::{Request, Response};
use oidc_refresh_core::{ClientConfig, ConfigError, Error, RefreshToken, TokenSet};
use oidc_refresh_driver::blocking::{Exchange, TokenManager};
use oidc_refresh_driver::store::{MemoryStore, TokenStore};

const REVOKE: &str = "https://id.example/revoke";

/// A provider that answers token requests with a rotated set and revocation requests with
/// `revocation` (status, body), recording every request's path and body.
struct Scripted {
    revocation: (u16, &'static str),
    seen: Mutex<Vec<(String, String)>>,
}

impl Scripted {
    fn new(revocation: (u16, &'static str)) -> Self {
        Self { revocation, seen: Mutex::new(Vec::new()) }
    }

    fn answer(&self, request: Request<Vec<u8>>) -> Response<Vec<u8>> {
        let path = request.uri().path().to_owned();
        let body = String::from_utf8(request.into_body()).expect("a form body");
        self.seen.lock().expect("not poisoned").push((path.clone(), body));
        let (status, body) = match path.as_str() {
            "/token" => (
                200,
                r#"{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}"#,
            ),
            "/revoke" => self.revocation,
            other => panic!("unexpected request to {other}"),
        };
        Response::builder().status(status).body(body.as_bytes().to_vec()).expect("a response")
    }

    fn seen(&self) -> Vec<(String, String)> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

impl Exchange for Scripted {
    fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
        Ok(self.answer(request))
    }
}

fn client() -> ClientConfig {
    ClientConfig::new("https://id.example/token", "app").expect("a valid endpoint")
}

fn store() -> MemoryStore {
    MemoryStore::from_refresh_token(RefreshToken::new("rt-1"))
}

fn reauth(outcome: Result<impl std::fmt::Debug, Error>) {
    match outcome {
        Err(e) => {
            assert!(e.is_reauth_required(), "{e:?}");
            assert!(matches!(e, Error::Config(ConfigError::NoTokens)), "{e:?}");
        }
        Ok(v) => panic!("signed out, yet: {v:?}"),
    }
}

#[test]
fn revoke_revokes_the_stored_refresh_token_clears_the_store_and_signs_the_session_out() {
    let manager = TokenManager::new(Scripted::new((200, "")), client(), store());
    assert_eq!(manager.access_token().unwrap().expose_secret(), "at-2");
    manager.revoke(REVOKE).unwrap();
    let seen = manager.exchange().seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    // The stored (rotated) refresh token is the one revoked.
    assert_eq!(seen[1], ("/revoke".into(), "token=rt-2&token_type_hint=refresh_token&client_id=app".into()));
    assert_eq!(TokenStore::load(manager.store()), Ok(None));
    // The fresh token is gone too: no caller gets it, nothing is sent.
    reauth(manager.access_token());
    reauth(manager.force_refresh());
    assert_eq!(manager.exchange().seen().len(), 2);
    // A new sign-in written to the store is picked up.
    TokenStore::init(manager.store(), &TokenSet::from_refresh_token(RefreshToken::new("rt-9"))).unwrap();
    assert_eq!(manager.access_token().unwrap().expose_secret(), "at-2");
}

#[test]
fn a_failed_revocation_leaves_the_store_and_the_session_as_they_were() {
    for (answer, retryable) in
        [((400, r#"{"error":"invalid_client"}"#), false), ((503, "<html>down</html>"), true)]
    {
        let manager = TokenManager::new(Scripted::new(answer), client(), store());
        let token = manager.access_token().unwrap();
        let e = manager.revoke(REVOKE).unwrap_err();
        assert_eq!(e.is_retryable(), retryable, "{e:?}");
        assert!(!e.is_reauth_required(), "{e:?}");
        let stored = TokenStore::load(manager.store()).unwrap().expect("still stored");
        assert_eq!(stored.refresh_token, RefreshToken::new("rt-2"));
        // The same token, without a request.
        assert_eq!(manager.access_token().unwrap(), token);
        assert_eq!(manager.exchange().seen().len(), 2);
    }
}

#[test]
fn an_unusable_endpoint_sends_nothing_and_changes_nothing() {
    let manager = TokenManager::new(Scripted::new((200, "")), client(), store());
    let e = manager.revoke("http://id.example/revoke").unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    assert!(manager.exchange().seen().is_empty());
    assert!(TokenStore::load(manager.store()).unwrap().is_some());
}

#[test]
fn an_empty_store_has_nothing_to_revoke() {
    let manager = TokenManager::new(Scripted::new((200, "")), client(), MemoryStore::new());
    manager.revoke(REVOKE).unwrap();
    assert!(manager.exchange().seen().is_empty());
    reauth(manager.access_token());
}

#[cfg(feature = "tokio")]
mod asynchronous {
    use std::sync::Arc;

    use oidc_refresh_core::http::{Request, Response};
    use oidc_refresh_core::{Error, RefreshToken};
    use oidc_refresh_driver::asynchronous::{AsyncExchange, TokenManager};
    use oidc_refresh_driver::store::{AsyncTokenStore, MemoryStore};

    use super::{REVOKE, Scripted, client, reauth, store};

    struct AsyncScripted(Arc<Scripted>);

    impl AsyncExchange for AsyncScripted {
        async fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
            Ok(self.0.answer(request))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_async_manager_revokes_and_signs_out_or_changes_nothing() {
        let ok = Arc::new(Scripted::new((200, "ignored")));
        let manager = TokenManager::new(AsyncScripted(Arc::clone(&ok)), client(), store());
        assert_eq!(manager.access_token().await.unwrap().expose_secret(), "at-2");
        manager.revoke(REVOKE).await.unwrap();
        assert_eq!(ok.seen()[1].1, "token=rt-2&token_type_hint=refresh_token&client_id=app");
        assert_eq!(AsyncTokenStore::load(manager.store()).await, Ok(None));
        reauth(manager.access_token().await);
        assert_eq!(ok.seen().len(), 2);

        let refused = Arc::new(Scripted::new((400, r#"{"error":"unsupported_token_type"}"#)));
        let manager = TokenManager::new(AsyncScripted(Arc::clone(&refused)), client(), store());
        let token = manager.access_token().await.unwrap();
        let e = manager.revoke(REVOKE).await.unwrap_err();
        assert_eq!(e.oauth_error_code(), Some("unsupported_token_type"));
        let stored = AsyncTokenStore::load(manager.store()).await.unwrap().expect("still stored");
        assert_eq!(stored.refresh_token, RefreshToken::new("rt-2"));
        assert_eq!(manager.access_token().await.unwrap(), token);

        let empty = Arc::new(Scripted::new((200, "")));
        let manager = TokenManager::new(AsyncScripted(Arc::clone(&empty)), client(), MemoryStore::new());
        manager.revoke(REVOKE).await.unwrap();
        assert!(empty.seen().is_empty());
    }
}
