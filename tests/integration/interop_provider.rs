//! Both transports against a real OpenID Provider (panva's oidc-provider 9.11.5 on
//! 127.0.0.1, refresh-token rotation and reuse detection on), with refresh tokens obtained
//! by a real authorization code + PKCE flow. One matrix, run for every transport built.

use oidc_refresh::{
    AuthResult, ClientAuth, ClientConfig, ClientSecret, Continuity, Error, Fault, IdTokenErrorKind,
    IdTokenPayload, RefreshParams, RefreshToken, decode_id_token,
};
use oidc_refresh_testing::provider::{BASIC_SECRET, POST_SECRET, Provider, field};
use oidc_refresh_testing::servers::{Behaviour, Server, json_response};

/// One way of running a refresh: the same calls over each transport.
trait Driver {
    fn name(&self) -> &'static str;
    fn discover(&self, issuer: &str) -> Result<oidc_refresh::ProviderMetadata, Error>;
    fn refresh(
        &self,
        client: &ClientConfig,
        params: &RefreshParams<'_>,
        previous: Option<&IdTokenPayload>,
    ) -> Result<(AuthResult, Continuity), Error>;
}

struct Ureq(oidc_refresh::ureq::Transport);

impl Driver for Ureq {
    fn name(&self) -> &'static str {
        "ureq"
    }
    fn discover(&self, issuer: &str) -> Result<oidc_refresh::ProviderMetadata, Error> {
        self.0.discover(issuer)
    }
    fn refresh(
        &self,
        client: &ClientConfig,
        params: &RefreshParams<'_>,
        previous: Option<&IdTokenPayload>,
    ) -> Result<(AuthResult, Continuity), Error> {
        self.0.refresh_tokens_with_previous(client, params, previous)
    }
}

#[cfg(feature = "hyper")]
struct Hyper(oidc_refresh::hyper::Transport, tokio::runtime::Runtime);

#[cfg(feature = "hyper")]
impl Driver for Hyper {
    fn name(&self) -> &'static str {
        "hyper"
    }
    fn discover(&self, issuer: &str) -> Result<oidc_refresh::ProviderMetadata, Error> {
        self.1.block_on(self.0.discover(issuer))
    }
    fn refresh(
        &self,
        client: &ClientConfig,
        params: &RefreshParams<'_>,
        previous: Option<&IdTokenPayload>,
    ) -> Result<(AuthResult, Continuity), Error> {
        self.1.block_on(self.0.refresh_tokens_with_previous(client, params, previous))
    }
}

#[cfg_attr(not(feature = "hyper"), allow(unused_mut))] // one more push per transport feature
fn drivers() -> Vec<Box<dyn Driver>> {
    let mut all: Vec<Box<dyn Driver>> = vec![Box::new(Ureq(
        oidc_refresh::ureq::Transport::new(oidc_refresh::ureq::Options::default())
            .expect("default options build"),
    ))];
    #[cfg(feature = "hyper")]
    {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let t = oidc_refresh::hyper::Transport::new(oidc_refresh::hyper::Options::default())
            .expect("default options build");
        all.push(Box::new(Hyper(t, rt)));
    }
    all
}

fn public_client(p: &Provider, id: &str) -> ClientConfig {
    ClientConfig::new(&p.token_endpoint(), id).expect("the provider's endpoint").with_issuer(p.issuer.clone())
}

/// Refreshes twice with rotation, asserting every step, and returns the last result.
fn refresh_twice(d: &dyn Driver, client: &ClientConfig, login: &serde_json::Value) -> AuthResult {
    let first_rt = RefreshToken::new(field(login, "refresh_token"));
    let first_id = decode_id_token(field(login, "id_token")).expect("the login's ID token decodes");
    let (r1, c1) =
        d.refresh(client, &RefreshParams::new(&first_rt), Some(&first_id)).expect("the first refresh");
    assert_eq!(c1, Continuity::Checked, "{}", d.name());
    let rt2 = r1.refresh_token().expect("rotated").clone();
    assert_ne!(rt2, first_rt, "{}: the provider rotates refresh tokens", d.name());
    assert_eq!(r1.token_type(), "Bearer");
    assert!(r1.expires_in().is_some_and(|s| s > 0));
    let p1 = r1.id_token_payload().expect("a refreshed ID token").clone();
    assert_eq!(p1.sub(), first_id.sub());
    assert_eq!(p1.auth_time(), first_id.auth_time());
    let (r2, c2) = d.refresh(client, &RefreshParams::new(&rt2), Some(&p1)).expect("the second refresh");
    assert_eq!(c2, Continuity::Checked);
    let rt3 = r2.refresh_token().expect("rotated again");
    assert_ne!(rt3, &rt2);
    r2
}

#[test]
fn public_client_rotates_and_keeps_id_token_continuity() {
    let p = Provider::start();
    for d in drivers() {
        let login = p.login("public-client", None);
        let r = refresh_twice(d.as_ref(), &public_client(&p, "public-client"), &login);
        let claims = r.id_token_payload().unwrap();
        assert_eq!(claims.iss(), Some(p.issuer.as_str()));
        assert_eq!(claims.aud(), Some(&["public-client".to_owned()][..]));
        assert!(claims.email().is_some(), "{}: profile/email claims ride along", d.name());
        assert_eq!(r.id_token_header().and_then(|h| h.alg()), Some("RS256"));
    }
}

#[test]
fn confidential_clients_with_basic_and_post_authentication() {
    let p = Provider::start();
    for d in drivers() {
        let basic = public_client(&p, "basic-client")
            .with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new(BASIC_SECRET)));
        refresh_twice(d.as_ref(), &basic, &p.login("basic-client", Some(("basic", BASIC_SECRET))));
        let post = public_client(&p, "post-client")
            .with_auth(ClientAuth::ClientSecretPost(ClientSecret::new(POST_SECRET)));
        refresh_twice(d.as_ref(), &post, &p.login("post-client", Some(("post", POST_SECRET))));
    }
}

#[test]
fn es256_id_tokens_and_discovery() {
    let p = Provider::start();
    for d in drivers() {
        let meta = d.discover(&p.issuer).unwrap();
        assert_eq!(meta.issuer(), p.issuer);
        assert_eq!(meta.token_endpoint().to_string(), p.token_endpoint());
        let client = meta.client("es256-client").unwrap();
        assert_eq!(client.issuer(), Some(p.issuer.as_str()));
        let r = refresh_twice(d.as_ref(), &client, &p.login("es256-client", None));
        assert_eq!(r.id_token_header().and_then(|h| h.alg()), Some("ES256"));
        // Discovery of an issuer spelled differently (trailing slash) is refused: exact match.
        let e = d.discover(&format!("{}/", p.issuer)).unwrap_err();
        assert_eq!(e.fault(), Fault::ServerProtocol, "{}: {e}", d.name());
    }
}

#[test]
fn replaying_a_spent_refresh_token_is_invalid_grant_and_kills_the_grant() {
    let p = Provider::start();
    for d in drivers() {
        let client = public_client(&p, "public-client");
        let login = p.login("public-client", None);
        let first = RefreshToken::new(field(&login, "refresh_token"));
        let (r1, _) = d.refresh(&client, &RefreshParams::new(&first), None).unwrap();
        let second = r1.refresh_token().unwrap().clone();
        let e = d.refresh(&client, &RefreshParams::new(&first), None).unwrap_err();
        assert!(e.is_reauth_required(), "{}: {e}", d.name());
        assert_eq!(e.oauth_error_code(), Some("invalid_grant"));
        assert_eq!(e.status().map(|s| s.as_u16()), Some(400));
        assert!(e.rotated_refresh_token().is_none());
        // Reuse detection revoked the whole grant: the newest token is dead too.
        let e = d.refresh(&client, &RefreshParams::new(&second), None).unwrap_err();
        assert!(e.is_reauth_required(), "{}: {e}", d.name());
    }
}

#[test]
fn a_wider_scope_is_invalid_scope_and_leaves_the_token_usable() {
    let p = Provider::start();
    for d in drivers() {
        let client = public_client(&p, "public-client");
        let login = p.login_with_scope("public-client", None, Some("openid offline_access email"));
        let rt = RefreshToken::new(field(&login, "refresh_token"));
        let e = d
            .refresh(&client, &RefreshParams::new(&rt).scope("openid offline_access email phone"), None)
            .unwrap_err();
        assert_eq!(e.oauth_error_code(), Some("invalid_scope"), "{}: {e}", d.name());
        assert_eq!(e.fault(), Fault::ServerRefused);
        assert!(!e.is_reauth_required());
        // Not spent: a narrower scope now succeeds with the same token.
        let (r, _) = d.refresh(&client, &RefreshParams::new(&rt).scope("openid"), None).unwrap();
        assert!(r.refresh_token().is_some());
    }
}

#[test]
fn a_wrong_secret_is_invalid_client_and_does_not_spend_the_token() {
    let p = Provider::start();
    for d in drivers() {
        let login = p.login("basic-client", Some(("basic", BASIC_SECRET)));
        let rt = RefreshToken::new(field(&login, "refresh_token"));
        let wrong = public_client(&p, "basic-client")
            .with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new("not-the-secret")));
        let e = d.refresh(&wrong, &RefreshParams::new(&rt), None).unwrap_err();
        assert_eq!(e.oauth_error_code(), Some("invalid_client"), "{}: {e}", d.name());
        assert_eq!(e.status().map(|s| s.as_u16()), Some(401));
        match &e {
            Error::Server(s) => assert!(s.www_authenticate().is_some_and(|h| h.starts_with("Basic"))),
            other => panic!("expected a server error, got {other:?}"),
        }
        let right = public_client(&p, "basic-client")
            .with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new(BASIC_SECRET)));
        assert!(d.refresh(&right, &RefreshParams::new(&rt), None).is_ok(), "{}", d.name());
    }
}

#[test]
fn an_id_token_from_another_issuer_fails_validation_and_its_refresh_token_is_not_used() {
    let p = Provider::start();
    for d in drivers() {
        let login = p.login("public-client", None);
        let rt = RefreshToken::new(field(&login, "refresh_token"));
        // The client expects another issuer than the one that signs the ID token.
        let client = ClientConfig::new(&p.token_endpoint(), "public-client")
            .unwrap()
            .with_issuer("https://someone-else.example");
        let e = d.refresh(&client, &RefreshParams::new(&rt), None).unwrap_err();
        let Error::IdToken(inner) = &e else { panic!("{}: expected an ID-token error, got {e}", d.name()) };
        assert_eq!(inner.kind(), IdTokenErrorKind::IssuerMismatch, "{}: {e}", d.name());
        assert!(e.rotated_refresh_token().is_none(), "another issuer: nothing from the response is used");
    }
}

#[test]
fn an_id_token_for_another_client_fails_validation_and_its_refresh_token_is_not_used() {
    let p = Provider::start();
    // A mix-up: a token response carrying an ID token this provider really signed, with the
    // right issuer, but issued to another client (`basic-client`, not `public-client`).
    let other = p.login("basic-client", Some(("basic", BASIC_SECRET)));
    let body = serde_json::json!({
        "access_token": "at-mixed-up",
        "token_type": "Bearer",
        "expires_in": 60,
        "refresh_token": "rt-mixed-up",
        "id_token": field(&other, "id_token"),
    })
    .to_string();
    for d in drivers() {
        let server = Server::start(Behaviour::Respond(json_response(200, &body)));
        let client =
            ClientConfig::new(&server.url("/token"), "public-client").unwrap().with_issuer(p.issuer.clone());
        let e = d.refresh(&client, &RefreshParams::new(&RefreshToken::new("rt-1")), None).unwrap_err();
        let Error::IdToken(inner) = &e else { panic!("{}: expected an ID-token error, got {e}", d.name()) };
        assert_eq!(inner.kind(), IdTokenErrorKind::AudienceMismatch, "{}: {e}", d.name());
        assert!(
            e.rotated_refresh_token().is_none(),
            "another client's ID token: nothing from the response is used"
        );
        assert_eq!(server.finish().requests.len(), 1, "{}: one request, no retry", d.name());
    }
}
