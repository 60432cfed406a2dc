//! The session verifying ID-token signatures (feature `verify`): when it asks for the key
//! set, what it does with the answer, and that a rotated refresh token survives every
//! failure on the way. Virtual clock, canned responses, keys made here with `ring`.

use std::collections::VecDeque;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oidc_refresh_core::{
    AccessToken, Action, ClientAuth, ClientConfig, ClientSecret, Error, IdTokenErrorKind, KeySetCache,
    ProtocolErrorKind, RefreshToken, Session, SignatureError, TokenSet, TransportError, TransportErrorKind,
    UnixTime, http,
};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};

const T0: u64 = 1_700_000_000;
const JWKS_URI: &str = "https://id.example/jwks";

fn t(secs: u64) -> UnixTime {
    UnixTime::from_secs(secs)
}

/// One P-256 signing key and its public JWK.
struct Key {
    kid: String,
    pair: EcdsaKeyPair,
}

impl Key {
    fn new(kid: &str) -> Key {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("keygen");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("a key ring just made");
        Key { kid: kid.to_owned(), pair }
    }

    fn jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref(); // 0x04 || x || y
        json!({
            "kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        })
    }

    fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.pair.sign(&SystemRandom::new(), input.as_bytes()).expect("signing works");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

fn key_set(keys: &[&Key]) -> String {
    json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()}).to_string()
}

fn claims(iat: u64) -> Value {
    json!({"iss": "https://id.example", "sub": "user-1", "aud": "app", "exp": iat + 3600, "iat": iat})
}

fn client() -> ClientConfig {
    ClientConfig::new("https://id.example/token", "app")
        .expect("a valid endpoint")
        .with_issuer("https://id.example")
}

fn cache() -> KeySetCache {
    KeySetCache::new(JWKS_URI.parse().expect("a valid URI"))
}

fn success(at: &str, rt: &str, id_token: Option<&str>) -> String {
    let mut body =
        json!({"access_token": at, "token_type": "Bearer", "expires_in": 3600, "refresh_token": rt});
    if let Some(id) = id_token {
        body["id_token"] = json!(id);
    }
    body.to_string()
}

/// What the canned key-set endpoint does with the next fetch.
enum Keys {
    Body(u16, String),
    Fail,
}

/// A stored set whose access token has expired: the next poll refreshes.
fn expired(rt: &str) -> TokenSet {
    let mut set = TokenSet::from_refresh_token(RefreshToken::new(rt));
    set.access_token = Some(AccessToken::new("at-old"));
    set.token_type = Some("Bearer".into());
    set.expires_at = Some(T0 - 1);
    set
}

/// A virtual world: a clock, a token endpoint and a key-set endpoint with canned answers,
/// a store (a variable), and what was asked of them.
struct World {
    now: UnixTime,
    token_replies: VecDeque<String>,
    key_replies: VecDeque<Keys>,
    stored: Option<TokenSet>,
    key_fetches: Vec<String>,
    /// The refresh tokens sent, in order.
    sent: Vec<String>,
    stores: u32,
}

impl World {
    fn new(stored: TokenSet) -> World {
        World {
            now: t(T0),
            token_replies: VecDeque::new(),
            key_replies: VecDeque::new(),
            stored: Some(stored),
            key_fetches: Vec::new(),
            sent: Vec::new(),
            stores: 0,
        }
    }

    /// Drives `session` until it says Ready, Failed or SignIn.
    fn run(&mut self, session: &mut Session) -> Action {
        loop {
            match session.poll(self.now) {
                Action::Load => session.handle_loaded(Ok::<_, Error>(self.stored.clone())).expect("in step"),
                Action::Send(request) => {
                    let form = String::from_utf8(request.body().clone()).expect("UTF-8");
                    let rt = form.split('&').find_map(|kv| kv.strip_prefix("refresh_token="));
                    self.sent.push(rt.expect("a refresh token in the body").to_owned());
                    let body = self.token_replies.pop_front().expect("an unexpected refresh request");
                    self.now = self.now + Duration::from_secs(1);
                    session.handle_response(self.now, &http::Response::new(body)).expect("in step");
                }
                Action::FetchKeys(request) => {
                    assert_eq!(request.method(), "GET");
                    self.key_fetches.push(request.uri().to_string());
                    match self.key_replies.pop_front().expect("an unexpected key-set request") {
                        Keys::Body(status, body) => {
                            let response =
                                http::Response::builder().status(status).body(body).expect("valid");
                            session.handle_key_set_response(self.now, &response).expect("in step");
                        }
                        Keys::Fail => session
                            .handle_key_set_error(
                                self.now,
                                TransportError::from_kind(TransportErrorKind::Connect).into(),
                            )
                            .expect("in step"),
                    }
                }
                Action::Store(tokens) => {
                    self.stores += 1;
                    self.stored = Some(tokens);
                    session.handle_stored(Ok::<(), Error>(())).expect("in step");
                }
                Action::Wait(until) => self.now = until,
                Action::Pending => panic!("one driver never sees Pending"),
                other => return other,
            }
        }
    }

    fn stored_rt(&self) -> String {
        self.stored.as_ref().expect("a stored set").refresh_token.expose_secret().to_owned()
    }
}

#[track_caller]
fn access_token(action: Action) -> String {
    match action {
        Action::Ready { access_token, refresh_error: None, .. } => access_token.expose_secret().to_owned(),
        other => panic!("expected Ready, got {other:?}"),
    }
}

#[track_caller]
fn failure(action: Action) -> Error {
    match action {
        Action::Failed(e) => e,
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[track_caller]
fn signature_error(e: &Error) -> SignatureError {
    match e {
        Error::IdToken(e) => match e.kind() {
            IdTokenErrorKind::Signature(s) => s,
            other => panic!("expected a signature error, got {other:?}"),
        },
        other => panic!("expected an ID-token error, got {other:?}"),
    }
}

#[test]
fn the_key_set_is_fetched_once_then_every_refresh_verifies_from_the_cache() {
    let key = Key::new("k1");
    let mut world = World::new(expired("rt-1"));
    world.token_replies.push_back(success("at-2", "rt-2", Some(&key.sign(&claims(T0)))));
    world.key_replies.push_back(Keys::Body(200, key_set(&[&key])));
    let mut session = Session::new(client()).with_key_set_cache(cache());

    assert_eq!(access_token(world.run(&mut session)), "at-2");
    assert_eq!(world.key_fetches, [JWKS_URI]);
    assert_eq!(world.stored_rt(), "rt-2");
    assert_eq!(session.key_set_cache().map(KeySetCache::fetches), Some(1));

    // Ten more refreshes, five minutes apart, within the cache's default age (an hour): no
    // fetch.
    let refresh = |world: &mut World, session: &mut Session, i: u32| {
        let iat = world.now.as_secs();
        world.token_replies.push_back(success(
            &format!("at-{i}"),
            &format!("rt-{i}"),
            Some(&key.sign(&claims(iat))),
        ));
        session.force_refresh();
        assert_eq!(access_token(world.run(session)), format!("at-{i}"));
    };
    for i in 3..13 {
        world.now = world.now + Duration::from_secs(300);
        refresh(&mut world, &mut session, i);
    }
    assert_eq!(world.key_fetches.len(), 1, "the cached keys served every refresh");
    // Past the age, the keys are fetched again before they are trusted.
    world.now = world.now + KeySetCache::DEFAULT_MAX_AGE;
    world.key_replies.push_back(Keys::Body(200, key_set(&[&key])));
    refresh(&mut world, &mut session, 13);
    assert_eq!(world.key_fetches.len(), 2);
}

#[test]
fn a_response_without_an_id_token_fetches_nothing() {
    let mut world = World::new(expired("rt-1"));
    world.token_replies.push_back(success("at-2", "rt-2", None));
    let mut session = Session::new(client()).with_key_set_cache(cache());
    assert_eq!(access_token(world.run(&mut session)), "at-2");
    assert!(world.key_fetches.is_empty());
}

#[test]
fn a_forged_signature_fails_the_refresh_and_keeps_the_rotated_refresh_token() {
    let key = Key::new("k1");
    let forger = Key::new("k1"); // same kid, another key
    let mut world = World::new(expired("rt-1"));
    world.token_replies.push_back(success("at-2", "rt-2", Some(&forger.sign(&claims(T0)))));
    world.key_replies.push_back(Keys::Body(200, key_set(&[&key])));
    let mut session = Session::new(client()).with_key_set_cache(cache());

    let e = failure(world.run(&mut session));
    assert_eq!(signature_error(&e), SignatureError::BadSignature);
    // The refresh token sent is spent: the rotated one is stored, the unverified access
    // token is not.
    assert_eq!(world.stored_rt(), "rt-2");
    let stored = world.stored.as_ref().expect("a stored set");
    assert_eq!(stored.access_token.as_ref().map(AccessToken::expose_secret), Some("at-old"));
}

#[test]
fn a_key_set_that_cannot_be_fetched_or_read_fails_the_refresh_but_the_rotated_token_is_stored() {
    let key = Key::new("k1");
    for (reply, protocol) in [
        (Keys::Fail, false),
        (Keys::Body(200, "<html>".into()), true),
        (Keys::Body(200, r#"{"no_keys":[]}"#.into()), true),
        (Keys::Body(503, key_set(&[&key])), true),
    ] {
        let mut world = World::new(expired("rt-1"));
        world.token_replies.push_back(success("at-2", "rt-2", Some(&key.sign(&claims(T0)))));
        world.key_replies.push_back(reply);
        let mut session = Session::new(client()).with_key_set_cache(cache());
        let e = failure(world.run(&mut session));
        if protocol {
            assert!(
                matches!(&e, Error::Protocol(p) if matches!(p.kind(), ProtocolErrorKind::KeySet(_))),
                "{e:?}"
            );
        } else {
            assert!(matches!(&e, Error::Transport(_)), "{e:?}");
        }
        assert_eq!(world.stored_rt(), "rt-2", "after {e}");
        assert_eq!(world.key_fetches.len(), 1, "never retried: the refresh token sent is spent");
    }
}

#[test]
fn an_unknown_kid_after_a_fetch_is_refused_without_a_second_fetch() {
    let known = Key::new("k1");
    let stranger = Key::new("k-unknown");
    let mut world = World::new(expired("rt-1"));
    world.token_replies.push_back(success("at-2", "rt-2", Some(&stranger.sign(&claims(T0)))));
    world.key_replies.push_back(Keys::Body(200, key_set(&[&known])));
    // No cool-down at all: still one fetch for one response.
    let mut session =
        Session::new(client()).with_key_set_cache(cache().with_refetch_cooldown(Duration::ZERO));
    let e = failure(world.run(&mut session));
    assert_eq!(signature_error(&e), SignatureError::UnknownKid);
    assert_eq!(world.key_fetches.len(), 1);
    assert_eq!(world.stored_rt(), "rt-2");
}

#[test]
fn a_key_rotation_is_picked_up_with_one_fetch_and_no_failed_refresh() {
    let old = Key::new("old");
    let new = Key::new("new");
    let mut world = World::new(expired("rt-1"));
    world.token_replies.push_back(success("at-2", "rt-2", Some(&old.sign(&claims(T0)))));
    world.key_replies.push_back(Keys::Body(200, key_set(&[&old])));
    let mut session = Session::new(client()).with_key_set_cache(cache());
    assert_eq!(access_token(world.run(&mut session)), "at-2");

    // The provider now signs with a new key and publishes both.
    world.now = world.now + KeySetCache::DEFAULT_REFETCH_COOLDOWN;
    let iat = world.now.as_secs();
    world.token_replies.push_back(success("at-3", "rt-3", Some(&new.sign(&claims(iat)))));
    world.key_replies.push_back(Keys::Body(200, key_set(&[&new, &old])));
    session.force_refresh();
    assert_eq!(access_token(world.run(&mut session)), "at-3");
    assert_eq!(world.key_fetches.len(), 2, "exactly one more fetch");

    // And drops the old one: the cached new key serves, no fetch.
    world.now = world.now + Duration::from_secs(600);
    let iat = world.now.as_secs();
    world.token_replies.push_back(success("at-4", "rt-4", Some(&new.sign(&claims(iat)))));
    session.force_refresh();
    assert_eq!(access_token(world.run(&mut session)), "at-4");
    assert_eq!(world.key_fetches.len(), 2);
}

#[test]
fn hs256_is_verified_with_the_client_secret_and_never_fetches_keys() {
    let secret = "a-client-secret-of-at-least-32-bytes!!";
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims(T0).to_string())
    );
    let tag =
        ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes()), input.as_bytes());
    let jwt = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));

    let with_secret = client().with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new(secret)));
    let mut world = World::new(expired("rt-1"));
    world.token_replies.push_back(success("at-2", "rt-2", Some(&jwt)));
    let mut session = Session::new(with_secret).with_key_set_cache(cache());
    assert_eq!(access_token(world.run(&mut session)), "at-2");
    assert!(world.key_fetches.is_empty());

    // A public client has no secret: the same token is refused.
    let mut world = World::new(expired("rt-1"));
    world.token_replies.push_back(success("at-2", "rt-2", Some(&jwt)));
    let mut session = Session::new(client()).with_key_set_cache(cache());
    let e = failure(world.run(&mut session));
    assert_eq!(signature_error(&e), SignatureError::NoSecret);
    assert!(world.key_fetches.is_empty());
    assert_eq!(world.stored_rt(), "rt-2");
}

#[test]
fn an_at_hash_that_does_not_match_the_access_token_fails_the_refresh() {
    let key = Key::new("k1");
    let at_hash = |at: &str| {
        let digest = ring::digest::digest(&ring::digest::SHA256, at.as_bytes());
        URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
    };
    for (at_hash_of, ok) in [("at-2", true), ("at-other", false)] {
        let mut c = claims(T0);
        c["at_hash"] = json!(at_hash(at_hash_of));
        let mut world = World::new(expired("rt-1"));
        world.token_replies.push_back(success("at-2", "rt-2", Some(&key.sign(&c))));
        world.key_replies.push_back(Keys::Body(200, key_set(&[&key])));
        let mut session = Session::new(client()).with_key_set_cache(cache());
        let outcome = world.run(&mut session);
        if ok {
            assert_eq!(access_token(outcome), "at-2");
        } else {
            let e = failure(outcome);
            assert!(matches!(&e, Error::IdToken(e) if e.kind() == IdTokenErrorKind::AtHashMismatch), "{e:?}");
            assert_eq!(world.stored_rt(), "rt-2");
        }
    }
}

#[test]
fn a_verified_token_is_the_next_baseline_and_an_unverified_one_never_is() {
    let key = Key::new("k1");
    let forger = Key::new("k1");
    let mut world = World::new(expired("rt-1"));
    let first = key.sign(&claims(T0));
    world.token_replies.push_back(success("at-2", "rt-2", Some(&first)));
    world.key_replies.push_back(Keys::Body(200, key_set(&[&key])));
    let mut session = Session::new(client()).with_key_set_cache(cache());
    assert_eq!(access_token(world.run(&mut session)), "at-2");
    let id_token =
        |w: &World| w.stored.as_ref().and_then(|s| s.id_token.as_ref()).map(|t| t.expose_secret().to_owned());
    assert_eq!(id_token(&world).as_deref(), Some(first.as_str()));

    // A forged token naming another subject: refused for its signature, never stored.
    let mut other = claims(T0 + 10);
    other["sub"] = json!("attacker");
    world.token_replies.push_back(success("at-3", "rt-3", Some(&forger.sign(&other))));
    session.force_refresh();
    let e = failure(world.run(&mut session));
    assert_eq!(signature_error(&e), SignatureError::BadSignature);
    assert_eq!(id_token(&world).as_deref(), Some(first.as_str()), "the baseline is unchanged");
}

#[test]
fn a_key_fetch_abandoned_keeps_the_rotated_token_to_be_written_first() {
    let key = Key::new("k1");
    let mut world = World::new(expired("rt-1"));
    world.token_replies.push_back(success("at-2", "rt-2", Some(&key.sign(&claims(T0)))));
    let mut session = Session::new(client()).with_key_set_cache(cache());
    // Drive by hand up to the key fetch, then give up.
    assert!(matches!(session.poll(world.now), Action::Load));
    session.handle_loaded(Ok::<_, Error>(world.stored.clone())).expect("in step");
    assert!(matches!(session.poll(world.now), Action::Send(_)));
    let body = world.token_replies.pop_front().expect("a reply");
    session.handle_response(world.now, &http::Response::new(body)).expect("in step");
    assert!(matches!(session.poll(world.now), Action::FetchKeys(_)));
    assert!(matches!(session.poll(world.now), Action::Pending), "one fetch out at a time");
    session.abandon();
    assert_eq!(
        session.tokens().map(|s| s.refresh_token.expose_secret().to_owned()).as_deref(),
        Some("rt-2"),
        "the rotated token is kept in memory"
    );
    // The next run reports the interruption; the one after writes the rotated token
    // before anything else and refreshes with it.
    let e = failure(world.run(&mut session));
    assert!(e.to_string().contains("abandoned"), "{e}");
    let iat = world.now.as_secs();
    world.token_replies.push_back(success("at-3", "rt-3", Some(&key.sign(&claims(iat)))));
    world.key_replies.push_back(Keys::Body(200, key_set(&[&key])));
    let stores_before = world.stores;
    assert_eq!(access_token(world.run(&mut session)), "at-3");
    assert_eq!(world.sent, ["rt-2"], "the rotated token is the one sent next");
    assert_eq!(world.stores - stores_before, 2, "the rotated token, then the new set");
    assert_eq!(world.stored_rt(), "rt-3");
}

#[test]
fn key_set_inputs_out_of_step_are_refused() {
    let mut session = Session::new(client()).with_key_set_cache(cache());
    assert!(session.handle_key_set_response(t(T0), &http::Response::new("{}")).is_err());
    assert!(
        session
            .handle_key_set_error(t(T0), TransportError::from_kind(TransportErrorKind::Connect).into())
            .is_err()
    );
}
