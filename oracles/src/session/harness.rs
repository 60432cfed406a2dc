//! The `session` oracle's harness: the events an input drives, the session's answers checked
//! against the shadow model, and the model kept up to date.

use std::time::Duration;

use oidc_refresh_core::http::{Method, Request, Response};
use oidc_refresh_core::{
    AccessToken, Action, AuthResult, BodyFormat, ClientConfig, ConfigError, Error, Fault, IdToken,
    RefreshParams, RefreshToken, Session, TokenSet, TransportError, TransportErrorKind, UnixTime,
    build_refresh_request, check_refresh_response, decode_id_token, parse_refresh_response,
};
use serde_json::{Value, json};

use super::responses::base_claims;
use super::{
    CFG_EXPIRED, CFG_ID_TOKEN, CFG_ISSUER, CFG_JSON, CFG_SCOPE, CLIENT_ID, DRAIN_STEPS, ENDPOINT, Harness,
    ISSUER, OP_ABANDON, OP_FORCE, OP_INVALID_AT, OP_JUMP, OP_LOADED, OP_OTHER_PROCESS, OP_POLL, OP_POLL_AT,
    OP_POLL_NOW, OP_RESPOND, OP_STORED_ERR, OP_STORED_OK, OP_TRANSPORT, SCOPE, START_NEW, START_STALE,
    START_WITH_TOKENS, Seen, SessionStats, T0, Trace, mix, secs,
};
use crate::common::Reader;
use crate::reference::jose::base64url_encode;
use crate::reference::rfc6749::form_decode_component;
use crate::reference::session_model::{
    Failure, Model, Out, Report, Retry, StoreKind, names_another_identity,
};

impl Harness {
    pub(super) fn new(cfg: u8, timing: u8, seed: u8, trace: Option<Trace>) -> Self {
        let margin = [60, 0, 1, 300][usize::from(timing & 3)];
        let default_lifetime = secs([300, 0, 90, 86400][usize::from((timing >> 2) & 3)]);
        let max_attempts = [3, 1, 2, 5][usize::from((timing >> 4) & 3)];
        let (first_backoff, max_backoff) =
            [(1, 30), (0, 0), (4, 6), (1, 10 * 365 * 86400)][usize::from(timing >> 6)];
        let (first_backoff, max_backoff) = (secs(first_backoff), secs(max_backoff));
        let Ok(mut client) = ClientConfig::new(ENDPOINT, CLIENT_ID) else {
            panic!("a valid client configuration is refused")
        };
        if cfg & CFG_ISSUER != 0 {
            client = client.with_issuer(ISSUER);
        }
        let json_body = cfg & CFG_JSON != 0;
        if json_body {
            client = client.with_body_format(BodyFormat::Json);
        }
        let scope = (cfg & CFG_SCOPE != 0).then_some(SCOPE);
        let mut session = Session::new(client.clone())
            .with_refresh_margin(secs(margin))
            .with_default_lifetime(default_lifetime)
            .with_max_attempts(max_attempts)
            .with_backoff(first_backoff, max_backoff)
            .with_jitter_seed(mix(u64::from(seed)));
        if let Some(scope) = scope {
            session = session.with_scope(scope);
        }
        let mut h = Self {
            session,
            client,
            json_body,
            scope,
            default_lifetime,
            max_attempts,
            first_backoff,
            max_backoff: max_backoff.max(first_backoff),
            now: UnixTime::from_secs(T0),
            store: None,
            m: Model::default(),
            secrets: Vec::new(),
            access_tokens: Vec::new(),
            counter: 0,
            last_wait: None,
            last_fresh_until: None,
            stats: SessionStats::default(),
            trace,
        };
        h.note(|| format!("cfg {cfg:#04x} timing {timing:#04x} seed {seed}"));
        let mut initial = TokenSet::from_refresh_token(RefreshToken::new(h.secret("zqR")));
        let at = h.secret("zqA");
        h.access_tokens.push(at.clone());
        initial.access_token = Some(AccessToken::new(at));
        initial.token_type = Some("Bearer".to_owned());
        initial.expires_at = Some(if cfg & CFG_EXPIRED != 0 { T0 - 1 } else { T0 + 3600 });
        if cfg & CFG_ID_TOKEN != 0 {
            let claims = base_claims(T0 - 100);
            initial.id_token = Some(IdToken::new(h.jwt(&json!({"alg": "RS256", "typ": "JWT"}), &claims)));
        }
        match cfg & 3 {
            START_NEW => h.store = Some(initial),
            START_WITH_TOKENS => {
                h.session = std::mem::replace(&mut h.session, Session::new(h.client.clone()))
                    .with_tokens(initial.clone());
                h.m.current = Some(initial.clone());
                h.store = Some(initial);
            }
            START_STALE => {
                h.session = std::mem::replace(&mut h.session, Session::new(h.client.clone()))
                    .with_tokens(initial.clone());
                h.m.current = Some(initial.clone());
                h.store = Some(initial);
                h.other_process(0);
            }
            _ => {}
        }
        h.check_state();
        h
    }

    /// A new token, distinctive (34 token-like characters, masked by the error sanitiser)
    /// and never made twice.
    pub(super) fn secret(&mut self, kind: &str) -> String {
        self.counter += 1;
        let s = format!("{kind}{:016X}{:016X}", mix(self.counter), mix(!self.counter));
        self.secrets.push(s.clone());
        s
    }

    pub(super) fn jwt(&mut self, header: &Value, claims: &Value) -> String {
        let jwt = format!(
            "{}.{}.",
            base64url_encode(header.to_string().as_bytes()),
            base64url_encode(claims.to_string().as_bytes())
        );
        self.secrets.push(jwt.clone());
        jwt
    }

    fn note(&self, line: impl FnOnce() -> String) {
        if let Some(trace) = &self.trace {
            trace.borrow_mut().push(line());
        }
    }

    // ----------------------------------------------------------------------------------
    // Events
    // ----------------------------------------------------------------------------------

    pub(super) fn event(&mut self, r: &mut Reader<'_>) {
        let op = r.byte() % 16;
        self.note(|| format!("event {op} at {:?}; model out {:?}", self.now, self.m.out));
        match op {
            OP_POLL => {
                self.now = self.now + secs(u64::from(r.byte()));
                self.poll();
            }
            OP_POLL_AT => {
                let k = r.byte();
                if let Some(t) = self.interesting_time(k) {
                    self.now = t;
                }
                self.poll();
            }
            OP_JUMP => {
                let (k, n) = (r.byte(), u64::from(r.byte()));
                self.now = match k % 4 {
                    0 => self.now - secs(n * 60),
                    1 => self.now + secs(n * 3600),
                    2 => self.now + secs(1u64 << (n % 64)),
                    _ => self.now + Duration::from_millis(n),
                };
                self.poll();
            }
            OP_LOADED => {
                let v = r.byte();
                self.loaded(v);
            }
            OP_RESPOND => {
                let latency = r.byte();
                self.now = self.now + secs(u64::from(latency % 8));
                let response = self.template(r);
                self.respond(&response);
            }
            OP_TRANSPORT => {
                let latency = r.byte();
                self.now = self.now + secs(u64::from(latency % 64));
                let k = r.byte();
                let kinds = [
                    TransportErrorKind::Connect,
                    TransportErrorKind::Timeout,
                    TransportErrorKind::Tls,
                    TransportErrorKind::Redirect,
                    TransportErrorKind::BodyTooLarge,
                    TransportErrorKind::Interrupted,
                    TransportErrorKind::Other,
                ];
                let error = match kinds.get(usize::from(k % 8)) {
                    Some(&kind) => TransportError::from_kind(kind).into(),
                    None => ConfigError::InsecureUrl.into(),
                };
                self.transport_error(error);
            }
            OP_STORED_OK => self.stored(true),
            OP_STORED_ERR => self.stored(false),
            OP_INVALID_AT => {
                let w = r.byte();
                let at = match w % 3 {
                    0 => self.m.current.as_ref().and_then(|c| c.access_token.clone()),
                    1 => {
                        let i = usize::from(w / 3) % self.access_tokens.len().max(1);
                        self.access_tokens.get(i).map(|s| AccessToken::new(s.as_str()))
                    }
                    _ => None,
                };
                let at = at.unwrap_or_else(|| AccessToken::new("someone-else's-token"));
                self.invalidate(&at);
            }
            OP_FORCE => {
                self.session.force_refresh();
                self.m.forced = true;
            }
            OP_ABANDON => self.abandon(),
            OP_OTHER_PROCESS => {
                let v = r.byte();
                self.other_process(v);
            }
            OP_POLL_NOW => {
                self.poll();
            }
            _ => {
                self.step();
            }
        }
    }

    fn interesting_time(&self, k: u8) -> Option<UnixTime> {
        let expires_at = self.m.current.as_ref().and_then(|c| c.expires_at).map(UnixTime::from_secs);
        match k % 8 {
            0 => self.last_wait,
            1 => self.last_fresh_until,
            2 => self.last_fresh_until.map(|t| t - secs(1)),
            3 => expires_at,
            4 => expires_at.map(|t| t - secs(1)),
            5 => expires_at.map(|t| t - secs(60)),
            6 => expires_at.map(|t| t - secs(61)),
            _ => self.last_wait.map(|t| t - Duration::from_nanos(1)),
        }
    }

    /// The cooperative driver's next move: answer what is out, or poll (and follow a `Wait`).
    fn step(&mut self) -> Seen {
        match &self.m.out {
            Out::Load => {
                self.loaded(0);
                Seen::Other
            }
            Out::Send { .. } => {
                self.now = self.now + secs(1);
                let response = self.good_response(true, 12);
                self.respond(&response);
                Seen::Other
            }
            Out::Store { handed_out: true, .. } => {
                self.stored(true);
                Seen::Other
            }
            Out::Idle | Out::Store { .. } => {
                let seen = self.poll();
                if let Seen::Wait(until) = seen {
                    self.now = until;
                }
                seen
            }
        }
    }

    /// After the events: a cooperative driver reaches `Ready` or `SignIn`, in few steps.
    pub(super) fn drain(&mut self) {
        let mut failures = 0;
        for _ in 0..DRAIN_STEPS {
            match self.step() {
                Seen::Ready | Seen::SignIn => return,
                Seen::Failed => {
                    failures += 1;
                    assert!(
                        failures <= 2,
                        "a cooperative server and store, and still failing: {:?}",
                        self.session
                    );
                }
                Seen::Wait(_) | Seen::Other => {}
            }
            self.check_state();
        }
        panic!("no Ready or SignIn after {DRAIN_STEPS} cooperative steps: {:?} {:?}", self.session, self.m);
    }

    // ----------------------------------------------------------------------------------
    // poll
    // ----------------------------------------------------------------------------------

    fn poll(&mut self) -> Seen {
        let now = self.now;
        let action = self.session.poll(now);
        self.note(|| format!("  poll({now:?}) -> {action:?}"));
        self.check_text(&format!("{action:?}"));
        let just_refreshed = std::mem::take(&mut self.m.just_refreshed);

        // 1. Pending exactly while something is out; a set to write goes out first.
        match &mut self.m.out {
            Out::Load | Out::Send { .. } | Out::Store { handed_out: true, .. } => {
                assert!(
                    matches!(action, Action::Pending),
                    "{:?} is out, and poll said {action:?}",
                    self.m.out
                );
                self.stats.pending += 1;
                return Seen::Other;
            }
            Out::Store { set, handed_out, kind } => {
                let Action::Store(got) = &action else {
                    panic!("a set is to be written ({kind:?}), and poll said {action:?}")
                };
                assert!(got == &**set, "Store hands out another set than expected: {got:?}, not {set:?}");
                assert!(self.m.locked, "Store without the store's lock");
                *handed_out = true;
                self.check_store_set(got);
                self.stats.store += 1;
                return Seen::Other;
            }
            Out::Idle => {}
        }
        if let Action::Pending = action {
            panic!("Pending while nothing is out (one driver): {:?}", self.session);
        }

        // 6. A retry that is due: wait for it, or send it.
        if let Some(mut retry) = self.m.retry.take() {
            match action {
                Action::Wait(until) => {
                    assert!(until > now, "Wait({until:?}) is not in the future of {now:?}");
                    assert!(
                        until >= retry.earliest && until <= retry.latest,
                        "Wait({until:?}) outside [{:?}, {:?}]",
                        retry.earliest,
                        retry.latest
                    );
                    assert!(retry.until.is_none_or(|u| u == until), "the backoff moved: {retry:?} {until:?}");
                    retry.until = Some(until);
                    self.m.retry = Some(retry);
                    self.last_wait = Some(until);
                    self.stats.wait += 1;
                    return Seen::Wait(until);
                }
                Action::Send(request) => {
                    assert!(now >= retry.earliest, "retried at {now:?}, before {:?}", retry.earliest);
                    assert!(retry.until.is_none_or(|u| now >= u), "retried before the Wait it asked for");
                    self.on_send(&request, now, true);
                    return Seen::Other;
                }
                other => panic!("a retry was due ({retry:?}), and poll said {other:?}"),
            }
        }

        // 6. A failure that is due: reported, exactly.
        if let Some(report) = self.m.report.take() {
            let error = match &action {
                Action::Failed(e) | Action::SignIn(e) | Action::Ready { refresh_error: Some(e), .. } => e,
                other => panic!("the failure {report:?} must be reported now, and poll said {other:?}"),
            };
            assert_eq!(error.fault(), report.fault, "another error is reported: {error:?}, not {report:?}");
            if let Some(text) = &report.text {
                assert_eq!(&error.to_string(), text, "another error is reported");
            }
            assert_eq!(
                matches!(action, Action::SignIn(_)),
                report.reauth,
                "SignIn exactly for invalid_grant: {action:?}"
            );
            let carried = error.rotated_refresh_token().map(|t| t.expose_secret().to_owned());
            assert_eq!(
                carried, report.carries,
                "the reported error must carry the unwritten rotated refresh token"
            );
            if carried.is_some() {
                self.stats.rotated_surfaced += 1;
            }
        } else {
            match &action {
                Action::Failed(e) | Action::Ready { refresh_error: Some(e), .. } => {
                    // Only a local error of the request itself comes unannounced.
                    assert_eq!(e.fault(), Fault::Caller, "an unexpected failure is reported: {e:?}");
                    assert!(self.m.locked, "a request was built without the lock");
                    let cur = self.m.current.as_ref().unwrap_or_else(|| panic!("a request without tokens"));
                    assert!(
                        self.request_for(&cur.refresh_token).is_err(),
                        "the session refused a request the core builds: {e}"
                    );
                }
                Action::SignIn(e) => {
                    // The grant refused with `invalid_grant`, or none at all: both mean
                    // "sign in", and only these two.
                    assert!(e.is_reauth_required(), "a SignIn that does not ask to sign in: {e:?}");
                    let dead = self.m.signed_out && matches!(e, Error::Server(_));
                    let none = self.m.current.is_none() && matches!(e, Error::Config(ConfigError::NoTokens));
                    assert!(dead || none, "an unexpected SignIn: {e:?} with {:?}", self.m);
                }
                _ => {}
            }
        }

        match action {
            Action::Load => {
                assert!(!self.m.locked, "Load while the driver already holds the store's lock");
                self.m.out = Out::Load;
                self.stats.load += 1;
                Seen::Other
            }
            Action::Send(request) => {
                self.on_send(&request, now, false);
                Seen::Other
            }
            Action::Store(set) => {
                assert!(self.m.locked, "Store without the store's lock");
                assert!(self.m.dirty, "Store of a set that was written: {set:?}");
                assert_eq!(Some(&set), self.m.current.as_ref(), "a rewrite must write the set held");
                self.check_store_set(&set);
                self.m.out = Out::Store { set: Box::new(set), handed_out: true, kind: StoreKind::Rewrite };
                self.stats.store += 1;
                Seen::Other
            }
            Action::Wait(until) => panic!("Wait({until:?}) without a retry due"),
            Action::Ready { access_token, fresh_until, refresh_error } => {
                self.on_ready(&access_token, fresh_until, refresh_error.as_ref(), now, just_refreshed);
                self.release();
                Seen::Ready
            }
            Action::Failed(e) => {
                self.check_error(&e);
                self.stats.failed += 1;
                self.release();
                Seen::Failed
            }
            Action::SignIn(e) => {
                self.check_error(&e);
                self.stats.sign_in += 1;
                self.release();
                self.m.signed_out = true;
                Seen::SignIn
            }
            Action::Pending => Seen::Other,
            other => panic!("an unknown action: {other:?}"),
        }
    }

    /// The session said `Ready`, `Failed` or `SignIn`: the driver unlocks; a refresh ended.
    fn release(&mut self) {
        self.m.locked = false;
        self.m.forced = false;
        self.m.attempts = 0;
    }

    fn on_ready(
        &mut self,
        access_token: &AccessToken,
        fresh_until: UnixTime,
        refresh_error: Option<&Error>,
        now: UnixTime,
        just_refreshed: bool,
    ) {
        let m = &self.m;
        let Some(cur) = &m.current else { panic!("Ready without a token set") };
        assert_eq!(Some(access_token), cur.access_token.as_ref(), "Ready hands out another access token");
        assert!(!m.dirty, "Ready while the new set is not written (R24 store-before-handing-out)");
        assert!(!m.signed_out, "Ready after SignIn, with no new token set");
        assert!(m.unsaved.is_none(), "Ready while a rotated refresh token is not written");
        assert!(
            !m.invalidated.iter().any(|t| t == access_token.expose_secret()),
            "Ready hands out an access token reported invalid"
        );
        assert!(!m.forced, "Ready during a forced refresh");
        let Some(expires_at) = cur.expires_at.map(|whole| match m.exact_expiry {
            Some(exact) if exact.as_secs() == whole => exact,
            _ => UnixTime::from_secs(whole),
        }) else {
            panic!("Ready with an access token of unknown expiry")
        };
        if let Some(e) = refresh_error {
            self.check_error(e);
            assert!(now < expires_at, "Ready after a failed refresh with an expired access token");
            assert!(fresh_until > now && fresh_until <= expires_at, "fresh_until {fresh_until:?}");
            self.stats.ready_with_error += 1;
        } else if now >= expires_at {
            assert!(
                just_refreshed,
                "Ready hands out an access token expired at {now:?} (expires_at {expires_at:?})"
            );
            assert_eq!(fresh_until, now, "an expired access token is handed out once, never cached");
            self.stats.ready_expired_once += 1;
        } else {
            assert!(
                fresh_until >= now && fresh_until <= expires_at,
                "fresh_until {fresh_until:?} now {now:?}"
            );
            assert!(fresh_until > now || just_refreshed, "fresh_until is now, without a refresh");
            self.stats.ready += 1;
        }
        self.last_fresh_until = Some(fresh_until);
    }

    fn on_send(&mut self, request: &Request<Vec<u8>>, now: UnixTime, retry: bool) {
        let rt = self.sent_refresh_token(request);
        let m = &self.m;
        assert!(m.locked, "Send without the store's lock (R25 lock-reread-adopt-newer)");
        assert!(!m.dirty, "Send while a set is not written");
        assert!(m.unsaved.is_none(), "Send while a rotated refresh token is not written");
        assert!(!m.signed_out, "Send after SignIn, with no new token set");
        let Some(cur) = &m.current else { panic!("Send without a token set") };
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri().to_string(), ENDPOINT);
        assert_eq!(
            rt,
            cur.refresh_token.expose_secret(),
            "the request carries another refresh token than held"
        );
        assert!(!m.spent.contains(&rt), "a refresh token rotated away is sent again (R16)");
        assert!(
            !m.spent_elsewhere.contains(&rt),
            "a refresh token another process rotated away is sent (R25 lock-reread-adopt-newer)"
        );
        assert!(!m.dead.contains(&rt), "a refresh token refused with invalid_grant is sent again");
        assert!(!m.forbidden.contains(&rt), "a refresh token from another identity's response is sent");
        if retry {
            assert!(
                m.attempts >= 1 && m.attempts < self.max_attempts,
                "attempt {} of {}",
                m.attempts + 1,
                self.max_attempts
            );
        } else {
            assert_eq!(m.attempts, 0, "a new refresh while one is under way");
        }
        let previous = cur.id_token.as_ref().map(|t| t.expose_secret().to_owned());
        if let Some(p) = &previous {
            assert!(decode_id_token(p).is_ok(), "sent, though the previous ID token cannot be decoded");
        }
        if retry {
            self.stats.retry += 1;
        } else {
            self.stats.send += 1;
        }
        self.m.attempts += 1;
        self.m.out = Out::Send { rt, sent_at: now, previous };
    }

    /// The request body's `grant_type` and `refresh_token`, each exactly once.
    fn sent_refresh_token(&self, request: &Request<Vec<u8>>) -> String {
        let body = request.body();
        let pairs: Vec<(String, String)> = if self.json_body {
            let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
                panic!("the JSON request body is not an object")
            };
            map.into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned())).collect()
        } else {
            let Ok(text) = std::str::from_utf8(body) else { panic!("the form body is not UTF-8") };
            text.split('&')
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (form_decode_component(k), form_decode_component(v))
                })
                .collect()
        };
        let values =
            |name: &str| pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
        assert_eq!(values("grant_type"), ["refresh_token"], "grant_type");
        let scopes = values("scope");
        assert_eq!(scopes.first().map(String::as_str), self.scope, "the scope asked for");
        let rts = values("refresh_token");
        assert_eq!(rts.len(), 1, "one refresh_token");
        rts.into_iter().next().unwrap_or_default()
    }

    fn request_for(&self, rt: &RefreshToken) -> Result<Request<Vec<u8>>, ConfigError> {
        let mut params = RefreshParams::new(rt);
        if let Some(scope) = self.scope {
            params = params.scope(scope);
        }
        build_refresh_request(&self.client, &params)
    }

    /// Every set written holds no refresh token that must never be used.
    fn check_store_set(&self, set: &TokenSet) {
        let rt = set.refresh_token.expose_secret();
        assert!(
            !self.m.forbidden.iter().any(|f| f == rt),
            "a rotated refresh token from another identity is stored"
        );
        if let Some(unsaved) = &self.m.unsaved {
            assert_eq!(rt, unsaved, "a write while a rotated refresh token is owed must carry it");
        }
    }

    /// A reported error never shows a token and never hands over a forbidden one.
    fn check_error(&self, e: &Error) {
        self.check_text(&format!("{e} {e:?}"));
        if let Some(rt) = e.rotated_refresh_token() {
            let rt = rt.expose_secret();
            assert!(
                !self.m.forbidden.iter().any(|f| f == rt),
                "an error hands over another identity's token"
            );
        }
    }

    // ----------------------------------------------------------------------------------
    // handle_*
    // ----------------------------------------------------------------------------------

    fn loaded(&mut self, v: u8) {
        let result: Result<Option<TokenSet>, std::io::Error> = match v % 8 {
            2 => Err(std::io::Error::other("permission denied")),
            3..=6 => {
                self.other_process((v % 8 - 3) | (v >> 3) << 2);
                Ok(self.store.clone())
            }
            _ => Ok(self.store.clone()),
        };
        self.note(|| format!("  handle_loaded({result:?})"));
        if !matches!(self.m.out, Out::Load) {
            let refused = self.session.handle_loaded(result);
            assert!(refused.is_err(), "handle_loaded out of step was taken: {:?}", self.m.out);
            self.stats.ignored += 1;
            return;
        }
        // A newer stored set is adopted instead of sending a stale refresh token (R25).
        let adopted = match (&result, &self.m.current) {
            (Ok(Some(_)), None) => true,
            // An unwritten set is newer, unless another process rotated the refresh token
            // it holds (and it holds no rotated one of its own).
            (Ok(Some(stored)), Some(ours)) if self.m.dirty => {
                self.m.unsaved.is_none() && stored.refresh_token != ours.refresh_token
            }
            (Ok(Some(stored)), Some(ours)) => {
                stored.refresh_token != ours.refresh_token || stored.access_token != ours.access_token
            }
            _ => false,
        };
        let failed = result.is_err();
        let stored = result.as_ref().ok().cloned().flatten();
        self.session.handle_loaded(result).unwrap_or_else(|e| panic!("in step, yet {e}"));
        self.m.out = Out::Idle;
        self.m.attempts = 0;
        if failed {
            self.m.report = Some(Report { fault: Fault::Store, text: None, reauth: false, carries: None });
            return;
        }
        self.m.locked = true;
        if adopted {
            self.m.current = stored;
            self.m.exact_expiry = None;
            self.m.dirty = false;
            self.m.signed_out = false;
            self.stats.adopted += 1;
        }
    }

    fn respond(&mut self, response: &Response<Vec<u8>>) {
        let now = self.now;
        self.note(|| {
            let body = String::from_utf8_lossy(response.body());
            format!("  handle_response({now:?}, {} {body})", response.status())
        });
        if !matches!(self.m.out, Out::Send { .. }) {
            let refused = self.session.handle_response(now, response);
            assert!(refused.is_err(), "handle_response out of step was taken: {:?}", self.m.out);
            self.stats.ignored += 1;
            return;
        }
        let Out::Send { rt, sent_at, previous } = std::mem::take(&mut self.m.out) else { return };
        self.session.handle_response(now, response).unwrap_or_else(|e| panic!("in step, yet {e}"));
        let previous =
            previous.map(|p| decode_id_token(&p).unwrap_or_else(|e| panic!("previous ID token: {e}")));
        let outcome = check_refresh_response(&self.client, response, previous.as_ref(), now);
        // R18's exception, judged here from the claims, not by the validator.
        let parsed = parse_refresh_response(response);
        let other_identity = match &parsed {
            Ok(result) => result.id_token_payload().is_some_and(|claims| {
                names_another_identity(claims, previous.as_ref(), self.client.issuer(), CLIENT_ID)
            }),
            Err(_) => false,
        };
        match outcome {
            Ok((result, _)) => {
                assert!(!other_identity, "an ID token naming another issuer, subject or audience passed");
                let new = self.refreshed_set(&result, sent_at);
                let expiry = sent_at + result.expires_in().map_or(self.default_lifetime, secs);
                let rotated = new.refresh_token.expose_secret().to_owned();
                if rotated != rt {
                    self.rotated_away(&rt, &rotated);
                    self.stats.rotated += 1;
                }
                self.m.out = Out::Store {
                    set: Box::new(new),
                    handed_out: false,
                    kind: StoreKind::Refreshed { expiry },
                };
                self.m.forced = false;
                self.m.attempts = 0;
                self.stats.refreshed += 1;
            }
            Err(e) => {
                let kept = e.rotated_refresh_token().map(|t| t.expose_secret().to_owned());
                if other_identity {
                    match (&e, &kept) {
                        (_, None) => {
                            if let Ok(Some(carried)) = parsed
                                .as_ref()
                                .map(|r| r.refresh_token().map(|t| t.expose_secret().to_owned()))
                                && carried != rt
                            {
                                self.m.forbidden.push(carried);
                            }
                            self.stats.identity_discarded += 1;
                        }
                        _ => panic!(
                            "R18: the rotated refresh token of a response whose ID token names another \
                             issuer, subject or audience is kept: {e:?}"
                        ),
                    }
                } else if let (Ok(result), None) = (&parsed, &kept)
                    && result.refresh_token().is_some()
                {
                    panic!("R18: a rotated refresh token is dropped though the identity is the same: {e:?}");
                }
                match kept {
                    Some(rotated) => {
                        let Some(cur) = &self.m.current else { panic!("a response without a token set") };
                        let mut new = cur.clone();
                        new.refresh_token = RefreshToken::new(rotated.as_str());
                        if rotated != rt {
                            self.rotated_away(&rt, &rotated);
                        }
                        let report = Report { fault: e.fault(), text: None, reauth: false, carries: None };
                        self.m.out = Out::Store {
                            set: Box::new(new),
                            handed_out: false,
                            kind: StoreKind::Rotated(report),
                        };
                        self.stats.rotated_in_error += 1;
                    }
                    None => self.failed(&rt, Failure::of(&e)),
                }
            }
        }
    }

    /// The session now holds `rotated` instead of `rt`, not written yet.
    fn rotated_away(&mut self, rt: &str, rotated: &str) {
        self.m.spent.push(rt.to_owned());
        // A server may hand a token back: it is current again.
        for list in [&mut self.m.spent, &mut self.m.spent_elsewhere, &mut self.m.dead, &mut self.m.forbidden]
        {
            list.retain(|t| t != rotated);
        }
        self.m.unsaved = Some(rotated.to_owned());
    }

    /// The set after a successful refresh, built from the rules (16, 17, 22).
    fn refreshed_set(&self, result: &AuthResult, sent_at: UnixTime) -> TokenSet {
        let Some(cur) = &self.m.current else { panic!("a response without a token set") };
        let lifetime = result.expires_in().map_or(self.default_lifetime, secs);
        TokenSet {
            refresh_token: result.refresh_token().unwrap_or(&cur.refresh_token).clone(),
            access_token: Some(result.access_token().clone()),
            id_token: result.id_token().or(cur.id_token.as_ref()).cloned(),
            token_type: Some(result.token_type().to_owned()),
            scope: result.scope().or(self.scope).or(cur.scope.as_deref()).map(str::to_owned),
            expires_at: Some((sent_at + lifetime).as_secs()),
        }
    }

    /// A failure without a rotated refresh token: `SignIn`, a retry, or a report is due.
    fn failed(&mut self, rt: &str, f: Failure) {
        let now = self.now;
        if f.reauth {
            self.m.dead.push(rt.to_owned());
            self.m.report = Some(Report { fault: f.fault, text: Some(f.text), reauth: true, carries: None });
        } else if f.retryable && self.m.attempts < self.max_attempts && f.retry_after <= self.max_backoff {
            let doublings = self.m.attempts.saturating_sub(1).min(20);
            let backoff = self.first_backoff.saturating_mul(1 << doublings).min(self.max_backoff);
            let half = backoff.mul_f64(0.5).saturating_sub(Duration::from_micros(1));
            self.m.retry = Some(Retry {
                earliest: now + half.max(f.retry_after),
                latest: now + self.max_backoff,
                until: None,
            });
            self.stats.retry_due += 1;
        } else {
            self.m.report = Some(Report { fault: f.fault, text: Some(f.text), reauth: false, carries: None });
        }
    }

    fn transport_error(&mut self, error: Error) {
        if !matches!(self.m.out, Out::Send { .. }) {
            let refused = self.session.handle_transport_error(self.now, error);
            assert!(refused.is_err(), "handle_transport_error out of step was taken: {:?}", self.m.out);
            self.stats.ignored += 1;
            return;
        }
        let Out::Send { rt, .. } = std::mem::take(&mut self.m.out) else { return };
        let failure = Failure::of(&error);
        self.note(|| format!("  handle_transport_error({error})"));
        self.session.handle_transport_error(self.now, error).unwrap_or_else(|e| panic!("in step, yet {e}"));
        self.failed(&rt, failure);
    }

    fn stored(&mut self, ok: bool) {
        self.note(|| format!("  handle_stored(ok: {ok})"));
        if !matches!(self.m.out, Out::Store { handed_out: true, .. }) {
            let result = if ok { Ok(()) } else { Err(std::io::Error::other("disk full")) };
            let refused = self.session.handle_stored(result);
            assert!(refused.is_err(), "handle_stored out of step was taken: {:?}", self.m.out);
            self.stats.ignored += 1;
            return;
        }
        let Out::Store { set, kind, .. } = std::mem::take(&mut self.m.out) else { return };
        if ok {
            self.store = Some((*set).clone());
            self.session
                .handle_stored(Ok::<(), std::io::Error>(()))
                .unwrap_or_else(|e| panic!("in step, yet {e}"));
        } else {
            let failed = self.session.handle_stored(Err(std::io::Error::other("disk full")));
            failed.unwrap_or_else(|e| panic!("in step, yet {e}"));
        }
        self.after_store(*set, kind, ok);
    }

    fn after_store(&mut self, mut set: TokenSet, kind: StoreKind, ok: bool) {
        let rt = set.refresh_token.expose_secret().to_owned();
        if let StoreKind::Refreshed { expiry } = kind {
            self.m.exact_expiry = Some(expiry);
        } else if let Some(cur) = &self.m.current
            && cur.access_token == set.access_token
        {
            // A copy of the current set: an access token reported invalid meanwhile stays so.
            set.expires_at = cur.expires_at;
        }
        self.m.current = Some(set);
        if ok {
            self.m.dirty = false;
            if self.m.unsaved.as_deref() == Some(rt.as_str()) {
                self.m.unsaved = None;
                self.stats.rotation_stored += 1;
            }
            self.m.just_refreshed = matches!(kind, StoreKind::Refreshed { .. });
            if let StoreKind::Rotated(report) = kind {
                self.m.report = Some(report);
            }
        } else {
            self.m.dirty = true;
            self.m.report = Some(Report {
                fault: Fault::Store,
                text: None,
                reauth: false,
                carries: self.m.unsaved.clone(),
            });
            self.stats.store_failed += 1;
        }
    }

    fn invalidate(&mut self, at: &AccessToken) {
        let expected = self
            .m
            .current
            .as_ref()
            .is_some_and(|c| c.access_token.as_ref() == Some(at) && c.expires_at.is_some());
        let got = self.session.handle_invalid_access_token(at);
        assert_eq!(
            got, expected,
            "handle_invalid_access_token: true only for the first report of the current one"
        );
        if expected {
            if let Some(c) = &mut self.m.current {
                c.expires_at = None;
            }
            self.m.invalidated.push(at.expose_secret().to_owned());
            self.stats.invalidated += 1;
        }
    }

    fn abandon(&mut self) {
        self.session.abandon();
        match std::mem::take(&mut self.m.out) {
            Out::Send { .. } => {
                self.m.report =
                    Some(Report { fault: Fault::Transport, text: None, reauth: false, carries: None });
                self.stats.abandoned += 1;
            }
            Out::Store { set, kind, .. } => {
                self.after_store(*set, kind, false);
                self.stats.abandoned += 1;
            }
            Out::Load | Out::Idle => {}
        }
        self.m.retry = None;
        self.m.locked = false;
        self.m.attempts = 0;
    }

    /// Another process writes the store — never while this driver holds its lock.
    fn other_process(&mut self, v: u8) {
        if self.m.locked {
            return;
        }
        let usable = |m: &Model, s: &TokenSet| {
            let rt = s.refresh_token.expose_secret();
            ![&m.spent, &m.spent_elsewhere, &m.dead].iter().any(|list| list.iter().any(|t| t == rt))
        };
        let expires_at =
            [self.now + secs(3600), self.now + secs(30), self.now - secs(1), self.now + secs(90_000)]
                [usize::from((v >> 2) & 3)]
            .as_secs();
        let new = match (v % 4, self.store.clone()) {
            // Rotated: its refresh token is spent.
            (0, Some(old)) if usable(&self.m, &old) => {
                let mut set = TokenSet::from_refresh_token(RefreshToken::new(self.secret("zqR")));
                let at = self.secret("zqA");
                self.access_tokens.push(at.clone());
                set.access_token = Some(AccessToken::new(at));
                set.token_type = Some("Bearer".to_owned());
                set.scope.clone_from(&old.scope);
                set.expires_at = Some(expires_at);
                if old.id_token.is_some() {
                    let claims = base_claims(self.now.as_secs());
                    set.id_token = Some(IdToken::new(self.jwt(&json!({"alg": "RS256"}), &claims)));
                }
                self.m.spent_elsewhere.push(old.refresh_token.expose_secret().to_owned());
                Some(set)
            }
            // Refreshed without rotation.
            (1, Some(mut set)) if usable(&self.m, &set) => {
                let at = self.secret("zqA");
                self.access_tokens.push(at.clone());
                set.access_token = Some(AccessToken::new(at));
                set.expires_at = Some(expires_at);
                Some(set)
            }
            // A new sign-in.
            (2, _) => {
                let mut set = TokenSet::from_refresh_token(RefreshToken::new(self.secret("zqR")));
                if v & 16 != 0 {
                    let claims = base_claims(self.now.as_secs());
                    set.id_token = Some(IdToken::new(self.jwt(&json!({"alg": "RS256"}), &claims)));
                }
                Some(set)
            }
            // Signed out elsewhere.
            (3, _) => {
                self.store = None;
                self.m.spent_elsewhere.clear();
                self.stats.other_writes += 1;
                return;
            }
            _ => None,
        };
        if let Some(set) = new {
            self.store = Some(set);
            self.stats.other_writes += 1;
        }
    }

    // ----------------------------------------------------------------------------------
    // After every event
    // ----------------------------------------------------------------------------------

    pub(super) fn check_state(&self) {
        assert!(
            self.session.tokens() == self.m.current.as_ref(),
            "the session holds {:?}, the model {:?}",
            self.session.tokens(),
            self.m.current
        );
        if let Some(unsaved) = &self.m.unsaved {
            let pending = match &self.m.out {
                Out::Store { set, .. } => set.refresh_token.expose_secret() == unsaved,
                _ => false,
            };
            let held = self.m.current.as_ref().is_some_and(|c| c.refresh_token.expose_secret() == unsaved);
            assert!(pending || held, "the rotated refresh token is neither held nor being written");
        }
        self.check_text(&format!("{:?}", self.session));
    }

    /// 10. No token made here shows.
    fn check_text(&self, text: &str) {
        if text.contains("zq") || text.contains("eyJ") {
            for secret in &self.secrets {
                assert!(!text.contains(secret.as_str()), "a token shows in {text:?}");
            }
        }
    }
}
