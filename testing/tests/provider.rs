//! The provider harness (`oidc_refresh_testing::provider`) against the bundled provider: ID
//! tokens signed with every algorithm, the key set, the `/jwks` counter, restarts that keep
//! grants, and signing key rotation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use oidc_refresh_testing::provider::{
    HS256_SECRET, ID_TOKEN_CLIENTS, IdTokenClient, KEY_ALGS, Provider, field, jwt_claims, jwt_header,
};

/// One `GET` of the provider's real `/jwks` (counted), as a relying party does.
fn fetch_jwks(provider: &Provider) -> serde_json::Value {
    let url = format!("{}/jwks", provider.issuer);
    let transport = oidc_refresh_ureq::Transport::new(oidc_refresh_ureq::Options::default()).unwrap();
    let response = transport.execute(http::Request::get(url).body(Vec::new()).unwrap()).unwrap();
    assert_eq!(response.status(), 200);
    serde_json::from_slice(response.body()).unwrap()
}

fn login(provider: &Provider, client: &IdTokenClient) -> serde_json::Value {
    provider.login(client.client_id, client.secret)
}

/// Refreshes and checks the answer is a 200 with a new refresh token and an ID token.
fn refresh_ok(provider: &Provider, client: &IdTokenClient, refresh_token: &str) -> serde_json::Value {
    let (status, body) = provider.refresh(client.client_id, client.secret, refresh_token);
    assert_eq!(
        status,
        200,
        "{}: refresh failed: {body}\nprovider log:\n{}",
        client.client_id,
        provider.log()
    );
    assert_ne!(field(&body, "refresh_token"), refresh_token, "the refresh token was rotated");
    field(&body, "id_token");
    body
}

/// The `alg` and `kid` of the ID token of a token response.
fn alg_kid(tokens: &serde_json::Value) -> (String, Option<String>) {
    let header = jwt_header(field(tokens, "id_token"));
    (header["alg"].as_str().unwrap().to_owned(), header["kid"].as_str().map(str::to_owned))
}

#[test]
fn the_key_set_has_one_public_signing_key_per_algorithm() {
    let provider = Provider::start();
    let jwks = fetch_jwks(&provider);
    let keys = jwks["keys"].as_array().unwrap();
    let algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert_eq!(algs, KEY_ALGS);
    for key in keys {
        let (alg, kty) = (key["alg"].as_str().unwrap(), key["kty"].as_str().unwrap());
        let want = match alg {
            "RS256" | "PS256" => ("RSA", None),
            "ES256" => ("EC", Some("P-256")),
            "EdDSA" => ("OKP", Some("Ed25519")),
            other => panic!("unexpected alg {other}"),
        };
        assert_eq!((kty, key["crv"].as_str()), want, "{key}");
        assert_eq!(key["use"], "sig", "{key}");
        assert!(key["kid"].as_str().is_some_and(|kid| !kid.is_empty()), "{key}");
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "a private member {private} is published: {key}");
        }
        if kty == "RSA" {
            // 2048 bits: 256 bytes, 342 base64url characters.
            assert_eq!(key["n"].as_str().unwrap().len(), 342, "{key}");
        }
        assert_eq!(provider.signing_kid(alg), key["kid"].as_str().unwrap());
    }
    assert_eq!(jwks, provider.public_jwks());

    // Discovery names the key set and every algorithm of the clients.
    let transport = oidc_refresh_ureq::Transport::new(oidc_refresh_ureq::Options::default()).unwrap();
    let url = format!("{}/.well-known/openid-configuration", provider.issuer);
    let response = transport.execute(http::Request::get(url).body(Vec::new()).unwrap()).unwrap();
    let discovery: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(discovery["jwks_uri"], format!("{}/jwks", provider.issuer));
    let supported: BTreeSet<&str> = discovery["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for client in ID_TOKEN_CLIENTS {
        assert!(supported.contains(client.alg), "{} not in discovery: {supported:?}", client.alg);
    }
}

#[test]
fn every_client_gets_id_tokens_signed_with_its_algorithm() {
    let provider = Provider::start();
    let kids = provider.public_kids();
    for client in &ID_TOKEN_CLIENTS {
        let tokens = login(&provider, client);
        let refreshed = refresh_ok(&provider, client, field(&tokens, "refresh_token"));
        for response in [&tokens, &refreshed] {
            let (alg, kid) = alg_kid(response);
            assert_eq!(alg, client.alg, "{}", client.client_id);
            if client.alg == "HS256" {
                // Signed with the client secret: no key of the key set, so no kid.
                assert_eq!(kid, None, "{}", client.client_id);
            } else {
                let kid = kid.unwrap_or_else(|| panic!("{}: an ID token without kid", client.client_id));
                assert!(kids.contains(&kid), "{}: kid {kid} not in {kids:?}", client.client_id);
                assert_eq!(kid, provider.signing_kid(client.alg));
            }
            let claims = jwt_claims(field(response, "id_token"));
            assert_eq!(claims["aud"], client.client_id);
            assert_eq!(claims["iss"], provider.issuer.as_str());
            assert_eq!(claims["sub"], "user-123");
        }
    }
    assert_eq!(HS256_SECRET.len(), 36);
}

#[test]
fn the_jwks_counter_counts_only_the_real_key_set_endpoint() {
    let provider = Provider::start();
    let before = provider.jwks_requests();
    provider.public_jwks();
    provider.public_kids();
    provider.signing_kid("RS256");
    assert_eq!(provider.jwks_requests(), before);
    fetch_jwks(&provider);
    assert_eq!(provider.jwks_requests(), before + 1);
    fetch_jwks(&provider);
    assert_eq!(provider.jwks_requests(), before + 2);
}

#[test]
fn refresh_tokens_survive_a_restart() {
    let mut provider = Provider::start_persistent(&[]);
    let (issuer, port) = (provider.issuer.clone(), provider.port);
    let kids = provider.public_kids();
    let clients = [&ID_TOKEN_CLIENTS[0], &ID_TOKEN_CLIENTS[4]]; // public-client, hs256-client
    let mut tokens: Vec<String> = clients
        .iter()
        .map(|client| {
            let first = login(&provider, client);
            field(&refresh_ok(&provider, client, field(&first, "refresh_token")), "refresh_token").to_owned()
        })
        .collect();
    // A grant whose first refresh token will be replayed after the restart.
    let replayed = login(&provider, clients[0]);
    let spent = field(&replayed, "refresh_token").to_owned();
    let newest = field(&refresh_ok(&provider, clients[0], &spent), "refresh_token").to_owned();
    fetch_jwks(&provider);
    let grants_before = provider.stats().0;
    let jwks_before = provider.jwks_requests();

    provider.restart();
    assert_eq!((provider.issuer.as_str(), provider.port), (issuer.as_str(), port));
    assert_eq!(provider.public_kids(), kids, "the same keys after a restart");
    assert_eq!(provider.key_generations().len(), 1);
    assert_eq!(provider.jwks_requests(), jwks_before, "the counters survive a restart");
    assert_eq!(provider.stats().0, grants_before);

    for (client, token) in clients.iter().zip(&mut tokens) {
        let body = refresh_ok(&provider, client, token);
        *token = field(&body, "refresh_token").to_owned();
    }
    assert_eq!(provider.stats().0, grants_before + 2);

    // Spent before the restart, still spent after it: a replay, which revokes the grant.
    let (status, body) = provider.refresh(clients[0].client_id, None, &spent);
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let (status, _) = provider.refresh(clients[0].client_id, None, &newest);
    assert_eq!(status, 400, "the replay revoked the grant");

    // Twice more, and a new login works after a restart too.
    provider.restart();
    provider.restart();
    for (client, token) in clients.iter().zip(&tokens) {
        refresh_ok(&provider, client, token);
    }
    let fresh = login(&provider, clients[0]);
    refresh_ok(&provider, clients[0], field(&fresh, "refresh_token"));

    let dir = provider.files_dir().unwrap().to_owned();
    #[cfg(unix)]
    for file in ["keys.json", "state.json"] {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join(file)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    drop(provider);
    assert!(!dir.exists(), "the provider's files are removed with it");
}

#[test]
fn rotation_signs_with_new_keys_keeps_the_old_ones_then_drops_them() {
    let mut provider = Provider::start_persistent(&[]);
    let old_kids = provider.public_kids();
    assert_eq!(old_kids.len(), 4);
    let mut tokens: Vec<String> = ID_TOKEN_CLIENTS
        .iter()
        .map(|client| field(&login(&provider, client), "refresh_token").to_owned())
        .collect();
    fetch_jwks(&provider);
    let jwks_before = provider.jwks_requests();

    provider.rotate_keys();
    let generations = provider.key_generations();
    assert_eq!(generations.len(), 2);
    assert_eq!(generations[1], old_kids);
    let new_kids = generations[0].clone();
    assert!(new_kids.iter().all(|kid| !old_kids.contains(kid)), "new kids: {new_kids:?} old: {old_kids:?}");
    let published = provider.public_kids();
    assert_eq!(published, [new_kids.clone(), old_kids.clone()].concat(), "new keys first, old ones kept");
    for (alg, kid) in KEY_ALGS.iter().zip(&new_kids) {
        assert_eq!(&provider.signing_kid(alg), kid);
    }
    for (client, token) in ID_TOKEN_CLIENTS.iter().zip(&mut tokens) {
        let body = refresh_ok(&provider, client, token);
        let (alg, kid) = alg_kid(&body);
        assert_eq!(alg, client.alg);
        if client.alg == "HS256" {
            assert_eq!(kid, None);
        } else {
            assert_eq!(kid.as_deref(), Some(provider.signing_kid(client.alg).as_str()));
            assert!(new_kids.contains(&kid.unwrap()));
        }
        *token = field(&body, "refresh_token").to_owned();
    }
    assert_eq!(fetch_jwks(&provider), provider.public_jwks());
    assert_eq!(provider.jwks_requests(), jwks_before + 1, "only the test's own fetch counted");

    provider.drop_old_keys();
    assert_eq!(provider.key_generations(), [new_kids.as_slice()]);
    assert_eq!(provider.public_kids(), new_kids, "only the new keys are left");
    for (client, token) in ID_TOKEN_CLIENTS.iter().zip(&tokens) {
        let body = refresh_ok(&provider, client, token);
        let (_, kid) = alg_kid(&body);
        assert!(kid.is_none_or(|kid| new_kids.contains(&kid)));
    }

    // A second rotation: again a new generation in front of the one left.
    provider.rotate_keys();
    let generations = provider.key_generations();
    assert_eq!(generations.len(), 2);
    assert_eq!(generations[1], new_kids);
    assert_eq!(provider.jwks_requests(), jwks_before + 1, "restarts fetch nothing");
}

#[test]
#[should_panic(expected = "start_persistent")]
fn a_provider_in_memory_cannot_be_restarted() {
    let mut provider = Provider::start();
    provider.restart();
}

/// A long-lived client keeps one transport (and its pooled keep-alive connection) across the
/// restart: the server closes its connections on SIGTERM, so the first request after the
/// restart goes through.
#[test]
fn a_transport_kept_across_a_restart_refreshes_at_once() {
    let mut provider = Provider::start_persistent(&[]);
    let transport = oidc_refresh_ureq::Transport::new(oidc_refresh_ureq::Options::default()).unwrap();
    let refresh = |provider: &Provider, refresh_token: &str| {
        let body = format!("grant_type=refresh_token&client_id=public-client&refresh_token={refresh_token}");
        let request = http::Request::post(provider.token_endpoint())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.into_bytes())
            .unwrap();
        let response = transport.execute(request).expect("the refresh reached the provider");
        assert_eq!(response.status(), 200, "{}", String::from_utf8_lossy(response.body()));
        let v: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        field(&v, "refresh_token").to_owned()
    };
    let mut refresh_token = field(&provider.login("public-client", None), "refresh_token").to_owned();
    refresh_token = refresh(&provider, &refresh_token);
    refresh_token = refresh(&provider, &refresh_token);
    provider.restart();
    refresh_token = refresh(&provider, &refresh_token);
    provider.rotate_keys();
    refresh(&provider, &refresh_token);
}
