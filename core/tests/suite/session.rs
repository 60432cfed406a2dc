//! The session state machine driven by a virtual clock, canned responses and an in-memory
//! store: no sockets, no real time.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oidc_refresh_core::IdTokenErrorKind;
use oidc_refresh_core::{
    AccessToken, Action, ClientConfig, ConfigError, Continuity, Error, Fault, IdToken, RefreshToken, Session,
    TokenSet, TransportError, TransportErrorKind, UnixTime, http,
};
use serde_json::{Value, json};

const T0: u64 = 1_700_000_000;

fn t(secs: u64) -> UnixTime {
    UnixTime::from_secs(secs)
}

fn client() -> ClientConfig {
    ClientConfig::new("https://id.example/token", "app").expect("a valid https endpoint")
}

/// A token set as stored: `rt`, and an access token `at` expiring at `expires_at`.
fn stored(rt: &str, at: Option<&str>, expires_at: Option<u64>) -> TokenSet {
    let mut set = TokenSet::from_refresh_token(RefreshToken::new(rt));
    set.access_token = at.map(AccessToken::new);
    set.token_type = at.map(|_| "Bearer".to_owned());
    set.expires_at = expires_at;
    set
}

fn jwt_with_header(header: &Value, claims: &Value) -> String {
    format!("{}.{}.", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()))
}

fn jwt(claims: &Value) -> String {
    jwt_with_header(&json!({"alg": "RS256", "typ": "JWT"}), claims)
}

/// The claims of the first ID token of the grant.
fn base_claims() -> Value {
    json!({
        "iss": "https://id.example", "sub": "user-1", "aud": "app",
        "exp": T0 + 3600, "iat": T0, "auth_time": T0 - 100, "nonce": "n-1"
    })
}

/// A successful token response body.
fn success(at: &str, rt: Option<&str>, expires_in: Option<u64>, id_token: Option<&str>) -> String {
    let mut body = json!({"access_token": at, "token_type": "Bearer"});
    if let Some(rt) = rt {
        body["refresh_token"] = json!(rt);
    }
    if let Some(e) = expires_in {
        body["expires_in"] = json!(e);
    }
    if let Some(id) = id_token {
        body["id_token"] = json!(id);
    }
    body.to_string()
}

/// What the canned server does with the next request.
enum Reply {
    Http(u16, String, Vec<(&'static str, &'static str)>),
    Fail(TransportErrorKind),
}

fn ok(body: String) -> Reply {
    Reply::Http(200, body, vec![])
}

fn status(code: u16, body: &str) -> Reply {
    Reply::Http(code, body.to_owned(), vec![])
}

/// The store of these tests: one thread, so its "lock" excludes nobody; what matters is
/// what the session is given and what it writes. `Debug` shows no token.
#[derive(Default)]
struct MemoryStore {
    tokens: std::sync::Mutex<Option<TokenSet>>,
}

impl MemoryStore {
    fn with_tokens(tokens: TokenSet) -> Self {
        Self { tokens: std::sync::Mutex::new(Some(tokens)) }
    }
    fn tokens(&self) -> Option<TokenSet> {
        self.tokens.lock().expect("no test thread panicked holding the store").clone()
    }
    fn lock(&self) -> Result<MemoryStoreGuard<'_>, std::convert::Infallible> {
        Ok(MemoryStoreGuard(self))
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").field("holds_tokens", &self.tokens().is_some()).finish()
    }
}

#[derive(Debug)]
struct MemoryStoreGuard<'a>(&'a MemoryStore);

impl MemoryStoreGuard<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, std::convert::Infallible> {
        Ok(self.0.tokens())
    }
    fn save(&mut self, tokens: &TokenSet) -> Result<(), std::convert::Infallible> {
        *self.0.tokens.lock().expect("no test thread panicked holding the store") = Some(tokens.clone());
        Ok(())
    }
}

/// A store whose next `fail_saves` writes fail.
#[derive(Default)]
struct FlakyStore {
    inner: MemoryStore,
    fail_saves: AtomicU32,
    saves: AtomicU32,
}

struct FlakyGuard<'a>(MemoryStoreGuard<'a>, &'a FlakyStore);

impl FlakyStore {
    fn lock(&self) -> Result<FlakyGuard<'_>, std::io::Error> {
        Ok(FlakyGuard(self.inner.lock().unwrap(), self))
    }
}

impl FlakyGuard<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, std::io::Error> {
        Ok(self.0.load().unwrap())
    }
    fn save(&mut self, tokens: &TokenSet) -> Result<(), std::io::Error> {
        self.1.saves.fetch_add(1, Ordering::SeqCst);
        let left = self.1.fail_saves.load(Ordering::SeqCst);
        if left > 0 {
            self.1.fail_saves.store(left - 1, Ordering::SeqCst);
            return Err(std::io::Error::other("disk full"));
        }
        self.0.save(tokens).unwrap();
        Ok(())
    }
}

/// The virtual world: a clock, a canned server, a store, and what happened.
struct World {
    now: UnixTime,
    /// How long each exchange takes.
    latency: Duration,
    server: VecDeque<Reply>,
    store: FlakyStore,
    /// The bodies of the requests sent.
    sent: Vec<String>,
    /// The send times.
    sent_at: Vec<UnixTime>,
    waits: Vec<Duration>,
    loads: u32,
}

impl World {
    fn new(stored: Option<TokenSet>) -> Self {
        let store = FlakyStore::default();
        if let Some(set) = stored {
            store.inner.lock().unwrap().save(&set).unwrap();
        }
        Self {
            now: t(T0),
            latency: Duration::from_secs(2),
            server: VecDeque::new(),
            store,
            sent: Vec::new(),
            sent_at: Vec::new(),
            waits: Vec::new(),
            loads: 0,
        }
    }

    fn reply(mut self, reply: Reply) -> Self {
        self.server.push_back(reply);
        self
    }

    /// Runs the loop of the module docs until the session says Ready, Failed or SignIn.
    fn run(&mut self, session: &mut Session) -> Action {
        let mut lock = None;
        loop {
            let now = self.now;
            match session.poll(now) {
                Action::Load => {
                    self.loads += 1;
                    let guard = lock.insert(self.store.lock().expect("the in-memory store locks"));
                    session.handle_loaded(guard.load()).expect("in step");
                }
                Action::Send(request) => {
                    assert_eq!(request.method(), "POST");
                    self.sent.push(
                        String::from_utf8(request.body().clone()).expect("the core builds UTF-8 bodies"),
                    );
                    self.sent_at.push(now);
                    let reply = self.server.pop_front().expect("an unexpected request");
                    self.now = self.now + self.latency;
                    match reply {
                        Reply::Http(code, body, headers) => {
                            let mut response = http::Response::builder().status(code);
                            for (k, v) in headers {
                                response = response.header(k, v);
                            }
                            session
                                .handle_response(
                                    self.now,
                                    &response
                                        .body(body.into_bytes())
                                        .expect("a canned response is well-formed"),
                                )
                                .expect("in step");
                        }
                        Reply::Fail(kind) => {
                            session
                                .handle_transport_error(self.now, TransportError::from_kind(kind).into())
                                .expect("in step");
                        }
                    }
                }
                Action::Store(tokens) => {
                    let guard = lock.as_mut().expect("Store follows Load");
                    session.handle_stored(guard.save(&tokens)).expect("in step");
                }
                Action::Wait(until) => {
                    assert!(until > now, "a wait is in the future");
                    self.waits.push(until.saturating_duration_since(now));
                    self.now = until;
                }
                Action::Pending => panic!("one driver never sees Pending"),
                other => return other,
            }
        }
    }

    fn stored(&self) -> TokenSet {
        self.store.inner.tokens().expect("a stored set")
    }
}

#[track_caller]
fn ready(action: Action) -> (String, UnixTime) {
    match action {
        Action::Ready { access_token, fresh_until, refresh_error: None } => {
            (access_token.expose_secret().to_owned(), fresh_until)
        }
        other => panic!("expected Ready, got {other:?}"),
    }
}

#[track_caller]
fn failed(action: Action) -> Error {
    match action {
        Action::Failed(e) => e,
        other => panic!("expected Failed, got {other:?}"),
    }
}

fn rt_body(rt: &str) -> String {
    format!("grant_type=refresh_token&refresh_token={rt}&client_id=app")
}

// ---------------------------------------------------------------------------------------
// Lifetime (R15, R22)
// ---------------------------------------------------------------------------------------

#[test]
fn a_fresh_token_is_handed_out_without_touching_the_store() {
    let set = stored("rt-1", Some("at-1"), Some(T0 + 3600));
    let mut world = World::new(Some(set.clone()));
    let mut session = Session::new(client()).with_tokens(set);
    let (at, fresh_until) = ready(world.run(&mut session));
    assert_eq!(at, "at-1");
    assert_eq!(fresh_until, t(T0 + 3600 - 60), "refreshed 60 s early by default");
    assert_eq!((world.loads, world.sent.len()), (0, 0));
}

#[test]
fn the_refresh_margin_is_60_s_by_default_and_configurable() {
    let set = stored("rt-1", Some("at-1"), Some(T0 + 1000));
    let mut session = Session::new(client()).with_tokens(set.clone());
    assert!(matches!(session.poll(t(T0 + 939)), Action::Ready { .. }));
    assert!(matches!(session.poll(t(T0 + 940)), Action::Load), "expires in 60 s: refresh");

    let mut session = Session::new(client()).with_tokens(set).with_refresh_margin(Duration::from_secs(300));
    assert!(matches!(session.poll(t(T0 + 699)), Action::Ready { .. }));
    assert!(matches!(session.poll(t(T0 + 700)), Action::Load));
}

#[test]
fn expiry_counts_from_when_the_request_was_sent() {
    let mut world = World::new(Some(stored("rt-1", None, None))).reply(ok(success(
        "at-2",
        Some("rt-2"),
        Some(3600),
        None,
    )));
    world.latency = Duration::from_secs(7);
    let mut session = Session::new(client());
    assert_eq!(ready(world.run(&mut session)).0, "at-2");
    assert_eq!(world.sent_at, vec![t(T0)]);
    assert_eq!(world.now, t(T0 + 7));
    assert_eq!(world.stored().expires_at, Some(T0 + 3600), "sent at + expires_in, not received at");
    assert_eq!(world.stored().refresh_token.expose_secret(), "rt-2");
}

#[test]
fn an_unknown_lifetime_is_300_s_by_default_and_configurable() {
    for (session, lifetime) in [
        (Session::new(client()), 300),
        (Session::new(client()).with_default_lifetime(Duration::from_secs(90)), 90),
    ] {
        let mut session = session;
        let mut world =
            World::new(Some(stored("rt-1", None, None))).reply(ok(success("at-2", None, None, None)));
        assert_eq!(ready(world.run(&mut session)).0, "at-2");
        assert_eq!(world.stored().expires_at, Some(T0 + lifetime));
        // R16 absent-refresh-token-keeps-previous: no refresh_token in the response keeps the
        // previous one.
        assert_eq!(world.stored().refresh_token.expose_secret(), "rt-1");
    }
}

#[test]
fn a_token_living_less_than_the_margin_is_used_and_refreshed_at_half_its_life() {
    let mut world = World::new(Some(stored("rt-1", None, None)))
        .reply(ok(success("at-2", Some("rt-2"), Some(2), None)))
        .reply(ok(success("at-3", Some("rt-3"), Some(0), None)))
        .reply(ok(success("at-4", Some("rt-4"), Some(3600), None)));
    world.latency = Duration::ZERO;
    let mut session = Session::new(client());
    assert_eq!(ready(world.run(&mut session)), ("at-2".into(), t(T0 + 1)), "margin: half of 2 s");
    assert_eq!(world.sent.len(), 1, "not an endless run of refreshes");
    world.now = t(T0 + 1);
    // expires_in 0: handed out once all the same (fresh until now: never cached).
    assert_eq!(ready(world.run(&mut session)), ("at-3".into(), t(T0 + 1)));
    assert_eq!(ready(world.run(&mut session)).0, "at-4");
    assert_eq!(world.sent.len(), 3);
}

/// The store keeps `expires_at` in whole seconds, rounded down. A session that obtained the
/// token itself counts the margin from the exact expiry: with the rounded second, a 2 s
/// token sent at `T0 + 0.9 s` would be fresh for 0.1 s instead of 1 s, and a 3600 s one
/// refreshed up to a second before its margin.
#[test]
fn the_margin_counts_from_the_exact_expiry_not_the_stored_whole_second() {
    let sent = t(T0) + Duration::from_millis(900);
    for (expires_in, margin) in [(2, Duration::from_secs(1)), (3600, Duration::from_secs(60))] {
        let mut world = World::new(Some(stored("rt-1", None, None)))
            .reply(ok(success("at-2", Some("rt-2"), Some(expires_in), None)))
            .reply(ok(success("at-3", Some("rt-3"), Some(3600), None)));
        world.latency = Duration::ZERO;
        world.now = sent;
        let mut session = Session::new(client());
        let exact_fresh_until = sent + Duration::from_secs(expires_in) - margin;
        assert_eq!(ready(world.run(&mut session)), ("at-2".into(), exact_fresh_until));
        assert_eq!(world.stored().expires_at, Some(T0 + expires_in), "the store keeps whole seconds");
        // Just before the exact end of the fresh window: no refresh, no I/O.
        world.now = exact_fresh_until - Duration::from_nanos(1);
        assert_eq!(ready(world.run(&mut session)).0, "at-2");
        assert_eq!((world.loads, world.sent.len()), (1, 1));
        // At its end: the refresh.
        world.now = exact_fresh_until;
        assert_eq!(ready(world.run(&mut session)).0, "at-3");
        assert_eq!(world.sent.len(), 2);
    }
}

#[test]
fn a_stored_access_token_without_expires_at_counts_as_expired() {
    let mut world = World::new(Some(stored("rt-1", Some("at-1"), None))).reply(ok(success(
        "at-2",
        Some("rt-2"),
        Some(60),
        None,
    )));
    let mut session = Session::new(client());
    assert_eq!(ready(world.run(&mut session)).0, "at-2");
    assert_eq!(world.sent, vec![rt_body("rt-1")]);
}

#[test]
fn an_invalid_access_token_is_refreshed_once_however_many_callers_report_it() {
    let set = stored("rt-1", Some("at-1"), Some(T0 + 3600));
    let mut world = World::new(Some(set.clone())).reply(ok(success("at-2", Some("rt-2"), Some(3600), None)));
    let mut session = Session::new(client()).with_tokens(set);
    let at1 = AccessToken::new("at-1");
    let reports: Vec<bool> = (0..50).map(|_| session.handle_invalid_access_token(&at1)).collect();
    assert_eq!(reports.iter().filter(|&&first| first).count(), 1, "only the first report counts");
    assert!(!session.handle_invalid_access_token(&AccessToken::new("someone-else's")));
    assert_eq!(ready(world.run(&mut session)).0, "at-2");
    // Late reports of the old token change nothing.
    assert!(!session.handle_invalid_access_token(&at1));
    assert_eq!(ready(world.run(&mut session)).0, "at-2");
    assert_eq!(world.sent.len(), 1, "exactly one refresh");
}

// ---------------------------------------------------------------------------------------
// One refresh in flight, the store first (R23–R25)
// ---------------------------------------------------------------------------------------

#[test]
fn while_a_refresh_is_in_flight_every_other_poll_waits_and_then_shares_its_result() {
    let store = MemoryStore::with_tokens(stored("rt-1", Some("at-1"), Some(T0 - 1)));
    let mut session = Session::new(client());
    let now = t(T0);
    assert!(matches!(session.poll(now), Action::Load));
    assert!(matches!(session.poll(now), Action::Pending), "a load is out");
    let mut guard = store.lock().unwrap();
    session.handle_loaded(guard.load()).unwrap();
    let Action::Send(request) = session.poll(now) else { panic!("expected Send") };
    assert_eq!(request.body(), rt_body("rt-1").as_bytes());
    for _ in 0..200 {
        assert!(matches!(session.poll(now), Action::Pending), "one request in flight");
    }
    let response = http::Response::new(success("at-2", Some("rt-2"), Some(3600), None));
    session.handle_response(now, &response).unwrap();
    let Action::Store(tokens) = session.poll(now) else { panic!("expected Store") };
    for _ in 0..200 {
        assert!(matches!(session.poll(now), Action::Pending), "nothing handed out before it is stored");
    }
    assert_eq!(store.tokens().unwrap().refresh_token.expose_secret(), "rt-1");
    session.handle_stored(guard.save(&tokens)).unwrap();
    for _ in 0..200 {
        assert_eq!(ready(session.poll(now)).0, "at-2", "every waiter gets the new token");
    }
}

#[test]
fn a_newer_stored_set_is_adopted_instead_of_sending_a_stale_refresh_token() {
    // Another process refreshed: the store holds rt-2 and a fresh at-2.
    let mut world = World::new(Some(stored("rt-2", Some("at-2"), Some(T0 + 3600))));
    let mut session = Session::new(client()).with_tokens(stored("rt-1", Some("at-1"), Some(T0 + 10)));
    assert_eq!(ready(world.run(&mut session)).0, "at-2");
    assert_eq!((world.loads, world.sent.len()), (1, 0), "no request at all");

    // Later the store holds rt-3 with an expired access token: rt-3 is sent, never rt-2.
    let mut world = World::new(Some(stored("rt-3", Some("at-3"), Some(T0 - 5)))).reply(ok(success(
        "at-4",
        Some("rt-4"),
        Some(3600),
        None,
    )));
    world.now = t(T0 + 3600);
    assert_eq!(ready(world.run(&mut session)).0, "at-4");
    assert_eq!(world.sent, vec![rt_body("rt-3")]);
}

#[test]
fn a_non_rotating_refresh_by_another_process_is_adopted_too() {
    let mut world = World::new(Some(stored("rt-1", Some("at-9"), Some(T0 + 3600))));
    let mut session = Session::new(client()).with_tokens(stored("rt-1", Some("at-1"), Some(T0)));
    assert_eq!(ready(world.run(&mut session)).0, "at-9");
    assert!(world.sent.is_empty());
}

/// A client whose token endpoint is resolved late (`set_client`), for an issuer.
fn client_at(endpoint: &str, issuer: &str) -> ClientConfig {
    ClientConfig::new(endpoint, "app").expect("a valid endpoint").with_issuer(issuer)
}

#[test]
fn set_client_withdraws_a_request_not_sent_and_the_next_is_built_for_the_new_client() {
    let store = MemoryStore::with_tokens(stored("rt-1", Some("at-1"), Some(T0 - 1)));
    // A provisional client (the issuer's URL as endpoint, another issuer): never sent to.
    let provisional = client_at("https://id.example/", "https://provisional.example");
    let mut session = Session::new(provisional).with_max_attempts(2).with_jitter_seed(7);
    assert!(matches!(session.poll(t(T0)), Action::Load));
    let mut guard = store.lock().unwrap();
    session.handle_loaded(guard.load()).unwrap();
    let Action::Send(withdrawn) = session.poll(t(T0)) else { panic!("expected Send") };
    assert_eq!(withdrawn.uri(), "https://id.example/");

    // Not sent: the driver resolves the client (discovery) and sets it.
    session.set_client(client_at("https://id.example/token", "https://id.example"));
    assert_eq!(session.client().token_endpoint(), "https://id.example/token");
    // The same attempt again (the withdrawn request was none), for the new endpoint; a
    // transient failure is then retried once more: 2 attempts in all.
    let Action::Send(request) = session.poll(t(T0 + 5)) else { panic!("expected Send") };
    assert_eq!(request.uri(), "https://id.example/token");
    assert_eq!(request.body(), withdrawn.body());
    session
        .handle_transport_error(t(T0 + 6), TransportError::from_kind(TransportErrorKind::Connect).into())
        .unwrap();
    let Action::Wait(until) = session.poll(t(T0 + 6)) else { panic!("expected Wait") };
    let Action::Send(retry) = session.poll(until) else { panic!("expected Send") };
    assert_eq!(retry.uri(), "https://id.example/token");

    // The response is checked against the new client: its issuer is the ID token's.
    let id_token = jwt(&base_claims());
    let body = success("at-2", Some("rt-2"), Some(3600), Some(&id_token));
    session.handle_response(until + Duration::from_secs(1), &http::Response::new(body.into_bytes())).unwrap();
    let Action::Store(tokens) = session.poll(until + Duration::from_secs(1)) else {
        panic!("expected Store")
    };
    assert_eq!(tokens.expires_at, Some(until.as_secs() + 3600), "counted from the send");
    session.handle_stored(guard.save(&tokens)).unwrap();
    assert_eq!(ready(session.poll(until + Duration::from_secs(1))).0, "at-2");
    assert_eq!(session.last_continuity(), Some(Continuity::NotChecked));
}

#[test]
fn set_client_between_refreshes_changes_the_next_request_only() {
    let mut world = World::new(Some(stored("rt-1", Some("at-1"), Some(T0 - 1))))
        .reply(ok(success("at-2", None, Some(3600), None)))
        .reply(ok(success("at-3", None, Some(3600), None)));
    let mut session = Session::new(client());
    assert_eq!(ready(world.run(&mut session)).0, "at-2");
    let secret = oidc_refresh_core::ClientSecret::new("s3cret");
    session.set_client(client().with_auth(oidc_refresh_core::ClientAuth::ClientSecretPost(secret)));
    world.now = t(T0 + 3600);
    assert_eq!(ready(world.run(&mut session)).0, "at-3");
    assert_eq!(world.sent[0], rt_body("rt-1"));
    assert_eq!(
        world.sent[1],
        "grant_type=refresh_token&refresh_token=rt-1&client_id=app&client_secret=s3cret"
    );
}

#[test]
fn an_empty_store_and_no_tokens_means_sign_in() {
    let mut world = World::new(None).reply(ok(success("at-1", Some("rt-2"), Some(3600), None)));
    let mut session = Session::new(client());
    for _ in 0..2 {
        match world.run(&mut session) {
            Action::SignIn(e) => {
                assert!(matches!(e, Error::Config(ConfigError::NoTokens)), "{e:?}");
                assert!(e.is_reauth_required(), "the user must sign in");
                assert!(!e.is_retryable());
                assert_eq!(e.fault(), Fault::Caller);
                assert_eq!(e.to_string(), "there is no token set (the store is empty): sign in first");
            }
            other => panic!("expected SignIn, got {other:?}"),
        }
    }
    assert!(world.sent.is_empty(), "nothing was sent");

    // Once a sign-in writes a token set to the store, the session refreshes with it.
    world.store.inner.lock().unwrap().save(&stored("rt-1", None, None)).unwrap();
    assert_eq!(ready(world.run(&mut session)).0, "at-1");
    assert_eq!(world.sent, vec![rt_body("rt-1")]);
    assert_eq!(world.stored().refresh_token.expose_secret(), "rt-2");
}

#[test]
fn a_store_failure_is_reported_and_the_rotated_token_is_never_lost() {
    let mut world = World::new(Some(stored("rt-1", Some("at-1"), Some(T0 - 1)))).reply(ok(success(
        "at-2",
        Some("rt-2"),
        Some(3600),
        None,
    )));
    world.store.fail_saves.store(2, Ordering::SeqCst);
    let mut session = Session::new(client());

    let mut e = failed(world.run(&mut session));
    assert_eq!(e.fault(), Fault::Store);
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("disk full"), "{e}");
    assert!(!e.to_string().contains("rt-2") && !format!("{e:?}").contains("rt-2"), "never displayed");
    assert_eq!(e.take_rotated_refresh_token().unwrap().expose_secret(), "rt-2");
    assert_eq!(session.tokens().unwrap().refresh_token.expose_secret(), "rt-2", "kept in memory");
    assert_eq!(world.stored().refresh_token.expose_secret(), "rt-1");

    // The next run writes it again before handing anything out; it fails once more.
    let e = failed(world.run(&mut session));
    assert_eq!(e.rotated_refresh_token().unwrap().expose_secret(), "rt-2");
    // The store still holds the spent rt-1, which is *not* adopted: ours is newer.
    assert_eq!(ready(world.run(&mut session)).0, "at-2");
    assert_eq!(world.stored().refresh_token.expose_secret(), "rt-2");
    assert_eq!(world.sent.len(), 1, "the spent token was never sent again");
    assert_eq!(world.store.saves.load(Ordering::SeqCst), 3);
}

#[test]
fn a_broken_response_whose_rotated_token_cannot_be_written_reports_both() {
    // R18 rotated-token-survives-broken-response: the response breaks the protocol (no
    // token_type) but rotates the refresh token; writing it fails. The store error carries
    // the token and says what it came after.
    let body = json!({"access_token": "at-2", "refresh_token": "rt-2"}).to_string();
    let mut world = World::new(Some(stored("rt-1", Some("at-1"), Some(T0 - 1)))).reply(ok(body));
    world.store.fail_saves.store(1, Ordering::SeqCst);
    let mut session = Session::new(client());

    let mut e = failed(world.run(&mut session));
    assert_eq!(e.fault(), Fault::Store);
    let Error::Store(store) = &e else { panic!("a store error") };
    let after = store.after().expect("the failure it came after");
    assert_eq!(after.fault(), Fault::ServerProtocol, "{after}");
    assert!(after.rotated_refresh_token().is_none(), "the token lives in one place");
    let shown = e.to_string();
    assert!(
        shown.contains("disk full") && shown.contains("(after: ") && shown.contains("token_type"),
        "{shown}"
    );
    assert!(!shown.contains("rt-2") && !format!("{e:?}").contains("rt-2"), "never displayed");
    assert!(e.duplicate().to_string().contains("(after: "), "a waiter's copy says it too");
    assert_eq!(e.take_rotated_refresh_token().unwrap().expose_secret(), "rt-2");
    assert_eq!(session.tokens().unwrap().refresh_token.expose_secret(), "rt-2", "kept in memory");
}

#[test]
fn a_rewritten_set_never_hands_out_an_expired_access_token() {
    // Regression (fuzz target `session`): after a failed write, the set written again later
    // was handed out as if just refreshed, its access token long expired.
    let mut world = World::new(Some(stored("rt-1", None, None)))
        .reply(ok(success("at-2", Some("rt-2"), Some(60), None)))
        .reply(ok(success("at-3", Some("rt-3"), Some(3600), None)));
    world.store.fail_saves.store(1, Ordering::SeqCst);
    let mut session = Session::new(client());
    assert_eq!(failed(world.run(&mut session)).fault(), Fault::Store);
    world.now = t(T0 + 3600); // at-2 expired long ago
    assert_eq!(ready(world.run(&mut session)).0, "at-3", "rt-2 is written, then refreshed");
    assert_eq!(world.sent, vec![rt_body("rt-1"), rt_body("rt-2")]);
    assert_eq!(world.stored().refresh_token.expose_secret(), "rt-3");
}

#[test]
fn an_access_token_reported_invalid_while_its_set_is_written_stays_invalid() {
    // Regression (fuzz target `session`): a report that came while a copy of the current set
    // (here with a rotated refresh token from a broken response) was being written said
    // `true`, then the write put the old expiry back and the refused token was handed out.
    let set = stored("rt-1", Some("at-1"), Some(T0 + 30)); // within the margin: refreshed early
    let store = MemoryStore::with_tokens(set.clone());
    let mut session = Session::new(client()).with_tokens(set);
    assert!(matches!(session.poll(t(T0)), Action::Load));
    let mut guard = store.lock().unwrap();
    session.handle_loaded(guard.load()).unwrap();
    assert!(matches!(session.poll(t(T0)), Action::Send(_)));
    let broken = r#"{"access_token":"at-2","refresh_token":"rt-2","expires_in":"soon"}"#;
    session.handle_response(t(T0), &http::Response::new(broken)).unwrap();
    let Action::Store(tokens) = session.poll(t(T0)) else { panic!("expected Store") };
    assert!(session.handle_invalid_access_token(&AccessToken::new("at-1")), "an API refused at-1");
    session.handle_stored(guard.save(&tokens)).unwrap();
    let e = failed(session.poll(t(T0)));
    assert_eq!(e.fault(), Fault::ServerProtocol, "{e}");
    assert_eq!(session.tokens().unwrap().expires_at, None, "at-1 counts as expired");
    assert!(matches!(session.poll(t(T0)), Action::Load), "the next poll refreshes");
    session.handle_loaded(store.lock().unwrap().load()).unwrap();
    let Action::Send(request) = session.poll(t(T0)) else { panic!("expected Send") };
    assert_eq!(request.body(), rt_body("rt-2").as_bytes());
}

#[test]
fn an_unwritten_set_without_a_rotated_token_yields_to_a_rotation_by_another_process() {
    // Regression (fuzz target `session`): our refresh kept rt-1 (no rotation) and its write
    // failed; meanwhile another process refreshed with rt-1 and got rt-2. The session wrote
    // its unwritten set over rt-2 and sent the spent rt-1 (R25 lock-reread-adopt-newer).
    let mut world = World::new(Some(stored("rt-1", Some("at-1"), Some(T0 - 1)))).reply(ok(success(
        "at-2",
        None,
        Some(3600),
        None,
    )));
    world.store.fail_saves.store(1, Ordering::SeqCst);
    let mut session = Session::new(client());
    assert_eq!(failed(world.run(&mut session)).fault(), Fault::Store);
    world.store.inner.lock().unwrap().save(&stored("rt-2", Some("at-3"), Some(T0 + 3600))).unwrap();
    assert_eq!(ready(world.run(&mut session)).0, "at-3", "the newer stored set is adopted");
    assert_eq!(world.stored().refresh_token.expose_secret(), "rt-2", "not overwritten");
    assert_eq!(world.sent, vec![rt_body("rt-1")], "rt-1 is never sent again");
    // With a rotated token of our own unwritten, ours is newer still (tested above).
}

#[test]
fn a_store_read_failure_is_reported() {
    let mut session = Session::new(client());
    assert!(matches!(session.poll(t(T0)), Action::Load));
    session.handle_loaded(Err(std::io::Error::other("permission denied"))).unwrap();
    let e = failed(session.poll(t(T0)));
    assert_eq!(e.fault(), Fault::Store);
    assert!(e.to_string().contains("could not be read: permission denied"), "{e}");
    assert!(matches!(session.poll(t(T0)), Action::Load), "the next poll tries again");
}

// ---------------------------------------------------------------------------------------
// Retries (R26 transient-failures-retried-bounded)
// ---------------------------------------------------------------------------------------

#[test]
fn transient_failures_are_retried_three_attempts_in_all_with_bounded_jittered_backoff() {
    for seed in 0..200 {
        let mut world = World::new(Some(stored("rt-1", None, None)))
            .reply(status(503, "<html>busy</html>"))
            .reply(Reply::Fail(TransportErrorKind::Timeout))
            .reply(status(502, ""));
        let mut session = Session::new(client()).with_jitter_seed(seed);
        let e = failed(world.run(&mut session));
        assert_eq!(e.status().map(|s| s.as_u16()), Some(502), "the last failure is reported");
        assert_eq!(world.sent, vec![rt_body("rt-1"); 3], "3 attempts in all, the same token");
        assert_eq!(world.waits.len(), 2);
        let (first, second) = (world.waits[0], world.waits[1]);
        assert!(first >= Duration::from_millis(500) && first < Duration::from_secs(1), "{first:?}");
        assert!(second >= Duration::from_secs(1) && second < Duration::from_secs(2), "{second:?}");
        assert_eq!(world.stored(), stored("rt-1", None, None), "the old state stays intact");
    }
}

#[test]
fn the_jitter_differs_between_seeds() {
    let waits: std::collections::HashSet<Duration> = (0..50)
        .map(|seed| {
            let mut world = World::new(Some(stored("rt-1", None, None)))
                .reply(status(503, ""))
                .reply(ok(success("at", None, Some(60), None)));
            let mut session = Session::new(client()).with_jitter_seed(seed);
            let _ = ready(world.run(&mut session));
            world.waits[0]
        })
        .collect();
    assert!(waits.len() > 40, "{}", waits.len());
}

#[test]
fn a_retry_succeeds_and_backoff_and_attempts_are_configurable() {
    let mut world = World::new(Some(stored("rt-1", None, None)))
        .reply(Reply::Fail(TransportErrorKind::Connect))
        .reply(Reply::Fail(TransportErrorKind::Interrupted))
        .reply(status(500, "oops"))
        .reply(ok(success("at-2", Some("rt-2"), Some(3600), None)));
    let mut session = Session::new(client())
        .with_max_attempts(4)
        .with_backoff(Duration::from_secs(4), Duration::from_secs(6));
    assert_eq!(ready(world.run(&mut session)).0, "at-2");
    assert_eq!(world.sent.len(), 4);
    let bounds = [(2, 4), (3, 6), (3, 6)]; // 4 s, 8 s capped at 6 s, capped again; halved at most
    for (wait, (lo, hi)) in world.waits.iter().zip(bounds) {
        assert!(*wait >= Duration::from_secs(lo) && *wait < Duration::from_secs(hi), "{wait:?}");
    }
}

#[test]
fn retry_after_is_honoured_and_a_longer_one_ends_the_attempts() {
    let mut world = World::new(Some(stored("rt-1", None, None)))
        .reply(Reply::Http(429, r#"{"error":"slow_down"}"#.into(), vec![("retry-after", "7")]))
        .reply(ok(success("at-2", None, Some(3600), None)));
    let mut session = Session::new(client());
    assert_eq!(ready(world.run(&mut session)).0, "at-2");
    assert_eq!(world.waits, vec![Duration::from_secs(7)]);

    let mut world = World::new(Some(stored("rt-1", None, None))).reply(Reply::Http(
        503,
        "<html>maintenance</html>".into(),
        vec![("retry-after", "120")],
    ));
    let e = failed(world.run(&mut Session::new(client())));
    assert_eq!(e.retry_after_secs(), Some(120));
    assert_eq!(world.sent.len(), 1, "120 s is more than the longest backoff: no retry");
}

#[test]
fn final_failures_are_not_retried() {
    let cases = [
        status(400, r#"{"error":"invalid_scope"}"#),
        status(401, r#"{"error":"invalid_client"}"#),
        Reply::Fail(TransportErrorKind::Tls),
        Reply::Fail(TransportErrorKind::BodyTooLarge),
        Reply::Fail(TransportErrorKind::Redirect),
        status(200, r#"{"token_type":"Bearer"}"#),
    ];
    for reply in cases {
        let mut world = World::new(Some(stored("rt-1", None, None))).reply(reply);
        let e = failed(world.run(&mut Session::new(client())));
        assert!(!e.is_retryable(), "{e}");
        assert_eq!(world.sent.len(), 1, "{e}");
        assert_eq!(world.stored(), stored("rt-1", None, None), "{e}");
    }
    // temporarily_unavailable is an OAuth error that is retried.
    let mut world = World::new(Some(stored("rt-1", None, None)))
        .reply(status(503, r#"{"error":"temporarily_unavailable"}"#))
        .reply(ok(success("at", None, Some(60), None)));
    assert_eq!(ready(world.run(&mut Session::new(client()))).0, "at");
}

#[test]
fn a_failed_early_refresh_keeps_the_valid_token_and_cools_down() {
    // at-1 expires in 50 s: inside the margin, still valid.
    let set = stored("rt-1", Some("at-1"), Some(T0 + 50));
    let mut world = World::new(Some(set.clone())).reply(status(400, r#"{"error":"invalid_scope"}"#));
    let mut session = Session::new(client()).with_tokens(set);
    let Action::Ready { access_token, fresh_until, refresh_error: Some(e) } = world.run(&mut session) else {
        panic!("expected Ready with the refresh error")
    };
    assert_eq!(access_token.expose_secret(), "at-1");
    assert_eq!(e.oauth_error_code(), Some("invalid_scope"));
    assert!(fresh_until > world.now && fresh_until <= t(T0 + 50), "{fresh_until:?}");
    // No new attempt while cooling down...
    assert_eq!(ready(world.run(&mut session)).0, "at-1");
    assert_eq!(world.sent.len(), 1);
    // ...and once the token has expired, a refresh is attempted again.
    world.now = t(T0 + 50);
    world.server.push_back(ok(success("at-2", None, Some(3600), None)));
    assert_eq!(ready(world.run(&mut session)).0, "at-2");
    assert_eq!(world.sent.len(), 2);
}

#[test]
fn a_forced_refresh_refreshes_a_fresh_token_and_reports_its_failure() {
    let set = stored("rt-1", Some("at-1"), Some(T0 + 3600));
    // The store was refreshed by someone else meanwhile: forced still refreshes, with rt-2.
    let mut world = World::new(Some(stored("rt-2", Some("at-2"), Some(T0 + 3600))))
        .reply(ok(success("at-3", Some("rt-3"), Some(3600), None)))
        .reply(Reply::Fail(TransportErrorKind::Tls));
    let mut session = Session::new(client()).with_tokens(set);
    session.force_refresh();
    assert_eq!(ready(world.run(&mut session)).0, "at-3");
    assert_eq!(world.sent, vec![rt_body("rt-2")]);
    assert_eq!(ready(world.run(&mut session)).0, "at-3", "forced once");
    session.force_refresh();
    assert_eq!(failed(world.run(&mut session)).fault(), Fault::Transport, "a forced failure is reported");
    assert_eq!(ready(world.run(&mut session)).0, "at-3");
}

// ---------------------------------------------------------------------------------------
// invalid_grant (R11 oauth-error-details-kept), R18 rotated-token-survives-broken-response
// ---------------------------------------------------------------------------------------

#[test]
fn invalid_grant_ends_the_session_until_the_store_holds_another_grant() {
    let mut world = World::new(Some(stored("rt-1", Some("at-1"), Some(T0 - 1))))
        .reply(status(400, r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#));
    let mut session = Session::new(client());
    let Action::SignIn(e) = world.run(&mut session) else { panic!("expected SignIn") };
    assert!(e.is_reauth_required());
    // Every later poll says so, re-reading the store but never resending the dead token.
    for _ in 0..3 {
        let Action::SignIn(e) = world.run(&mut session) else { panic!("expected SignIn") };
        assert!(e.is_reauth_required(), "{e}");
    }
    assert_eq!(world.sent.len(), 1);
    assert_eq!(world.stored(), stored("rt-1", Some("at-1"), Some(T0 - 1)), "left as it was");
    // A new sign-in wrote another grant: the session picks it up.
    world.store.inner.lock().unwrap().save(&stored("rt-new", None, None)).unwrap();
    world.server.push_back(ok(success("at-new", Some("rt-new-2"), Some(3600), None)));
    assert_eq!(ready(world.run(&mut session)).0, "at-new");
    assert_eq!(world.sent.last(), Some(&rt_body("rt-new")));
}

#[test]
fn a_rotated_token_in_a_broken_response_is_stored_before_the_error_is_reported() {
    let mut world = World::new(Some(stored("rt-1", Some("at-1"), Some(T0 - 1))))
        .reply(ok(r#"{"access_token":"at-2","refresh_token":"rt-2","expires_in":"soon"}"#.into()));
    let mut session = Session::new(client());
    let e = failed(world.run(&mut session));
    assert_eq!(e.fault(), Fault::ServerProtocol, "{e}");
    assert_eq!(
        world.stored().refresh_token.expose_secret(),
        "rt-2",
        "R18 rotated-token-survives-broken-response: stored"
    );
    assert_eq!(world.stored().access_token, Some(AccessToken::new("at-1")), "not the broken response's");
    // The next refresh sends rt-2, never the spent rt-1.
    world.server.push_back(ok(success("at-3", Some("rt-3"), Some(3600), None)));
    assert_eq!(ready(world.run(&mut session)).0, "at-3");
    assert_eq!(world.sent, vec![rt_body("rt-1"), rt_body("rt-2")]);
}

// ---------------------------------------------------------------------------------------
// ID tokens (R20, R21): every check of §3.1.3.7 and §12.2, through the session
// ---------------------------------------------------------------------------------------

/// Refreshes once with `previous` as the stored ID token (its claims `base_claims`) and a
/// response carrying an ID token with `header` and `claims`.
fn refresh_with_id_token(
    client: ClientConfig,
    previous: Option<&Value>,
    header: &Value,
    claims: &Value,
) -> (World, Session, Action) {
    let mut set = stored("rt-1", None, None);
    set.id_token = previous.map(|p| IdToken::new(jwt(p)));
    let id_token = jwt_with_header(header, claims);
    let mut world =
        World::new(Some(set)).reply(ok(success("at-2", Some("rt-2"), Some(3600), Some(&id_token))));
    world.now = t(T0 + 10);
    let mut session = Session::new(client);
    let action = world.run(&mut session);
    (world, session, action)
}

fn rs256() -> Value {
    json!({"alg": "RS256"})
}

/// `base_claims` issued 10 s later, with `changes` applied (`null` removes a claim).
fn refreshed(changes: &Value) -> Value {
    let mut claims = base_claims();
    claims["iat"] = json!(T0 + 10);
    for (k, v) in changes.as_object().expect("changes are given as an object") {
        if v.is_null() {
            claims.as_object_mut().expect("the claims are an object").remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

#[test]
fn every_id_token_rule_passes_and_fails_through_the_session() {
    use IdTokenErrorKind as K;
    let multi = json!({"aud": ["app", "api"], "azp": "app"});
    // (what, previous claims changes, new claims changes, header, expected failure)
    let cases: Vec<(&str, Value, Value, Value, Option<K>)> = vec![
        // §12.2 continuity, against the previous ID token
        ("iss equal", json!({}), json!({}), rs256(), None),
        ("iss changed", json!({}), json!({"iss": "https://evil.example"}), rs256(), Some(K::IssuerChanged)),
        ("sub changed", json!({}), json!({"sub": "user-2"}), rs256(), Some(K::SubjectChanged)),
        (
            "aud same set, other order",
            multi.clone(),
            json!({"aud": ["api", "app"], "azp": "app"}),
            rs256(),
            None,
        ),
        ("aud another set", json!({}), multi.clone(), rs256(), Some(K::AudienceChanged)),
        ("azp absent in both", json!({}), json!({}), rs256(), None),
        ("azp equal", json!({"azp": "app"}), json!({"azp": "app"}), rs256(), None),
        ("azp appears", json!({}), json!({"azp": "app"}), rs256(), Some(K::AzpChanged)),
        ("auth_time equal", json!({}), json!({}), rs256(), None),
        ("auth_time changed", json!({}), json!({"auth_time": T0 - 50}), rs256(), Some(K::AuthTimeChanged)),
        ("iat in the same second", json!({}), json!({"iat": T0}), rs256(), None),
        ("iat earlier", json!({}), json!({"iat": T0 - 1}), rs256(), Some(K::IatEarlier)),
        ("nonce echoed", json!({}), json!({}), rs256(), None),
        ("nonce absent", json!({}), json!({"nonce": null}), rs256(), None),
        ("nonce changed", json!({}), json!({"nonce": "n-2"}), rs256(), Some(K::NonceChanged)),
        // §3.1.3.7
        ("aud lacks the client", json!({}), json!({"aud": "api"}), rs256(), Some(K::AudienceMismatch)),
        (
            "several aud without azp",
            multi.clone(),
            json!({"aud": ["app", "api"]}),
            rs256(),
            Some(K::AzpMismatch),
        ),
        ("exp within the leeway", json!({}), json!({"exp": T0 - 40}), rs256(), None),
        ("exp past", json!({}), json!({"exp": T0 - 60}), rs256(), Some(K::Expired)),
        ("iat in the future", json!({}), json!({"iat": T0 + 100}), rs256(), Some(K::IssuedInFuture)),
        ("alg none", json!({}), json!({}), json!({"alg": "none"}), Some(K::AlgNone)),
        ("crit header", json!({}), json!({}), json!({"alg": "RS256", "crit": ["x"]}), Some(K::CritHeader)),
        ("sub missing", json!({}), json!({"sub": null}), rs256(), Some(K::MissingClaim("sub"))),
        // Identity comes first whatever else fails too, so that nothing from a response
        // naming someone else is used (R18 rotated-token-survives-broken-response). Found by
        // the `session` fuzz target.
        (
            "another sub, expired",
            json!({}),
            json!({"sub": "user-2", "exp": T0 - 60}),
            rs256(),
            Some(K::SubjectChanged),
        ),
        (
            "another sub, alg none",
            json!({}),
            json!({"sub": "user-2"}),
            json!({"alg": "none"}),
            Some(K::SubjectChanged),
        ),
        (
            "another iss, crit header",
            json!({}),
            json!({"iss": "https://evil.example"}),
            json!({"alg": "RS256", "crit": ["x"]}),
            Some(K::IssuerChanged),
        ),
        (
            "aud lacks the client, exp missing",
            json!({}),
            json!({"aud": "api", "exp": null}),
            rs256(),
            Some(K::AudienceMismatch),
        ),
        (
            "another sub, iat in the future",
            json!({}),
            json!({"sub": "user-2", "iat": T0 + 100}),
            rs256(),
            Some(K::SubjectChanged),
        ),
        (
            "another sub, several aud without azp",
            multi.clone(),
            json!({"sub": "user-2", "aud": ["app", "api"]}),
            rs256(),
            Some(K::SubjectChanged),
        ),
    ];
    for (what, previous_changes, changes, header, expected) in cases {
        let mut previous = base_claims();
        for (k, v) in previous_changes.as_object().expect("changes are given as an object") {
            previous[k] = v.clone();
        }
        let claims = refreshed(&changes);
        let (world, session, action) = refresh_with_id_token(client(), Some(&previous), &header, &claims);
        match (expected, action) {
            (None, Action::Ready { .. }) => {
                assert_eq!(session.last_continuity(), Some(Continuity::Checked), "{what}");
                let new_id = world.stored().id_token.unwrap();
                assert_eq!(new_id.expose_secret(), jwt_with_header(&header, &claims), "{what}");
            }
            (Some(kind), Action::Failed(Error::IdToken(e))) => {
                assert_eq!(e.kind(), kind, "{what}");
                let rt = world.stored().refresh_token;
                if kind.is_identity_mismatch() {
                    assert_eq!(rt.expose_secret(), "rt-1", "{what}: nothing from the response is used");
                } else {
                    assert_eq!(
                        rt.expose_secret(),
                        "rt-2",
                        "{what}: the rotated token is kept (R18 rotated-token-survives-broken-response)"
                    );
                }
                assert_eq!(world.stored().access_token, None, "{what}: the access token is not");
                let kept = world.stored().id_token.unwrap();
                assert_eq!(kept.expose_secret(), jwt(&previous), "{what}: the baseline is kept");
            }
            (expected, action) => panic!("{what}: expected {expected:?}, got {action:?}"),
        }
    }
}

#[test]
fn the_configured_issuer_is_checked() {
    let issuer_client = || client().with_issuer("https://id.example");
    let (_, session, action) = refresh_with_id_token(issuer_client(), None, &rs256(), &refreshed(&json!({})));
    assert!(matches!(action, Action::Ready { .. }));
    assert_eq!(session.last_continuity(), Some(Continuity::NotChecked));
    let other = refreshed(&json!({"iss": "https://evil.example"}));
    let (world, _, action) = refresh_with_id_token(issuer_client(), None, &rs256(), &other);
    let Action::Failed(Error::IdToken(e)) = action else { panic!("expected an ID-token failure") };
    assert_eq!(e.kind(), IdTokenErrorKind::IssuerMismatch);
    assert_eq!(world.stored().refresh_token.expose_secret(), "rt-1");
}

#[test]
fn without_a_previous_id_token_continuity_is_not_checked_and_without_a_new_one_there_is_none() {
    let (world, session, action) = refresh_with_id_token(client(), None, &rs256(), &refreshed(&json!({})));
    assert!(matches!(action, Action::Ready { .. }));
    assert_eq!(session.last_continuity(), Some(Continuity::NotChecked), "not checked, never passed");
    // The new ID token becomes the baseline: the next refresh is checked against it.
    let baseline = world.stored().id_token.unwrap();
    let mut set = world.stored();
    set.expires_at = Some(T0);
    let next = jwt(&refreshed(&json!({"sub": "user-2"})));
    let mut world = World::new(Some(set)).reply(ok(success("at-3", None, Some(60), Some(&next))));
    world.now = t(T0 + 20);
    let mut session = Session::new(client());
    let Action::Failed(Error::IdToken(e)) = world.run(&mut session) else { panic!("expected a failure") };
    assert_eq!(e.kind(), IdTokenErrorKind::SubjectChanged);
    assert_eq!(world.stored().id_token.unwrap(), baseline);

    // A response without an ID token keeps the previous one (OIDC Core §12.2 allows it).
    let mut set = stored("rt-1", None, None);
    set.id_token = Some(IdToken::new(jwt(&base_claims())));
    let mut world = World::new(Some(set)).reply(ok(success("at-2", None, Some(60), None)));
    let mut session = Session::new(client());
    let _ = ready(world.run(&mut session));
    assert_eq!(session.last_continuity(), Some(Continuity::NoIdToken));
    assert_eq!(world.stored().id_token.unwrap().expose_secret(), jwt(&base_claims()));
}

// ---------------------------------------------------------------------------------------
// Scope, abandoned steps, Debug
// ---------------------------------------------------------------------------------------

#[test]
fn the_requested_scope_is_sent_and_granted_when_the_response_names_none() {
    let mut world =
        World::new(Some(stored("rt-1", None, None))).reply(ok(success("at", None, Some(60), None)));
    let mut session = Session::new(client()).with_scope("openid email");
    let _ = ready(world.run(&mut session));
    assert_eq!(
        world.sent,
        vec!["grant_type=refresh_token&refresh_token=rt-1&scope=openid+email&client_id=app"]
    );
    assert_eq!(world.stored().scope.as_deref(), Some("openid email"));
    // A bad scope is a local error: nothing is sent.
    let mut world = World::new(Some(stored("rt-1", None, None)));
    let e = failed(world.run(&mut Session::new(client()).with_scope("a  b")));
    assert_eq!(e.fault(), Fault::Caller);
    assert!(world.sent.is_empty());
}

#[test]
fn an_abandoned_step_is_recovered() {
    let store = MemoryStore::with_tokens(stored("rt-1", None, None));
    let mut session = Session::new(client());
    assert!(matches!(session.poll(t(T0)), Action::Load));
    session.handle_loaded(store.lock().unwrap().load()).unwrap();
    assert!(matches!(session.poll(t(T0)), Action::Send(_)));
    session.abandon(); // e.g. the driving task was cancelled
    let e = failed(session.poll(t(T0)));
    assert_eq!(e.fault(), Fault::Transport);
    assert!(matches!(session.poll(t(T0)), Action::Load), "a later poll starts afresh");

    // An abandoned store write counts as failed: the set is written again first.
    session.handle_loaded(store.lock().unwrap().load()).unwrap();
    assert!(matches!(session.poll(t(T0)), Action::Send(_)));
    session
        .handle_response(t(T0), &http::Response::new(success("at-2", Some("rt-2"), Some(60), None)))
        .unwrap();
    assert!(matches!(session.poll(t(T0)), Action::Store(_)));
    session.abandon();
    let e = failed(session.poll(t(T0)));
    assert_eq!(e.rotated_refresh_token().unwrap().expose_secret(), "rt-2");
    assert!(matches!(session.poll(t(T0)), Action::Load));
    session.handle_loaded(store.lock().unwrap().load()).unwrap();
    let Action::Store(set) = session.poll(t(T0)) else { panic!("expected Store") };
    assert_eq!(set.refresh_token.expose_secret(), "rt-2");
}

#[test]
fn handle_calls_out_of_turn_are_refused_and_change_nothing() {
    let set = stored("rt-1", Some("at-1"), Some(T0 + 3600));
    let mut session = Session::new(client()).with_tokens(set.clone());
    let out_of_step = [
        session.handle_response(t(T0), &http::Response::new(success("evil", Some("evil"), None, None))),
        session.handle_transport_error(t(T0), TransportError::from_kind(TransportErrorKind::Timeout).into()),
        session.handle_stored(Ok::<(), std::io::Error>(())),
        session.handle_loaded(Ok::<_, std::io::Error>(Some(stored("evil", Some("evil"), Some(T0 + 9999))))),
    ];
    let said: Vec<_> = out_of_step.iter().map(|r| r.map_err(|e| (e.input(), e.state()))).collect();
    assert_eq!(
        said,
        [
            Err(("handle_response", "idle")),
            Err(("handle_transport_error", "idle")),
            Err(("handle_stored", "idle")),
            Err(("handle_loaded", "idle")),
        ]
    );
    assert_eq!(session.tokens(), Some(&set));
    assert_eq!(ready(session.poll(t(T0))).0, "at-1");
}

#[test]
fn debug_never_shows_a_token() {
    let secrets = ["rt-secret-1", "at-secret-1", "rt-secret-2", "at-secret-2"];
    let store = MemoryStore::with_tokens(stored("rt-secret-1", Some("at-secret-1"), Some(T0)));
    let mut session = Session::new(client());
    let mut seen = vec![format!("{session:?}"), format!("{store:?}")];
    let a = session.poll(t(T0));
    seen.push(format!("{a:?}"));
    let mut guard = store.lock().unwrap();
    seen.push(format!("{guard:?}"));
    session.handle_loaded(guard.load()).unwrap();
    let a = session.poll(t(T0));
    seen.push(format!("{a:?} {session:?}"));
    session
        .handle_response(t(T0), &http::Response::new(success("at-secret-2", Some("rt-secret-2"), None, None)))
        .unwrap();
    let a = session.poll(t(T0));
    seen.push(format!("{a:?} {session:?}"));
    let Action::Store(set) = a else { panic!("expected Store") };
    session.handle_stored(guard.save(&set)).unwrap();
    let a = session.poll(t(T0));
    seen.push(format!("{a:?} {session:?}"));
    for text in &seen {
        for secret in secrets {
            assert!(!text.contains(secret), "{text}");
        }
    }
    assert!(seen[4].contains("Send(POST https://id.example/token"), "{}", seen[4]);
}

#[test]
fn duplicated_errors_keep_their_class_but_not_the_rotated_token() {
    let mut world = World::new(Some(stored("rt-1", None, None)))
        .reply(ok(r#"{"access_token":"at-2","refresh_token":"rt-2"}"#.into()));
    world.store.fail_saves.store(1, Ordering::SeqCst);
    let e = failed(world.run(&mut Session::new(client())));
    let copy = e.duplicate();
    assert_eq!(
        (copy.fault(), copy.to_string()),
        (e.fault(), e.to_string().replace("; the rotated refresh token is kept in memory", ""))
    );
    assert!(e.rotated_refresh_token().is_some() && copy.rotated_refresh_token().is_none());

    let e: Error = TransportError::new(TransportErrorKind::Timeout, "deadline").into();
    let copy = e.duplicate();
    assert_eq!((copy.fault(), copy.is_retryable(), copy.to_string()), (e.fault(), true, e.to_string()));
}

/// Drives a session from an expired stored set to its refresh's `Store` action: the request
/// sent holds `rt-1`, the response rotates it to `rt-2`.
fn session_about_to_store() -> Session {
    let mut session = Session::new(client());
    assert!(matches!(session.poll(t(T0)), Action::Load));
    session
        .handle_loaded(Ok::<_, std::io::Error>(Some(stored("rt-1", Some("at-1"), Some(T0 - 1)))))
        .expect("in step");
    let Action::Send(request) = session.poll(t(T0)) else { panic!("expected Send") };
    assert!(String::from_utf8_lossy(request.body()).contains("refresh_token=rt-1"));
    let response = http::Response::new(success("at-2", Some("rt-2"), Some(3600), None));
    session.handle_response(t(T0), &response).expect("in step");
    let Action::Store(set) = session.poll(t(T0)) else { panic!("expected Store") };
    assert_eq!(set.refresh_token.expose_secret(), "rt-2");
    session
}

#[test]
fn a_superseded_write_adopts_the_newer_stored_set_and_reports_the_rotated_token() {
    let mut session = session_about_to_store();
    // Another process stored a newer set meanwhile: the store refuses ours.
    session.handle_superseded().unwrap();
    assert!(session.tokens().is_none(), "ours is dropped, never written");
    assert!(matches!(session.poll(t(T0)), Action::Load), "the store's set is read again");
    let newer = stored("rt-3", Some("at-3"), Some(T0 + 3600));
    session.handle_loaded(Ok::<_, std::io::Error>(Some(newer.clone()))).unwrap();
    let Action::Ready { access_token, refresh_error, .. } = session.poll(t(T0)) else {
        panic!("expected Ready with the adopted token")
    };
    assert_eq!(access_token.expose_secret(), "at-3");
    assert_eq!(session.tokens(), Some(&newer));
    let e = refresh_error.expect("the refusal is reported");
    let Error::Store(store) = &e else { panic!("a store error: {e}") };
    assert!(store.is_superseded() && store.is_write(), "{e}");
    assert_eq!(e.rotated_refresh_token().map(RefreshToken::expose_secret), Some("rt-2"));
    // Reported once: the next poll is a plain Ready.
    assert_eq!(ready(session.poll(t(T0 + 1))).0, "at-3");
}

#[test]
fn a_lock_lost_before_sending_withdraws_the_request_and_reads_the_store_again() {
    let mut session = Session::new(client());
    assert!(matches!(session.poll(t(T0)), Action::Load));
    session.handle_loaded(Ok::<_, std::io::Error>(Some(stored("rt-1", Some("at-1"), Some(T0 - 1))))).unwrap();
    assert!(matches!(session.poll(t(T0)), Action::Send(_)));
    // Paused past its lease: the request is not sent, the store is locked and read again.
    session.handle_lock_lost().unwrap();
    assert!(matches!(session.poll(t(T0 + 40)), Action::Load));
    // The lease's next holder refreshed meanwhile: its set is adopted, nothing is sent.
    session
        .handle_loaded(Ok::<_, std::io::Error>(Some(stored("rt-2", Some("at-2"), Some(T0 + 3600)))))
        .unwrap();
    assert_eq!(ready(session.poll(t(T0 + 40))).0, "at-2");

    // Nobody refreshed meanwhile: the same refresh token is sent after the new lock.
    let mut session = Session::new(client());
    assert!(matches!(session.poll(t(T0)), Action::Load));
    session.handle_loaded(Ok::<_, std::io::Error>(Some(stored("rt-1", Some("at-1"), Some(T0 - 1))))).unwrap();
    assert!(matches!(session.poll(t(T0)), Action::Send(_)));
    session.handle_lock_lost().unwrap();
    assert!(matches!(session.poll(t(T0 + 40)), Action::Load));
    session.handle_loaded(Ok::<_, std::io::Error>(Some(stored("rt-1", Some("at-1"), Some(T0 - 1))))).unwrap();
    let Action::Send(request) = session.poll(t(T0 + 40)) else { panic!("expected Send") };
    assert!(String::from_utf8_lossy(request.body()).contains("refresh_token=rt-1"));
}

#[test]
fn superseded_and_lock_lost_out_of_step_are_refused() {
    let mut session = Session::new(client()).with_tokens(stored("rt-1", Some("at-1"), Some(T0 + 3600)));
    let e = session.handle_superseded().unwrap_err();
    assert_eq!((e.input(), e.state()), ("handle_superseded", "idle"));
    let mut storing = session_about_to_store();
    let e = storing.handle_lock_lost().unwrap_err();
    assert_eq!((e.input(), e.state()), ("handle_lock_lost", "storing"));
    assert_eq!(storing.tokens().map(|s| s.refresh_token.expose_secret()), Some("rt-1"), "unchanged");
}

#[test]
fn a_signed_out_session_forgets_its_tokens_and_asks_for_a_sign_in_while_the_store_is_empty() {
    let mut world = World::new(Some(stored("rt-1", Some("at-1"), Some(T0 + 3600))));
    let mut session = Session::new(client());
    assert_eq!(ready(world.run(&mut session)).0, "at-1");
    // Revoked and the store emptied (by the driver), then the session told.
    *world.store.inner.tokens.lock().unwrap() = None;
    session.sign_out();
    assert!(session.tokens().is_none());
    match world.run(&mut session) {
        Action::SignIn(e) => assert!(e.is_reauth_required(), "{e:?}"),
        other => panic!("expected SignIn, got {other:?}"),
    }
    assert!(world.sent.is_empty(), "nothing sent after a sign-out");
    // A new sign-in written to the store is picked up.
    world.store.inner.lock().unwrap().save(&stored("rt-2", Some("at-2"), Some(T0 + 3600))).unwrap();
    assert_eq!(ready(world.run(&mut session)).0, "at-2");
}
