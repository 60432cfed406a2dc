//! The blocking `TokenManager` against the real provider (panva's oidc-provider, refresh
//! tokens rotated and single-use, a replay revokes the whole grant): many threads, one
//! refresh. The provider counts the refresh grants it served (`stats()`).

use std::sync::{Arc, Barrier};
use std::time::Duration;

use oidc_refresh::store::{MemoryStore, TokenStore};
use oidc_refresh::ureq::{Options, TokenManager, Transport};
use oidc_refresh::{ClientConfig, IdToken, RefreshToken, Session, TokenSet};
use oidc_refresh_testing::provider::{Provider, VirtualClock, field};

/// A manager for a freshly signed-in `public-client`: the store holds the login's refresh
/// and ID tokens, no access token.
fn signed_in(p: &Provider) -> TokenManager<Arc<MemoryStore>> {
    let store = Arc::new(MemoryStore::with_tokens(login(p)));
    manager_on(p, store)
}

fn login(p: &Provider) -> TokenSet {
    let login = p.login("public-client", None);
    let mut set = TokenSet::from_refresh_token(RefreshToken::new(field(&login, "refresh_token")));
    set.id_token = Some(IdToken::new(field(&login, "id_token")));
    set
}

/// [`signed_in`] with a manager reading `clock`.
fn signed_in_with_clock(p: &Provider, clock: VirtualClock) -> TokenManager<Arc<MemoryStore>, VirtualClock> {
    let store = Arc::new(MemoryStore::with_tokens(login(p)));
    let transport = Transport::new(Options::default()).expect("default options build");
    TokenManager::with_clock(transport, Session::new(client_of(p)), store, clock)
}

fn client_of(p: &Provider) -> ClientConfig {
    ClientConfig::new(&p.token_endpoint(), "public-client")
        .expect("the provider's endpoint")
        .with_issuer(p.issuer.clone())
}

fn manager_on(p: &Provider, store: Arc<MemoryStore>) -> TokenManager<Arc<MemoryStore>> {
    let client = ClientConfig::new(&p.token_endpoint(), "public-client")
        .expect("the provider's endpoint")
        .with_issuer(p.issuer.clone());
    TokenManager::new(Transport::new(Options::default()).expect("default options build"), client, store)
}

/// Runs `f` on `n` threads released at once; returns their results.
fn on_threads<T: Send>(n: usize, f: impl Fn() -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    f()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("no thread panicked")).collect()
    })
}

#[test]
fn two_hundred_threads_cause_exactly_one_refresh_and_the_grant_stays_alive() {
    let p = Provider::start();
    let manager = signed_in(&p);
    let (grants, errors) = p.stats();

    let tokens = on_threads(200, || manager.access_token().unwrap().expose_secret().to_owned());
    assert!(tokens.iter().all(|t| t == &tokens[0]), "every thread got the one new token");
    assert_eq!(p.stats(), (grants + 1, errors), "exactly one refresh grant");
    let stored = manager.store().load().unwrap().unwrap();
    assert_eq!(stored.access_token.unwrap().expose_secret(), tokens[0], "stored before handed out");

    // No replay happened: the grant is alive, a forced refresh succeeds and rotates again.
    let forced = manager.force_refresh().unwrap();
    assert_ne!(forced.expose_secret(), tokens[0]);
    assert_eq!(p.stats(), (grants + 2, errors));
    let now_stored = manager.store().load().unwrap().unwrap();
    assert_ne!(now_stored.refresh_token, stored.refresh_token);

    // R28 secrets-never-formatted: the manager's Debug shows no token.
    let shown = format!("{manager:?}");
    for secret in [forced.expose_secret(), now_stored.refresh_token.expose_secret(), &tokens[0]] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(shown.contains("fresh_until"), "{shown}");
}

#[test]
fn a_short_lived_access_token_is_refreshed_once_more_after_it_expires() {
    // The provider's access tokens live 2 s. The manager reads a clock that moves only when
    // the test says, so how long a refresh takes changes nothing.
    let p = Provider::start_with(&[("AT_TTL", "2")]);
    let clock = VirtualClock::at_real_time();
    let manager = signed_in_with_clock(&p, clock.clone());
    let (grants, errors) = p.stats();
    let sent_at = clock.now();
    let first = manager.access_token().unwrap();
    assert_eq!(p.stats(), (grants + 1, errors));
    // Fresh for half its life (the 60 s margin is capped at half of 2 s), counted from the
    // exact send time: no new refresh up to the last nanosecond of that second.
    clock.set(sent_at + Duration::from_secs(1) - Duration::from_nanos(1));
    for _ in 0..100 {
        assert_eq!(manager.access_token().unwrap(), first);
    }
    assert_eq!(p.stats(), (grants + 1, errors));

    // Expired: 50 threads at once cause one more refresh.
    clock.set(sent_at + Duration::from_secs(3));
    let tokens = on_threads(50, || manager.access_token().unwrap());
    assert!(tokens.iter().all(|t| t == &tokens[0] && t != &first));
    assert_eq!(p.stats(), (grants + 2, errors), "one more refresh, for 50 threads");
}

#[test]
fn fifty_callers_invalidating_the_same_token_cause_one_refresh() {
    let p = Provider::start();
    let manager = signed_in(&p);
    let old = manager.access_token().unwrap();
    let (grants, errors) = p.stats();

    let tokens = on_threads(50, || {
        manager.invalidate(&old);
        manager.access_token().unwrap()
    });
    assert!(tokens.iter().all(|t| t == &tokens[0] && t != &old), "one new token for all");
    assert_eq!(p.stats(), (grants + 1, errors), "exactly one refresh");
    // A late report of the old token changes nothing.
    manager.invalidate(&old);
    assert_eq!(manager.access_token().unwrap(), tokens[0]);
    assert_eq!(p.stats(), (grants + 1, errors));
}

#[test]
fn a_second_manager_on_the_same_store_adopts_the_new_tokens_instead_of_replaying() {
    let p = Provider::start();
    let store = Arc::new(MemoryStore::with_tokens(login(&p)));
    let (a, b) = (manager_on(&p, Arc::clone(&store)), manager_on(&p, store));
    let (grants, errors) = p.stats();
    let from_a = a.access_token().unwrap();
    // `b` still believes in the login's refresh token, now spent: it re-reads the store under
    // its lock and adopts `a`'s tokens. Sending the spent token would revoke the whole grant.
    assert_eq!(b.access_token().unwrap(), from_a);
    assert_eq!(p.stats(), (grants + 1, errors));
    // The grant is alive for both.
    let forced = b.force_refresh().unwrap();
    a.invalidate(&from_a);
    assert_eq!(a.access_token().unwrap(), forced, "adopted again, no request");
    assert_eq!(p.stats(), (grants + 2, errors));
}

#[test]
fn a_dead_grant_says_sign_in_again() {
    let p = Provider::start();
    let set = login(&p);
    let manager = manager_on(&p, Arc::new(MemoryStore::with_tokens(set.clone())));
    let token = manager.access_token().unwrap();
    // Someone replays the spent refresh token: the provider revokes the whole grant.
    let other = manager_on(&p, Arc::new(MemoryStore::with_tokens(set)));
    assert!(other.access_token().unwrap_err().is_reauth_required());
    manager.invalidate(&token);
    let e = manager.access_token().unwrap_err();
    assert!(e.is_reauth_required(), "{e}");
    // Every later call says so too, without a request.
    let (grants, errors) = p.stats();
    assert!(manager.access_token().unwrap_err().is_reauth_required());
    assert_eq!(p.stats(), (grants, errors));
}
