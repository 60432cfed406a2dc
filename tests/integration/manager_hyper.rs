//! The async `TokenManager` against the real provider (panva's oidc-provider, refresh tokens
//! rotated and single-use, a replay revokes the whole grant): many tasks, one refresh. The
//! provider counts the refresh grants it served (`stats()`).

#![cfg(feature = "hyper")]

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use oidc_refresh::hyper::{Options, TokenManager, Transport};
use oidc_refresh::store::{MemoryStore, TokenStore};
use oidc_refresh::{AccessToken, ClientConfig, Clock, Error, IdToken, RefreshToken, Session, TokenSet};
use oidc_refresh_testing::provider::{Provider, VirtualClock, field};
use tokio::runtime::{Builder, Runtime};

fn multi_thread() -> Runtime {
    Builder::new_multi_thread().worker_threads(4).enable_all().build().expect("a runtime")
}

/// A freshly signed-in `public-client`'s token set: the login's refresh and ID tokens, no
/// access token.
fn login(p: &Provider) -> TokenSet {
    let login = p.login("public-client", None);
    let mut set = TokenSet::from_refresh_token(RefreshToken::new(field(&login, "refresh_token")));
    set.id_token = Some(IdToken::new(field(&login, "id_token")));
    set
}

fn client_of(p: &Provider) -> ClientConfig {
    ClientConfig::new(&p.token_endpoint(), "public-client")
        .expect("the provider's endpoint")
        .with_issuer(p.issuer.clone())
}

/// A manager for a freshly signed-in `public-client`.
fn signed_in(p: &Provider) -> TokenManager<Arc<MemoryStore>> {
    let transport = Transport::new(Options::default()).expect("default options build");
    TokenManager::new(transport, client_of(p), Arc::new(MemoryStore::with_tokens(login(p))))
}

/// [`signed_in`] with a manager reading `clock`.
fn signed_in_with_clock(p: &Provider, clock: VirtualClock) -> TokenManager<Arc<MemoryStore>, VirtualClock> {
    let (transport, store) = (
        Transport::new(Options::default()).expect("default options build"),
        MemoryStore::with_tokens(login(p)),
    );
    TokenManager::with_clock(transport, Session::new(client_of(p)), Arc::new(store), clock)
}

/// Runs `n` tasks calling `access_token` (after `before`), all at once.
async fn on_tasks<C: Clock + 'static>(
    manager: &TokenManager<Arc<MemoryStore>, C>,
    n: usize,
    before: impl Fn(&TokenManager<Arc<MemoryStore>, C>) + Clone + Send + 'static,
) -> Vec<Result<AccessToken, Error>> {
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (manager, start, before) = (manager.clone(), Arc::clone(&start), before.clone());
            tokio::spawn(async move {
                start.wait().await;
                before(&manager);
                manager.access_token().await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for task in tasks {
        out.push(task.await.expect("no task panicked"));
    }
    out
}

#[test]
fn the_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let p = Provider::start();
    let manager = signed_in(&p);
    send(&manager.access_token());
    send(&manager.force_refresh());
}

#[test]
fn two_hundred_tasks_cause_exactly_one_refresh_and_the_grant_stays_alive() {
    let p = Provider::start();
    let manager = signed_in(&p);
    let (grants, errors) = p.stats();
    let rt = multi_thread();

    let tokens: Vec<_> =
        rt.block_on(on_tasks(&manager, 200, |_| {})).into_iter().map(Result::unwrap).collect();
    assert!(tokens.iter().all(|t| t == &tokens[0]), "every task got the one new token");
    assert_eq!(p.stats(), (grants + 1, errors), "exactly one refresh grant");
    let stored = manager.store().load().unwrap().unwrap();
    assert_eq!(stored.access_token.as_ref(), Some(&tokens[0]), "stored before handed out");

    // No replay happened: the grant is alive, a forced refresh succeeds and rotates again.
    let forced = rt.block_on(manager.force_refresh()).unwrap();
    assert_ne!(forced, tokens[0]);
    assert_eq!(p.stats(), (grants + 2, errors));
    let now_stored = manager.store().load().unwrap().unwrap();
    assert_ne!(now_stored.refresh_token, stored.refresh_token);

    // R28 secrets-never-formatted: the manager's Debug shows no token.
    let shown = format!("{manager:?}");
    for secret in
        [forced.expose_secret(), now_stored.refresh_token.expose_secret(), tokens[0].expose_secret()]
    {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[test]
fn a_short_lived_access_token_is_refreshed_once_more_after_it_expires() {
    // The provider's access tokens live 2 s. The manager reads a clock that moves only when
    // the test says, so how long a refresh takes changes nothing.
    let p = Provider::start_with(&[("AT_TTL", "2")]);
    let clock = VirtualClock::at_real_time();
    let manager = signed_in_with_clock(&p, clock.clone());
    let (grants, errors) = p.stats();
    let rt = multi_thread();
    let sent_at = clock.now();
    let first = rt.block_on(manager.access_token()).unwrap();
    assert_eq!(p.stats(), (grants + 1, errors));
    // Fresh for half its life (the 60 s margin is capped at half of 2 s), counted from the
    // exact send time: no new refresh up to the last nanosecond of that second.
    clock.set(sent_at + Duration::from_secs(1) - Duration::from_nanos(1));
    for _ in 0..100 {
        assert_eq!(rt.block_on(manager.access_token()).unwrap(), first);
    }
    assert_eq!(p.stats(), (grants + 1, errors));

    // Expired: 50 tasks at once cause one more refresh.
    clock.set(sent_at + Duration::from_secs(3));
    let tokens: Vec<_> =
        rt.block_on(on_tasks(&manager, 50, |_| {})).into_iter().map(Result::unwrap).collect();
    assert!(tokens.iter().all(|t| t == &tokens[0] && t != &first));
    assert_eq!(p.stats(), (grants + 2, errors), "one more refresh, for 50 tasks");
}

#[test]
fn fifty_callers_invalidating_the_same_token_cause_one_refresh() {
    let p = Provider::start();
    let manager = signed_in(&p);
    let rt = multi_thread();
    let old = rt.block_on(manager.access_token()).unwrap();
    let (grants, errors) = p.stats();

    let reported = old.clone();
    let tokens: Vec<_> = rt
        .block_on(on_tasks(&manager, 50, move |m| m.invalidate(&reported)))
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(tokens.iter().all(|t| t == &tokens[0] && t != &old), "one new token for all");
    assert_eq!(p.stats(), (grants + 1, errors), "exactly one refresh");
    manager.invalidate(&old);
    assert_eq!(rt.block_on(manager.access_token()).unwrap(), tokens[0]);
    assert_eq!(p.stats(), (grants + 1, errors));
}

#[test]
fn a_refresh_completes_and_is_stored_even_if_every_caller_gives_up() {
    let p = Provider::start();
    let manager = signed_in(&p);
    let (grants, errors) = p.stats();
    let rt = multi_thread();
    {
        let _in_runtime = rt.enter();
        let mut callers: Vec<_> = (0..200).map(|_| Box::pin(manager.access_token())).collect();
        // Each caller is polled once (which starts or joins the refresh), then dropped.
        let mut cx = Context::from_waker(Waker::noop());
        let waiting = callers.iter_mut().map(|c| c.as_mut().poll(&mut cx)).filter(|p| p.is_pending()).count();
        assert!(waiting > 0, "the refresh cannot have finished at once");
        drop(callers);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while manager.store().load().unwrap().unwrap().access_token.is_none() {
        assert!(Instant::now() < deadline, "the abandoned refresh was never stored");
        std::thread::sleep(Duration::from_millis(10));
    }
    let stored = manager.store().load().unwrap().unwrap().access_token.unwrap();
    assert_eq!(rt.block_on(manager.access_token()).unwrap(), stored, "published too");
    assert_eq!(p.stats(), (grants + 1, errors), "one refresh for 200 abandoned callers");
}

#[test]
fn a_current_thread_runtime_works_too() {
    let p = Provider::start();
    let manager = signed_in(&p);
    let (grants, errors) = p.stats();
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let tokens: Vec<_> =
        rt.block_on(on_tasks(&manager, 100, |_| {})).into_iter().map(Result::unwrap).collect();
    assert!(tokens.iter().all(|t| t == &tokens[0]));
    assert_eq!(p.stats(), (grants + 1, errors));
}
