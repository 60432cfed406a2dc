//! Revocation (RFC 7009) against the real provider (panva's oidc-provider, revocation
//! enabled at `/token/revocation`, named in its discovery document): both managers'
//! `revoke()` sign the user out in one call (the stored refresh token revoked, the store
//! emptied, `access_token()` asking for a sign-in), and the transports' one-shot `revoke`
//! for a public and a `client_secret_basic` client. After each, the provider refuses the
//! revoked refresh token (`invalid_grant`).

use oidc_refresh::store::{FileStore, MemoryStore, TokenStore};
use oidc_refresh::{
    ClientAuth, ClientConfig, ClientSecret, ConfigError, Error, IdToken, RefreshToken, TokenSet,
};
use oidc_refresh_testing::provider::{BASIC_SECRET, Provider, field};

/// A freshly signed-in `public-client`'s token set: the login's refresh and ID tokens.
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

/// The provider refuses `refresh_token` for `client_id`: `invalid_grant`.
fn refused(p: &Provider, client_id: &str, secret: Option<(&str, &str)>, refresh_token: &RefreshToken) {
    let (status, body) = p.refresh(client_id, secret, refresh_token.expose_secret());
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
}

/// `access_token()` after a sign-out: sign in again, the store holds nothing.
fn signed_out<T: std::fmt::Debug>(outcome: Result<T, Error>) {
    match outcome {
        Err(e) => {
            assert!(e.is_reauth_required(), "{e:?}");
            assert!(matches!(e, Error::Config(ConfigError::NoTokens)), "{e:?}");
        }
        Ok(v) => panic!("signed out, yet: {v:?}"),
    }
}

#[cfg(feature = "ureq")]
mod ureq {
    use std::sync::Arc;

    use oidc_refresh::ureq::{Options, TokenManager, Transport};

    use super::*;

    fn transport() -> Transport {
        Transport::new(Options::default()).expect("default options build")
    }

    /// The discovery document names the revocation endpoint.
    fn revocation_endpoint(p: &Provider) -> String {
        let metadata = transport().discover(&p.issuer).expect("discovery");
        let endpoint = metadata.revocation_endpoint().expect("the provider names a revocation endpoint");
        assert_eq!(endpoint, format!("{}/token/revocation", p.issuer));
        endpoint.to_owned()
    }

    #[test]
    fn the_blocking_manager_revokes_the_stored_token_and_signs_the_user_out() {
        let p = Provider::start();
        let store = Arc::new(MemoryStore::with_tokens(login(&p)));
        let manager = TokenManager::new(transport(), client_of(&p), Arc::clone(&store));
        let token = manager.access_token().expect("a refresh");
        let stored = store.tokens().expect("stored").refresh_token;

        manager.revoke(&revocation_endpoint(&p)).expect("revoked");
        assert_eq!(store.tokens(), None, "the store is empty");
        signed_out(manager.access_token());
        manager.invalidate(&token);
        signed_out(manager.access_token());
        refused(&p, "public-client", None, &stored);
        // Revoking again: nothing stored, nothing to revoke.
        manager.revoke(&revocation_endpoint(&p)).expect("nothing to revoke");
    }

    #[test]
    fn a_file_store_is_emptied_and_its_lock_file_kept() {
        let p = Provider::start();
        let dir = tempfile_dir();
        let store = FileStore::new(dir.join("tokens.json"));
        store.init(&login(&p)).expect("seeded");
        let manager = TokenManager::new(transport(), client_of(&p), store.clone());
        manager.access_token().expect("a refresh");
        let stored = store.load().expect("readable").expect("stored").refresh_token;
        manager.revoke(&revocation_endpoint(&p)).expect("revoked");
        assert_eq!(store.load().expect("readable"), None);
        assert!(!store.path().exists() && store.lock_path().exists());
        signed_out(manager.access_token());
        refused(&p, "public-client", None, &stored);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_refused_revocation_leaves_the_store_and_the_grant_alive() {
        let p = Provider::start();
        let store = Arc::new(MemoryStore::with_tokens(login(&p)));
        // Another client's credentials: the provider refuses to revoke this client's token.
        let stranger = ClientConfig::new(&p.token_endpoint(), "basic-client")
            .expect("the provider's endpoint")
            .with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new("wrong-secret")));
        let manager = TokenManager::new(transport(), stranger, Arc::clone(&store));
        let e = manager.revoke(&revocation_endpoint(&p)).expect_err("refused");
        assert_eq!(e.oauth_error_code(), Some("invalid_client"), "{e:?}");
        let stored = store.tokens().expect("still stored").refresh_token;
        let (status, body) = p.refresh("public-client", None, stored.expose_secret());
        assert_eq!(status, 200, "the grant is alive: {body}");
    }

    #[test]
    fn the_one_shot_revoke_of_a_basic_client_ends_its_refresh_token() {
        let p = Provider::start();
        let login = p.login("basic-client", Some(("basic", BASIC_SECRET)));
        let rt = RefreshToken::new(field(&login, "refresh_token"));
        let client = ClientConfig::new(&p.token_endpoint(), "basic-client")
            .expect("the provider's endpoint")
            .with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new(BASIC_SECRET)));
        transport().revoke(&client, &revocation_endpoint(&p), &rt).expect("revoked");
        refused(&p, "basic-client", Some(("basic", BASIC_SECRET)), &rt);
        // A token the provider no longer knows: 200 all the same (RFC 7009 §2.2).
        transport().revoke(&client, &revocation_endpoint(&p), &rt).expect("already revoked: 200");
    }

    #[cfg(feature = "redis")]
    #[test]
    fn a_redis_store_is_emptied() {
        use oidc_refresh::store::RedisStore;
        use oidc_refresh_testing::redis::RedisServer;

        let p = Provider::start();
        let server = RedisServer::start();
        let store = RedisStore::open(&server.url(), "oidc-refresh:revoke").expect("the server's URL");
        store.init(&login(&p)).expect("seeded");
        let manager = TokenManager::new(transport(), client_of(&p), store);
        manager.access_token().expect("a refresh");
        let stored = manager.store().load().expect("readable").expect("stored").refresh_token;
        manager.revoke(&revocation_endpoint(&p)).expect("revoked");
        assert!(server.keys("*").is_empty(), "no key left: {:?}", server.keys("*"));
        signed_out(manager.access_token());
        refused(&p, "public-client", None, &stored);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        use std::hash::BuildHasher;
        let n = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
        let dir = std::env::temp_dir().join(format!("oidc-refresh-revoke-{n:016x}"));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        dir
    }
}

#[cfg(feature = "hyper")]
mod hyper {
    use std::sync::Arc;

    use oidc_refresh::hyper::{Options, TokenManager, Transport};

    use super::*;

    fn transport() -> Transport {
        Transport::new(Options::default()).expect("default options build")
    }

    async fn revocation_endpoint(p: &Provider) -> String {
        let metadata = transport().discover(&p.issuer).await.expect("discovery");
        metadata.revocation_endpoint().expect("the provider names a revocation endpoint").to_owned()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_async_manager_revokes_the_stored_token_and_signs_the_user_out() {
        let p = tokio::task::spawn_blocking(Provider::start).await.expect("the provider starts");
        let set = login(&p);
        let store = Arc::new(MemoryStore::with_tokens(set));
        let manager = TokenManager::new(transport(), client_of(&p), Arc::clone(&store));
        manager.access_token().await.expect("a refresh");
        let stored = store.tokens().expect("stored").refresh_token;

        manager.revoke(&revocation_endpoint(&p).await).await.expect("revoked");
        assert_eq!(store.tokens(), None, "the store is empty");
        signed_out(manager.access_token().await);
        signed_out(manager.force_refresh().await);
        let p = Arc::new(p);
        let check = Arc::clone(&p);
        tokio::task::spawn_blocking(move || refused(&check, "public-client", None, &stored))
            .await
            .expect("refused");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_async_one_shot_revoke_of_a_basic_client_ends_its_refresh_token() {
        let p = tokio::task::spawn_blocking(Provider::start).await.expect("the provider starts");
        let p = Arc::new(p);
        let login = {
            let p = Arc::clone(&p);
            tokio::task::spawn_blocking(move || p.login("basic-client", Some(("basic", BASIC_SECRET))))
                .await
                .expect("a login")
        };
        let rt = RefreshToken::new(field(&login, "refresh_token"));
        let client = ClientConfig::new(&p.token_endpoint(), "basic-client")
            .expect("the provider's endpoint")
            .with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new(BASIC_SECRET)));
        transport().revoke(&client, &revocation_endpoint(&p).await, &rt).await.expect("revoked");
        let check = Arc::clone(&p);
        tokio::task::spawn_blocking(move || {
            refused(&check, "basic-client", Some(("basic", BASIC_SECRET)), &rt)
        })
        .await
        .expect("refused");
    }
}
