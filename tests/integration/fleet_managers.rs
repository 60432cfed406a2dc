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

/// A holder frozen after it read the store and before it sent (its lease lapsed meanwhile,
/// and another holder refreshed) checks its lease before sending: it reads the store again
/// and adopts the other holder's set, so the spent refresh token is never replayed and the
/// grant, with a provider that revokes it on any replay, lives on.
#[cfg(feature = "ureq")]
#[test]
fn a_holder_frozen_before_it_sends_past_its_lease_never_replays_the_spent_token() {
    use std::sync::mpsc;

    use oidc_refresh::blocking::Drive;
    use oidc_refresh::ureq::{Options, Transport};
    use oidc_refresh::{Session, SystemClock, Via};

    let p = Provider::start();
    let server = signed_in(&p);
    let (grants, errors) = p.stats();
    let (frozen_tx, frozen_rx) = mpsc::channel::<()>();
    let (thaw_tx, thaw_rx) = mpsc::channel::<()>();
    let url = server.url();
    let client = client_of(&p);
    let frozen = std::thread::spawn(move || {
        let store = RedisStore::open(&url, KEY).unwrap();
        let transport = Transport::new(Options::default()).unwrap();
        let mut first = true;
        // The freeze, placed deterministically: right before the first request is sent.
        let thaw_rx = std::sync::Mutex::new(thaw_rx);
        let mut hook = |_: &mut Session| {
            if std::mem::take(&mut first) {
                frozen_tx.send(()).unwrap();
                thaw_rx.lock().unwrap().recv().unwrap();
            }
            Ok(true)
        };
        let mut session = Session::new(client);
        Drive::new(&transport, &store, &SystemClock).before_send(&mut hook).run(&mut session)
    });
    frozen_rx.recv().unwrap();
    // Its lease lapses while it is frozen, and another holder refreshes.
    server.del(&format!("{KEY}:lease"));
    let other = RedisStore::open(&server.url(), KEY).unwrap();
    let transport = Transport::new(Options::default()).unwrap();
    let mut session = Session::new(client_of(&p));
    let theirs = Drive::new(&transport, &other, &SystemClock).run(&mut session).unwrap();
    assert_eq!(theirs.via, Via::Refreshed);
    assert_eq!(p.stats(), (grants + 1, errors));
    // Thawed, the frozen holder finds its lease gone, reads again and adopts the new set.
    thaw_tx.send(()).unwrap();
    let ready = frozen.join().unwrap().expect("the frozen holder gets a token");
    assert_eq!(ready.access_token, theirs.access_token, "it adopted the other holder's set");
    assert_eq!(ready.via, Via::Adopted);
    assert_eq!(p.stats(), (grants + 1, errors), "no replay: the grant lives");
    assert_eq!(server.keys("*"), [KEY]);
}

/// A holder frozen after the provider answered and before it wrote (its lease lapsed, and a
/// new sign-in was stored meanwhile): thawed, its compare-and-set write is refused, the newer
/// set is adopted and handed out, and the refreshed set it held is reported, never written.
#[cfg(feature = "ureq")]
#[test]
fn a_holder_frozen_between_its_send_and_its_write_never_writes_over_a_newer_set() {
    use std::sync::{Mutex, mpsc};

    use oidc_refresh::blocking::{Drive, Exchange};
    use oidc_refresh::http::{Request, Response};
    use oidc_refresh::ureq::{Options, Transport};
    use oidc_refresh::{Error, Session, SystemClock};

    /// The transport, frozen once an answer has come back.
    struct FreezeAfter {
        transport: Transport,
        frozen: mpsc::Sender<()>,
        thaw: Mutex<mpsc::Receiver<()>>,
    }
    impl Exchange for FreezeAfter {
        fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
            let answer = self.transport.execute(request);
            self.frozen.send(()).unwrap();
            self.thaw.lock().unwrap().recv().unwrap();
            answer
        }
    }

    let p = Provider::start();
    let server = signed_in(&p);
    let (frozen_tx, frozen_rx) = mpsc::channel();
    let (thaw_tx, thaw_rx) = mpsc::channel();
    let url = server.url();
    let client = client_of(&p);
    let holder = std::thread::spawn(move || {
        let store = RedisStore::open(&url, KEY).unwrap();
        let exchange = FreezeAfter {
            transport: Transport::new(Options::default()).unwrap(),
            frozen: frozen_tx,
            thaw: Mutex::new(thaw_rx),
        };
        Drive::new(&exchange, &store, &SystemClock).run(&mut Session::new(client))
    });
    frozen_rx.recv().unwrap();
    // Frozen with the provider's answer in hand: its lease lapses, and a new sign-in is
    // stored by another process.
    server.del(&format!("{KEY}:lease"));
    let login = p.login("public-client", None);
    let mut newer = TokenSet::from_refresh_token(RefreshToken::new(field(&login, "refresh_token")));
    newer.access_token = Some(oidc_refresh::AccessToken::new(field(&login, "access_token")));
    newer.token_type = Some("Bearer".to_owned());
    newer.expires_at = Some(u64::MAX / 4);
    RedisStore::open(&server.url(), KEY).unwrap().init(&newer).unwrap();
    thaw_tx.send(()).unwrap();
    let ready = holder.join().unwrap().expect("a token");
    assert_eq!(
        ready.access_token.expose_secret(),
        field(&login, "access_token"),
        "the newer set is handed out"
    );
    let e = ready.refresh_error.expect("the refused write is reported");
    let Error::Store(store_error) = &e else { panic!("a store error: {e}") };
    assert!(store_error.is_superseded(), "{e}");
    assert!(e.rotated_refresh_token().is_some(), "its rotated token, only in the error");
    let stored = RedisStore::open(&server.url(), KEY).unwrap().load().unwrap().unwrap();
    assert_eq!(stored, newer, "the newer set is never overwritten");
}
