//! ID-token signatures verified against the real provider (R29 id-token-signature-verified):
//! every algorithm it signs with (RS256, PS256, ES256, EdDSA, and HS256 with the client
//! secret) through both transports and both managers, and a key rotation on the provider's
//! side picked up by a long-lived manager with exactly one more key-set fetch.

use std::sync::Arc;
use std::time::Duration;

use oidc_refresh::store::MemoryStore;
use oidc_refresh::{
    ClientAuth, ClientConfig, ClientSecret, Continuity, IdToken, KeySetCache, RefreshParams, RefreshToken,
    Session, SystemClock, TokenSet,
};
use oidc_refresh_testing::provider::{
    ID_TOKEN_CLIENTS, IdTokenClient, Provider, VirtualClock, field, jwt_header,
};

fn client_for(p: &Provider, c: &IdTokenClient) -> ClientConfig {
    let client = ClientConfig::new(&p.token_endpoint(), c.client_id)
        .expect("the provider's endpoint")
        .with_issuer(p.issuer.clone());
    match c.secret {
        Some((_, secret)) => client.with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new(secret))),
        None => client,
    }
}

/// The provider's key-set cache, as discovery describes it.
fn keys_of(p: &Provider) -> KeySetCache {
    let transport = oidc_refresh::ureq::Transport::new(oidc_refresh::ureq::Options::default())
        .expect("default options build");
    transport.discover(&p.issuer).expect("discovery").key_set_cache().expect("a usable jwks_uri")
}

fn login_set(p: &Provider, c: &IdTokenClient) -> TokenSet {
    let login = p.login(c.client_id, c.secret);
    assert_eq!(jwt_header(field(&login, "id_token"))["alg"], c.alg, "{}", c.client_id);
    let mut set = TokenSet::from_refresh_token(RefreshToken::new(field(&login, "refresh_token")));
    set.id_token = Some(IdToken::new(field(&login, "id_token")));
    set
}

#[test]
fn every_algorithm_verifies_through_the_blocking_one_shot_refresh() {
    let p = Provider::start();
    let transport = oidc_refresh::ureq::Transport::new(oidc_refresh::ureq::Options::default())
        .expect("default options build");
    let mut keys = keys_of(&p);
    for c in &ID_TOKEN_CLIENTS {
        let login = p.login(c.client_id, c.secret);
        let rt = RefreshToken::new(field(&login, "refresh_token"));
        let fetched = p.jwks_requests();
        let (result, continuity) = oidc_refresh::blocking::refresh_tokens_verified(
            &transport,
            &SystemClock,
            &client_for(&p, c),
            &RefreshParams::new(&rt),
            None,
            &mut keys,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", c.alg));
        assert_eq!(result.id_token_header().and_then(|h| h.alg()), Some(c.alg));
        assert_eq!(continuity, Continuity::NotChecked);
        // One cache for all: the key set is fetched for the first signed token only, never
        // for HS256 (the client secret is its key).
        let expected = u64::from(fetched == 0 && c.alg != "HS256");
        assert_eq!(p.jwks_requests() - fetched, expected, "{}", c.alg);
    }
    assert_eq!(p.jwks_requests(), 1);
}

#[cfg(feature = "hyper")]
#[test]
fn every_algorithm_verifies_through_the_async_one_shot_refresh() {
    let p = Provider::start();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let transport = oidc_refresh::hyper::Transport::new(oidc_refresh::hyper::Options::default())
        .expect("default options build");
    for c in &ID_TOKEN_CLIENTS {
        // A cache per client: each signed token fetches the key set once.
        let mut keys = keys_of(&p);
        let login = p.login(c.client_id, c.secret);
        let token = RefreshToken::new(field(&login, "refresh_token"));
        let fetched = p.jwks_requests();
        let (result, _) = rt
            .block_on(oidc_refresh::asynchronous::refresh_tokens_verified(
                &transport,
                &SystemClock,
                &client_for(&p, c),
                &RefreshParams::new(&token),
                None,
                &mut keys,
            ))
            .unwrap_or_else(|e| panic!("{}: {e}", c.alg));
        assert_eq!(result.id_token_header().and_then(|h| h.alg()), Some(c.alg));
        assert_eq!(p.jwks_requests() - fetched, u64::from(c.alg != "HS256"), "{}", c.alg);
    }
}

#[test]
fn the_blocking_manager_verifies_every_algorithm_and_fetches_the_keys_once() {
    let p = Provider::start();
    for c in &ID_TOKEN_CLIENTS {
        let fetched = p.jwks_requests();
        let transport = oidc_refresh::ureq::Transport::new(oidc_refresh::ureq::Options::default())
            .expect("default options build");
        let session = Session::new(client_for(&p, c)).with_key_set_cache(keys_of(&p));
        let store = Arc::new(MemoryStore::with_tokens(login_set(&p, c)));
        let manager = oidc_refresh::ureq::TokenManager::with_session(transport, session, Arc::clone(&store));
        for _ in 0..3 {
            let token = manager.access_token().unwrap_or_else(|e| panic!("{}: {e}", c.alg));
            manager.invalidate(&token);
        }
        assert_eq!(p.jwks_requests() - fetched, u64::from(c.alg != "HS256"), "{}", c.alg);
    }
}

#[cfg(feature = "hyper")]
#[test]
fn the_async_manager_verifies_every_algorithm_and_fetches_the_keys_once() {
    let p = Provider::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    for c in &ID_TOKEN_CLIENTS {
        let fetched = p.jwks_requests();
        let transport = oidc_refresh::hyper::Transport::new(oidc_refresh::hyper::Options::default())
            .expect("default options build");
        let session = Session::new(client_for(&p, c)).with_key_set_cache(keys_of(&p));
        let store = Arc::new(MemoryStore::with_tokens(login_set(&p, c)));
        let manager = oidc_refresh::hyper::TokenManager::with_session(transport, session, store);
        rt.block_on(async {
            for _ in 0..3 {
                let token = manager.access_token().await.unwrap_or_else(|e| panic!("{}: {e}", c.alg));
                manager.invalidate(&token);
            }
        });
        assert_eq!(p.jwks_requests() - fetched, u64::from(c.alg != "HS256"), "{}", c.alg);
    }
}

/// A long-lived manager across a key rotation on the provider's side: the provider restarts
/// signing with new keys (the old ones still published), later drops the old ones; every
/// refresh succeeds, and the key set is fetched exactly once more. The manager's clock is
/// virtual so that the rotation comes after the cache's refetch cool-down without waiting.
fn rotation(blocking: bool) {
    let mut p = Provider::start_persistent(&[]);
    let c = &ID_TOKEN_CLIENTS[0]; // public-client, RS256
    let clock = VirtualClock::at_real_time();
    let session = Session::new(client_for(&p, c)).with_key_set_cache(keys_of(&p));
    let store = Arc::new(MemoryStore::with_tokens(login_set(&p, c)));
    let old_kid = p.signing_kid("RS256");

    #[cfg(feature = "hyper")]
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let refresh: Box<dyn Fn() -> String> = if blocking {
        let transport = oidc_refresh::ureq::Transport::new(oidc_refresh::ureq::Options::default())
            .expect("default options build");
        let manager = oidc_refresh::ureq::TokenManager::with_clock(
            transport,
            session,
            Arc::clone(&store),
            clock.clone(),
        );
        Box::new(move || {
            let token = manager.access_token().expect("every refresh succeeds");
            manager.invalidate(&token);
            token.expose_secret().to_owned()
        })
    } else {
        #[cfg(feature = "hyper")]
        {
            let transport = oidc_refresh::hyper::Transport::new(oidc_refresh::hyper::Options::default())
                .expect("default options build");
            let manager = oidc_refresh::hyper::TokenManager::with_clock(
                transport,
                session,
                Arc::clone(&store),
                clock.clone(),
            );
            Box::new(move || {
                let token = rt.block_on(manager.access_token()).expect("every refresh succeeds");
                manager.invalidate(&token);
                token.expose_secret().to_owned()
            })
        }
        #[cfg(not(feature = "hyper"))]
        unreachable!("the async manager needs the hyper feature")
    };
    let signed_by = || {
        let set = oidc_refresh::store::TokenStore::load(&*store).expect("readable").expect("a set");
        let jwt = set.id_token.expect("an ID token");
        jwt_header(jwt.expose_secret())["kid"].as_str().expect("a kid").to_owned()
    };

    for _ in 0..3 {
        refresh();
    }
    assert_eq!(signed_by(), old_kid);
    assert_eq!(p.jwks_requests(), 1);

    p.rotate_keys();
    let new_kid = p.signing_kid("RS256");
    assert_ne!(new_kid, old_kid);
    clock.set(clock.now() + KeySetCache::DEFAULT_REFETCH_COOLDOWN + Duration::from_secs(1));
    for _ in 0..3 {
        refresh();
    }
    assert_eq!(signed_by(), new_kid);
    assert_eq!(p.jwks_requests(), 2, "exactly one more fetch for the new key");

    p.drop_old_keys();
    for _ in 0..3 {
        refresh();
    }
    assert_eq!(signed_by(), new_kid);
    assert_eq!(p.jwks_requests(), 2, "the cached new key serves: no fetch");
}

#[test]
fn the_blocking_manager_survives_a_key_rotation_with_one_more_fetch() {
    rotation(true);
}

#[cfg(feature = "hyper")]
#[test]
fn the_async_manager_survives_a_key_rotation_with_one_more_fetch() {
    rotation(false);
}
