//! Both `TokenManager`s on the Redis store, against the real provider: 200 threads (blocking)
//! and 200 tasks (async) of one process share one refresh, and managers in several
//! processes' stead (each with its own store, so its own connection and lease holder id)
//! share one refresh per round.
#![cfg(feature = "redis")]

use std::sync::Barrier;

use oidc_refresh::store::{RedisStore, TokenStore};
use oidc_refresh::{ClientConfig, IdToken, RefreshToken, TokenSet};
use oidc_refresh_testing::provider::{Provider, field};
use oidc_refresh_testing::redis::RedisServer;

const KEY: &str = "{fleet}:public-client";

fn client_of(p: &Provider) -> ClientConfig {
    ClientConfig::new(&p.token_endpoint(), "public-client")
        .expect("the provider's endpoint")
        .with_issuer(p.issuer.clone())
}

/// A Redis server holding a fresh login's tokens at [`KEY`].
fn signed_in(p: &Provider) -> RedisServer {
    let server = RedisServer::start();
    let login = p.login("public-client", None);
    let mut set = TokenSet::from_refresh_token(RefreshToken::new(field(&login, "refresh_token")));
    set.id_token = Some(IdToken::new(field(&login, "id_token")));
    RedisStore::open(&server.url(), KEY).expect("the server's URL").init(&set).expect("stored");
    server
}

#[cfg(feature = "ureq")]
#[test]
fn the_blocking_manager_on_redis_refreshes_once_for_200_threads_and_once_per_round_for_4_stores() {
    use oidc_refresh::ureq::{Options, TokenManager, Transport};

    let p = Provider::start();
    let server = signed_in(&p);
    let (grants, errors) = p.stats();
    let store = RedisStore::open(&server.url(), KEY).unwrap();
    let manager = TokenManager::new(Transport::new(Options::default()).unwrap(), client_of(&p), store);
    let barrier = Barrier::new(200);
    let tokens: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..200)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    manager.access_token().expect("a token").expose_secret().to_owned()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("no thread panicked")).collect()
    });
    assert!(tokens.windows(2).all(|w| w[0] == w[1]), "one token for all");
    assert_eq!(p.stats(), (grants + 1, errors), "one refresh for 200 threads");

    // Four managers, each on its own store (as four processes would be), forced to refresh
    // at once: the lease makes it one refresh, the others adopt it.
    for round in 0..3 {
        let (grants, errors) = p.stats();
        let managers: Vec<_> = (0..4)
            .map(|_| {
                let store = RedisStore::open(&server.url(), KEY).unwrap();
                TokenManager::new(Transport::new(Options::default()).unwrap(), client_of(&p), store)
            })
            .collect();
        // Each manager reads the stored set, then the set is made expired for all of them.
        for m in &managers {
            m.access_token().unwrap();
        }
        let store = RedisStore::open(&server.url(), KEY).unwrap();
        let mut set = store.load().unwrap().unwrap();
        let old = set.access_token.clone().unwrap();
        set.expires_at = Some(0);
        store.init(&set).unwrap();
        for m in &managers {
            m.invalidate(&old);
        }
        let barrier = Barrier::new(4);
        let tokens: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = managers
                .iter()
                .map(|m| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        m.access_token().unwrap().expose_secret().to_owned()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(tokens.windows(2).all(|w| w[0] == w[1]), "round {round}: one token for all");
        assert_eq!(p.stats(), (grants + 1, errors), "round {round}: one refresh, no replay");
    }
}

#[cfg(feature = "hyper")]
#[test]
fn the_async_manager_on_redis_refreshes_once_for_200_tasks() {
    use oidc_refresh::hyper::{Options, TokenManager, Transport};

    let p = Provider::start();
    let server = signed_in(&p);
    let (grants, errors) = p.stats();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    let tokens = runtime.block_on(async {
        let store = RedisStore::open(&server.url(), KEY).unwrap();
        let manager = TokenManager::new(Transport::new(Options::default()).unwrap(), client_of(&p), store);
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let manager = manager.clone();
                tokio::spawn(async move { manager.access_token().await.unwrap().expose_secret().to_owned() })
            })
            .collect();
        let mut tokens = Vec::new();
        for task in tasks {
            tokens.push(task.await.unwrap());
        }
        tokens
    });
    assert_eq!(tokens.len(), 200);
    assert!(tokens.windows(2).all(|w| w[0] == w[1]), "one token for all");
    assert_eq!(p.stats(), (grants + 1, errors), "one refresh for 200 tasks");
}
