//! The async store, on tokio: the same lease and compare-and-set, and many tasks with their
//! own stores sharing one grant: one refresh.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use oidc_refresh_core::http::{Request, Response};
use oidc_refresh_core::{ClientConfig, Error, Session};
use oidc_refresh_driver::SystemClock;
use oidc_refresh_driver::asynchronous::{AsyncDrive, AsyncExchange};
use oidc_refresh_driver::store::{AsyncStoreGuard, AsyncTokenStore, Saved, TokenStore, to_store_json};
use oidc_refresh_redis::{RedisStore, RedisStoreErrorKind};
use oidc_refresh_testing::redis::RedisServer;

use crate::common::{KEY, set, store};
use crate::drive::SingleUse;

struct AsyncSingleUse(Arc<SingleUse>);

impl AsyncExchange for AsyncSingleUse {
    async fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
        Ok(self.0.answer(request))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_async_store_leases_and_compares_like_the_blocking_one() {
    let server = RedisServer::start();
    let store = store(&server);
    assert_eq!(AsyncTokenStore::load(&store).await.unwrap(), None);
    let mut guard = AsyncTokenStore::lock(&store).await.unwrap();
    assert_eq!(guard.load().await.unwrap(), None);
    guard.save(&set("rt-1", None, None)).await.unwrap();
    assert!(guard.confirm().await.unwrap());
    server.set(&format!("{KEY}:lease"), "another-holder");
    assert!(!guard.confirm().await.unwrap());
    server.set(KEY, to_store_json(&set("rt-theirs", None, None)));
    assert_eq!(guard.save_if_unchanged(&set("rt-ours", None, None)).await.unwrap(), Saved::Superseded);
    assert_eq!(TokenStore::load(&store).unwrap(), Some(set("rt-theirs", None, None)));
    drop(guard);
    server.del(&format!("{KEY}:lease"));
    let mut guard = AsyncTokenStore::lock(&store).await.unwrap();
    guard.load().await.unwrap();
    assert_eq!(guard.save_if_unchanged(&set("rt-ours", None, None)).await.unwrap(), Saved::Written);
    drop(guard);
    // The dropped guard's lease is given back by a task.
    for _ in 0..100 {
        if server.get(&format!("{KEY}:lease")).is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(server.keys("*"), [KEY]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_async_clear_deletes_under_the_lease_and_refuses_once_it_lapsed() {
    let server = RedisServer::start();
    let store = store(&server);
    let lease_key = format!("{KEY}:lease");
    TokenStore::init(&store, &set("rt-1", None, None)).unwrap();
    let mut guard = AsyncTokenStore::lock(&store).await.unwrap();
    assert!(guard.load().await.unwrap().is_some());
    guard.clear().await.unwrap();
    assert_eq!(server.get(KEY), None);
    guard.clear().await.unwrap();
    drop(guard);
    TokenStore::init(&store, &set("rt-2", None, None)).unwrap();
    AsyncTokenStore::clear(&store).await.unwrap();
    assert_eq!(server.get(KEY), None);

    // Lapsed, and another holder stored a newer set: refused, the newer set kept.
    TokenStore::init(&store, &set("rt-3", None, None)).unwrap();
    let mut guard = AsyncTokenStore::lock(&store).await.unwrap();
    guard.load().await.unwrap();
    server.set(&lease_key, "another-holder");
    let newer = to_store_json(&set("rt-theirs", None, None));
    server.set(KEY, &newer);
    let e = guard.clear().await.unwrap_err();
    assert_eq!(e.kind(), RedisStoreErrorKind::LeaseLost, "{e}");
    assert_eq!(server.get(KEY), Some(newer));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_with_their_own_stores_refresh_once() {
    let server = RedisServer::start();
    let url = server.url();
    TokenStore::init(&RedisStore::open(&url, KEY).unwrap(), &set("rt-0", Some("at-0"), Some(1))).unwrap();
    let provider = Arc::new(SingleUse::default());
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (url, provider) = (url.clone(), Arc::clone(&provider));
            tokio::spawn(async move {
                let store = RedisStore::open(&url, KEY).unwrap();
                let exchange = AsyncSingleUse(provider);
                let mut session = Session::new(ClientConfig::new("https://id.example/token", "app").unwrap());
                let ready = AsyncDrive::new(&exchange, &store, &SystemClock).run(&mut session).await.unwrap();
                ready.access_token.expose_secret().to_owned()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), "at-1");
    }
    assert_eq!(provider.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(provider.replays.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_async_store_keeps_members_of_another_tool_through_a_refresh() {
    let server = RedisServer::start();
    server.set(KEY, r#"{"refresh_token":"rt-0","x-other-tool":{"a":1}}"#);
    let store = store(&server);
    let exchange = AsyncSingleUse(Arc::new(SingleUse::default()));
    let mut session = Session::new(ClientConfig::new("https://id.example/token", "app").unwrap());
    let ready = AsyncDrive::new(&exchange, &store, &SystemClock).run(&mut session).await.unwrap();
    assert_eq!(ready.access_token.expose_secret(), "at-1");
    let stored = String::from_utf8(server.get(KEY).expect("stored")).unwrap();
    assert!(stored.contains("\"refresh_token\": \"rt-1\""), "{stored}");
    assert!(stored.contains("\"x-other-tool\": {\n    \"a\": 1\n  }"), "{stored}");
}
