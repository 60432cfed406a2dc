//! The library's `TokenManager` and the CLI's `token` command on ONE store file, at the same
//! time, against the real provider: the contract's lock protocol makes them interoperate, so
//! the spent refresh token is sent once in all, and the grant survives.

use std::process::Command;
use std::sync::Barrier;

use oidc_refresh::store::{FileStore, StoreGuard, TokenStore};
use oidc_refresh::ureq::{Options, TokenManager, Transport};
use oidc_refresh::{ClientConfig, IdToken, RefreshToken, TokenSet};
use oidc_refresh_testing::provider::{Provider, field};

use crate::common::bin;

#[test]
fn managers_in_threads_and_cli_processes_share_one_refresh() {
    let p = Provider::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let login = p.login("public-client", None);
    let mut set = TokenSet::from_refresh_token(RefreshToken::new(field(&login, "refresh_token")));
    set.id_token = Some(IdToken::new(field(&login, "id_token")));
    let store = FileStore::new(&path);
    store.lock().unwrap().save(&set).unwrap();

    for round in 0..3 {
        let (grants, errors) = p.stats();
        let client =
            ClientConfig::new(&p.token_endpoint(), "public-client").unwrap().with_issuer(p.issuer.clone());
        let manager =
            TokenManager::new(Transport::new(Options::default()).unwrap(), client, FileStore::new(&path));
        let barrier = Barrier::new(8);
        let printed: Vec<String> = std::thread::scope(|s| {
            let mut handles = Vec::new();
            for i in 0..8 {
                let (manager, barrier, path, p) = (&manager, &barrier, &path, &p);
                handles.push(s.spawn(move || {
                    barrier.wait();
                    if i % 2 == 0 {
                        manager.access_token().unwrap().expose_secret().to_owned()
                    } else {
                        let out = Command::new(bin())
                            .args([
                                "token",
                                "--token-endpoint",
                                &p.token_endpoint(),
                                "--client-id",
                                "public-client",
                            ])
                            .arg("--store")
                            .arg(path)
                            .env_remove("RUST_LOG")
                            .output()
                            .unwrap();
                        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                        String::from_utf8(out.stdout).unwrap().trim().to_owned()
                    }
                }));
            }
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let stored = FileStore::new(&path).load().unwrap().unwrap();
        let stored_at = stored.access_token.as_ref().unwrap().expose_secret().to_owned();
        assert!(printed.iter().all(|t| *t == stored_at), "round {round}: everyone got the stored token");
        assert_eq!(p.stats(), (grants + 1, errors), "round {round}: exactly one refresh, no replay");
        // Expire the stored access token for the next round (keeping the rotated refresh token).
        let mut guard = store.lock().unwrap();
        let mut next = guard.load().unwrap().unwrap();
        next.expires_at = Some(0);
        guard.save(&next).unwrap();
    }
    // The grant is alive: one more forced refresh through the CLI succeeds.
    let out = Command::new(bin())
        .args(["token", "--force", "--token-endpoint", &p.token_endpoint(), "--client-id", "public-client"])
        .arg("--store")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
