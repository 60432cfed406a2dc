//! The `session` fuzz target: drives the sans-IO [`Session`] state machine with an arbitrary
//! sequence of events against a virtual clock, a simulated store shared with "other
//! processes", and a canned server, and checks its invariants after every step against a
//! small shadow model. Shared by `fuzz/fuzz_targets/session.rs`, the stable replay
//! (`tests/fuzz_corpora.rs`) and the seed generator (`fuzz/seedgen/tests/record.rs`), so it
//! uses only `oidc_refresh_core` and `serde_json`, and reads its input by hand.
//!
//! # Input
//!
//! `[cfg] ([timing] [seed] when cfg bit 6) event*`, every read past the end giving 0.
//!
//! - `cfg`: bits 0-1 the start ([`START_NEW`]: `Session::new`, the store holds the initial
//!   set; [`START_WITH_TOKENS`]: `with_tokens(initial)`, the store holds the same;
//!   [`START_STALE`]: `with_tokens(initial)` while another process already rotated it in the
//!   store; [`START_EMPTY`]: `Session::new` and an empty store); [`CFG_SCOPE`] asks for a
//!   scope; [`CFG_ISSUER`] configures the issuer; [`CFG_JSON`] the ReachFive JSON body;
//!   [`CFG_ID_TOKEN`] gives the initial set an ID token; [`CFG_TIMING`] reads `timing` and
//!   `seed`; [`CFG_EXPIRED`] makes the initial access token expired (else it lives an hour).
//! - `timing`: bits 0-1 the refresh margin (60, 0, 1, 300 s), 2-3 the default lifetime (300,
//!   0, 90, 86400 s), 4-5 the attempts (3, 1, 2, 5), 6-7 the backoff (1-30 s, 0-0, 4-6 s,
//!   1 s-10 years); `seed` the jitter seed.
//! - events, `op % 16` (see the `OP_*` constants): poll after advancing the clock; poll at
//!   an interesting time (the last `Wait`, the last `fresh_until`, around `expires_at`); jump
//!   the clock backwards or far ahead; a cooperative step (answer what is out, or poll and
//!   follow a `Wait`); `handle_loaded` with the store's content, a read error, or after
//!   another process rotated, refreshed without rotating, signed in anew or emptied the
//!   store; `handle_response` with a template (`R_*`); `handle_transport_error`;
//!   `handle_stored` ok or failed; `handle_invalid_access_token` with the current, a stale
//!   or an unknown access token; `force_refresh`; `abandon`; another process writing the
//!   store. `handle_*` calls out of turn are made too (the session must ignore them).
//!
//! After the events, a cooperative driver must reach `Ready` or `SignIn` within
//! [`DRAIN_STEPS`] steps (no endless loop of refreshes, no stuck state).
//!
//! # Invariants (each a panic when broken)
//!
//! 1. `poll` returns `Pending` exactly while a `Load`, `Send` or `Store` is out, and a
//!    `Store` the session has to hand out is handed out first.
//! 2. One driver, one lock: `Load` only when the driver holds no lock; `Send` and `Store`
//!    only under the lock (after an accepted `handle_loaded(Ok)`, before the session said
//!    `Ready`, `Failed` or `SignIn`); at most one request in flight.
//! 3. The request is a POST to the token endpoint with exactly one
//!    `grant_type=refresh_token` and one `refresh_token`: the one the session holds (the last
//!    adopted or stored), never one that was rotated away, refused with `invalid_grant`, or
//!    came with an ID token naming another identity.
//! 4. The session's token set is exactly the model's after every event: a stored set with
//!    another refresh or access token is adopted (rule 25); an unwritten set yields only to
//!    one with another refresh token, and never when it holds a rotated refresh token of its
//!    own; a refresh gives the rotated or previous refresh token, the new access token,
//!    `expires_at = sent_at + expires_in` (or the default lifetime), the new or previous ID
//!    token, the granted, requested or previous scope (rules 16, 17, 22); failures leave it
//!    intact (rule 26); an access token reported invalid stays so.
//! 5. Never lose a rotated refresh token (rules 16, 18, 24): a response carrying one is
//!    followed by `Store` of exactly the expected set holding it; if that write fails (or is
//!    abandoned) the next reported error carries it, the set is rewritten before anything
//!    else, and nothing is sent or handed out meanwhile. A rotated token from a response
//!    whose ID token names another issuer, subject or audience (judged here from the claims)
//!    is never stored nor handed over, whatever else fails with it.
//! 6. Failures are reported, not swallowed: the exact error, with `SignIn` for
//!    `invalid_grant` only; transient ones are retried at most `max_attempts` in all, never
//!    before `Retry-After` nor half the backoff, never later than the longest backoff; final
//!    ones are not retried.
//! 7. `Ready` hands out the current access token, never while a write is owed, after
//!    `SignIn`, during a forced refresh, or after it was reported invalid; never expired at
//!    `now` except once right after the refresh that obtained it; `fresh_until` is not past
//!    the expiry. `Wait` is always in the future.
//! 8. After `SignIn`, nothing is sent and nothing handed out until the store gives another
//!    token set.
//! 9. `handle_invalid_access_token` is `true` only for the first report of the current one.
//! 10. `Debug` of the session and of every action, and `Display` of every reported error,
//!     never show a token made here.

use std::time::Duration;

use oidc_refresh_core::http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use oidc_refresh_core::{
    AccessToken, Action, AuthResult, BodyFormat, ClientConfig, ConfigError, Error, Fault, IdToken,
    IdTokenPayload, RefreshParams, RefreshToken, Session, TokenSet, TransportError, TransportErrorKind,
    UnixTime, build_refresh_request, check_refresh_response, decode_id_token, parse_refresh_response,
};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------
// Input format
// ---------------------------------------------------------------------------------------

/// `cfg` bits 0-1: `Session::new`, the store holds the initial set.
pub(crate) const START_NEW: u8 = 0;
/// `cfg` bits 0-1: `with_tokens(initial)`, the store holds the same set.
pub(crate) const START_WITH_TOKENS: u8 = 1;
/// `cfg` bits 0-1: `with_tokens(initial)`, but another process already rotated it.
pub(crate) const START_STALE: u8 = 2;
/// `cfg` bits 0-1: `Session::new` and an empty store.
pub(crate) const START_EMPTY: u8 = 3;
/// `cfg`: ask for [`SCOPE`] on every refresh.
pub(crate) const CFG_SCOPE: u8 = 1 << 2;
/// `cfg`: configure the issuer [`ISSUER`].
pub(crate) const CFG_ISSUER: u8 = 1 << 3;
/// `cfg`: ReachFive's JSON request body.
pub(crate) const CFG_JSON: u8 = 1 << 4;
/// `cfg`: the initial token set has an ID token.
pub(crate) const CFG_ID_TOKEN: u8 = 1 << 5;
/// `cfg`: a `timing` byte and a jitter `seed` byte follow.
pub(crate) const CFG_TIMING: u8 = 1 << 6;
/// `cfg`: the initial access token has expired (otherwise it lives an hour).
pub(crate) const CFG_EXPIRED: u8 = 1 << 7;

/// `[adv]`: advance the clock by `adv` seconds, then poll.
pub(crate) const OP_POLL: u8 = 0;
/// `[k]`: set the clock to an interesting time (`k % 8`: the last `Wait`, the last
/// `fresh_until`, one second before it, `expires_at`, one second before, 60 s before,
/// 61 s before, one nanosecond before the last `Wait`), then poll.
pub(crate) const OP_POLL_AT: u8 = 1;
/// `[k] [n]`: `k % 4`: back `n` minutes, ahead `n` hours, ahead `2^(n % 64)` s, ahead `n`
/// milliseconds; then poll.
pub(crate) const OP_JUMP: u8 = 2;
/// A cooperative step: answer what is out (store content, a good rotating response, a
/// successful write), else poll and follow a `Wait`.
pub(crate) const OP_STEP: u8 = 3;
/// `[v]`: `handle_loaded` (`v % 8`: 0, 1, 7 the store's content; 2 a read error; 3 another
/// process rotated first; 4 another process refreshed without rotating; 5 a new sign-in
/// was stored; 6 the store was emptied; `v >> 3` picks the other process's expiry).
pub(crate) const OP_LOADED: u8 = 4;
/// `[latency] [template] params…`: `handle_response` (see the `R_*` templates).
pub(crate) const OP_RESPOND: u8 = 5;
/// `[latency] [k]`: `handle_transport_error` (`k % 8`: connect, timeout, TLS, redirect,
/// body too large, interrupted, other, a refused URL).
pub(crate) const OP_TRANSPORT: u8 = 6;
/// `handle_stored(Ok)`, the store now holds the set.
pub(crate) const OP_STORED_OK: u8 = 7;
/// `handle_stored(Err)`.
pub(crate) const OP_STORED_ERR: u8 = 8;
/// `[w]`: `handle_invalid_access_token` (`w % 3`: the current one, a stale one, an unknown one).
pub(crate) const OP_INVALID_AT: u8 = 9;
/// `force_refresh`.
pub(crate) const OP_FORCE: u8 = 10;
/// `abandon`.
pub(crate) const OP_ABANDON: u8 = 11;
/// `[v]`: another process writes the store (`v % 4`: rotated, refreshed without rotating,
/// new sign-in, emptied; `v >> 2` picks the expiry), unless this driver holds the lock.
pub(crate) const OP_OTHER_PROCESS: u8 = 12;
/// Ops 13 and 14 are cooperative steps too; 15 polls without moving the clock.
pub(crate) const OP_POLL_NOW: u8 = 15;

/// `[flags] [c1] [c2]`: a good response. `flags`: bit 0 a rotated refresh token, bit 1 an
/// ID token (claims from `c1`, `c2`: see [`id_token_claims`]), bit 2 a scope, bits 3-6
/// `expires_in` ([`EXPIRES_IN`]), bit 7 `token_type: bearer`.
pub(crate) const R_SUCCESS: u8 = 0;
/// `[flags] [c1] [c2] [b]`: a rotating 200 broken in another way (`b % 8`: `expires_in`
/// "soon", no `token_type`, no `access_token`, an empty one, a repeated member, trailing
/// garbage, a malformed ID token, a number as `scope`): rule 18.
pub(crate) const R_BROKEN: u8 = 3;
/// `[s]`: `invalid_grant` (status 400, 401 or 200; sometimes beside a `refresh_token`).
pub(crate) const R_INVALID_GRANT: u8 = 4;
/// `invalid_request` whose description echoes the refresh token sent.
pub(crate) const R_INVALID_REQUEST: u8 = 5;
/// `[s] [ra]`: a 5xx HTML page echoing the refresh token, maybe with `Retry-After`.
pub(crate) const R_HTML_5XX: u8 = 6;
/// `[ra] [b]`: 429 with `Retry-After` ([`RETRY_AFTERS`]), JSON `slow_down` or no body.
pub(crate) const R_429: u8 = 7;
/// `[ra]`: 503 `temporarily_unavailable`, maybe with `Retry-After`.
pub(crate) const R_UNAVAILABLE: u8 = 8;
/// `[flags] [c1] [c2] [cut]`: a good response cut short.
pub(crate) const R_TRUNCATED: u8 = 9;
/// `[s] [len] bytes…`: a raw body from the input with status [`RAW_STATUSES`]`[s % 10]`.
pub(crate) const R_RAW: u8 = 10;
/// A 200 carrying `error: invalid_grant` beside an access token.
pub(crate) const R_ERROR_IN_200: u8 = 11;
/// `[s]`: another final OAuth error (`invalid_client` 401, `invalid_scope` 400, ...).
pub(crate) const R_OTHER_ERROR: u8 = 12;
/// `[flags]`: a 200 rotating to a malformed refresh token.
pub(crate) const R_BAD_REFRESH_TOKEN: u8 = 13;
/// `[s]`: an odd status (204 empty, 302, 201 with a good body, 304).
pub(crate) const R_ODD_STATUS: u8 = 14;

/// `expires_in` choices of a good response (`None`: absent; `Some(None)`: the string "3599").
pub(crate) const EXPIRES_IN: [Option<Option<u64>>; 16] = [
    None,
    Some(Some(0)),
    Some(Some(1)),
    Some(Some(2)),
    Some(Some(30)),
    Some(Some(59)),
    Some(Some(60)),
    Some(Some(61)),
    Some(Some(119)),
    Some(Some(120)),
    Some(Some(300)),
    Some(None),
    Some(Some(3600)),
    Some(Some(86400)),
    Some(Some(u64::MAX)),
    Some(Some(3600)),
];
/// `Retry-After` choices.
pub(crate) const RETRY_AFTERS: [&str; 8] =
    ["0", "1", "7", "30", "31", "120", "Wed, 21 Oct 2015 07:28:00 GMT", " 3 "];
/// Statuses of a raw response.
pub(crate) const RAW_STATUSES: [u16; 10] = [200, 200, 201, 400, 401, 429, 500, 502, 503, 302];

/// The token endpoint.
pub(crate) const ENDPOINT: &str = "https://id.example/token";
/// The client id.
pub(crate) const CLIENT_ID: &str = "app";
/// The configured issuer (with [`CFG_ISSUER`]) and the `iss` of good ID tokens.
pub(crate) const ISSUER: &str = "https://id.example";
/// The scope asked for with [`CFG_SCOPE`].
pub(crate) const SCOPE: &str = "openid offline_access";
/// The start of the virtual clock.
pub(crate) const T0: u64 = 1_700_000_000;
/// Events read at most.
pub(crate) const MAX_EVENTS: usize = 256;
/// Cooperative steps the final drive may take to reach `Ready` or `SignIn`.
pub(crate) const DRAIN_STEPS: usize = 32;

/// Reads structure out of fuzz bytes: every read succeeds (zeros once the bytes run out).
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn chunk(&mut self) -> &'a [u8] {
        let len = usize::from(self.byte()).min(self.0.len());
        let (head, tail) = self.0.split_at(len);
        self.0 = tail;
        head
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Builds an input (for the seeds): `cfg`, then events.
#[derive(Clone, Debug)]
pub(crate) struct Script(Vec<u8>);

impl Script {
    /// An input starting with `cfg` (without [`CFG_TIMING`]).
    pub(crate) fn new(cfg: u8) -> Self {
        Self(vec![cfg & !CFG_TIMING])
    }
    /// An input starting with `cfg`, `timing` and `seed`.
    pub(crate) fn with_timing(cfg: u8, timing: u8, seed: u8) -> Self {
        Self(vec![cfg | CFG_TIMING, timing, seed])
    }
    /// Appends an event: `op` and its parameter bytes.
    #[must_use]
    pub(crate) fn op(mut self, op: u8, params: &[u8]) -> Self {
        self.0.push(op);
        self.0.extend_from_slice(params);
        self
    }
    /// Appends `n` cooperative steps.
    #[must_use]
    pub(crate) fn steps(mut self, n: usize) -> Self {
        self.0.extend(std::iter::repeat_n(OP_STEP, n));
        self
    }
    /// The input.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

// ---------------------------------------------------------------------------------------
// The target
// ---------------------------------------------------------------------------------------

/// The whole body of the `session` fuzz target.
pub(crate) fn session(data: &[u8]) {
    let _ = run_session(data);
}

/// What one input reached (for the seeds, which must reach the paths they are meant for).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SessionStats {
    /// Events read.
    pub(crate) events: u32,
    /// `Ready` without an error.
    pub(crate) ready: u32,
    /// `Ready` with the error of a failed early refresh.
    pub(crate) ready_with_error: u32,
    /// `Ready` with an access token already expired, once right after its refresh.
    pub(crate) ready_expired_once: u32,
    /// `Load`.
    pub(crate) load: u32,
    /// `Send`, first attempts.
    pub(crate) send: u32,
    /// `Send`, retries.
    pub(crate) retry: u32,
    /// `Store`.
    pub(crate) store: u32,
    /// `Wait`.
    pub(crate) wait: u32,
    /// `Pending`.
    pub(crate) pending: u32,
    /// `Failed`.
    pub(crate) failed: u32,
    /// `SignIn`.
    pub(crate) sign_in: u32,
    /// A newer stored set adopted.
    pub(crate) adopted: u32,
    /// A successful response handled.
    pub(crate) refreshed: u32,
    /// A successful response that rotated the refresh token.
    pub(crate) rotated: u32,
    /// A broken response whose rotated refresh token was kept (rule 18).
    pub(crate) rotated_in_error: u32,
    /// A rotated refresh token written by a successful `handle_stored`.
    pub(crate) rotation_stored: u32,
    /// A failed write or an abandoned one.
    pub(crate) store_failed: u32,
    /// A reported error carrying an unwritten rotated refresh token.
    pub(crate) rotated_surfaced: u32,
    /// A rotated refresh token dropped because the ID token named another identity.
    pub(crate) identity_discarded: u32,
    /// A failure after which a retry was due.
    pub(crate) retry_due: u32,
    /// `handle_invalid_access_token` returning `true`.
    pub(crate) invalidated: u32,
    /// `abandon` with something out.
    pub(crate) abandoned: u32,
    /// `handle_*` calls out of turn (ignored).
    pub(crate) ignored: u32,
    /// Another process wrote the store.
    pub(crate) other_writes: u32,
}

/// Runs one input and returns what it reached; panics when an invariant fails.
pub(crate) fn run_session(data: &[u8]) -> SessionStats {
    run(data, None)
}

/// Runs one input, recording every event and every answer of the session: the trace up to
/// the end, or up to the failed invariant (whose message is its last line). For analysing
/// a crash.
pub(crate) fn trace_session(data: &[u8]) -> Vec<String> {
    let trace = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(data, Some(trace.clone()))));
    let mut lines = trace.take();
    if let Err(panic) = outcome {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        lines.push(format!("FAILED: {message}"));
    }
    lines
}

type Trace = std::rc::Rc<std::cell::RefCell<Vec<String>>>;

fn run(data: &[u8], trace: Option<Trace>) -> SessionStats {
    let mut r = Reader(data);
    let cfg = r.byte();
    let (timing, seed) = if cfg & CFG_TIMING != 0 { (r.byte(), r.byte()) } else { (0, 0) };
    let mut h = Harness::new(cfg, timing, seed, trace);
    while !r.is_empty() && (h.stats.events as usize) < MAX_EVENTS {
        h.stats.events += 1;
        h.event(&mut r);
        h.check_state();
    }
    h.drain();
    h.stats
}

// ---------------------------------------------------------------------------------------
// The shadow model
// ---------------------------------------------------------------------------------------

/// What the session has handed out and not had reported back.
#[derive(Debug, Default)]
enum Out {
    #[default]
    Idle,
    Load,
    /// A request with refresh token `rt`, sent at `sent_at`, with `previous` the ID token the
    /// new one is checked against.
    Send {
        rt: String,
        sent_at: UnixTime,
        previous: Option<String>,
    },
    /// A set to write; `handed_out` once `Store` said so.
    Store {
        set: Box<TokenSet>,
        handed_out: bool,
        kind: StoreKind,
    },
}

#[derive(Debug)]
enum StoreKind {
    /// The set of a successful refresh, whose access token expires exactly at `expiry`
    /// (`sent_at + lifetime`; the set keeps whole seconds).
    Refreshed { expiry: UnixTime },
    /// The previous set with a rotated refresh token from a broken response, whose error is
    /// reported once the set is written.
    Rotated(Report),
    /// A set whose earlier write failed, written again.
    Rewrite,
}

/// An error the next poll must report.
#[derive(Debug, Clone)]
struct Report {
    fault: Fault,
    /// Its `Display`, when known exactly.
    text: Option<String>,
    /// `SignIn` rather than `Failed`/`Ready`.
    reauth: bool,
    /// The rotated refresh token it must carry (exactly: `None` means none).
    carries: Option<String>,
}

/// A retry the session owes: the next poll says `Wait` or sends.
#[derive(Debug, Clone, Copy)]
struct Retry {
    earliest: UnixTime,
    latest: UnixTime,
    until: Option<UnixTime>,
}

/// What the model needs of a failure without a rotated refresh token.
struct Failure {
    fault: Fault,
    text: String,
    reauth: bool,
    retryable: bool,
    retry_after: Duration,
}

impl Failure {
    fn of(e: &Error) -> Self {
        Self {
            fault: e.fault(),
            text: e.to_string(),
            reauth: e.is_reauth_required(),
            retryable: e.is_retryable(),
            retry_after: secs(e.retry_after_secs().unwrap_or(0)),
        }
    }
}

#[derive(Debug, Default)]
struct Model {
    /// The token set the session must hold.
    current: Option<TokenSet>,
    out: Out,
    /// The driver holds the store's lock.
    locked: bool,
    /// `current` still has to be written.
    dirty: bool,
    /// `SignIn` was said and no other token set came since.
    signed_out: bool,
    forced: bool,
    /// The last event was a successful write of a refreshed set.
    just_refreshed: bool,
    /// Requests sent in the refresh under way.
    attempts: u32,
    retry: Option<Retry>,
    report: Option<Report>,
    /// A rotated refresh token not written yet.
    unsaved: Option<String>,
    /// Refresh tokens this session rotated away: never sent again.
    spent: Vec<String>,
    /// Refresh tokens another process rotated away while the store shows their successor:
    /// never sent again (once the store is emptied, the session cannot know).
    spent_elsewhere: Vec<String>,
    /// Refresh tokens refused with `invalid_grant`: never sent again.
    dead: Vec<String>,
    /// Rotated refresh tokens of responses whose ID token named another identity: never used.
    forbidden: Vec<String>,
    /// Access tokens reported invalid: never handed out again.
    invalidated: Vec<String>,
    /// The exact expiry of the current access token when this session obtained it (the
    /// set keeps it rounded down to whole seconds): the margin counts from it.
    exact_expiry: Option<UnixTime>,
}

/// What a poll said, for the cooperative driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Ready,
    Failed,
    SignIn,
    Wait(UnixTime),
    Other,
}

struct Harness {
    session: Session,
    client: ClientConfig,
    json_body: bool,
    scope: Option<&'static str>,
    default_lifetime: Duration,
    max_attempts: u32,
    first_backoff: Duration,
    max_backoff: Duration,
    now: UnixTime,
    store: Option<TokenSet>,
    m: Model,
    /// Every token made here: none may ever show in `Debug` or `Display`.
    secrets: Vec<String>,
    access_tokens: Vec<String>,
    counter: u64,
    last_wait: Option<UnixTime>,
    last_fresh_until: Option<UnixTime>,
    stats: SessionStats,
    trace: Option<Trace>,
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

impl Harness {
    fn new(cfg: u8, timing: u8, seed: u8, trace: Option<Trace>) -> Self {
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
    fn secret(&mut self, kind: &str) -> String {
        self.counter += 1;
        let s = format!("{kind}{:016X}{:016X}", mix(self.counter), mix(!self.counter));
        self.secrets.push(s.clone());
        s
    }

    fn jwt(&mut self, header: &Value, claims: &Value) -> String {
        let jwt =
            format!("{}.{}.", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
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

    fn event(&mut self, r: &mut Reader<'_>) {
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
    fn drain(&mut self) {
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
        assert!(!m.dirty, "Ready while the new set is not written (rule 24)");
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
        assert!(m.locked, "Send without the store's lock (rule 25)");
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
        assert!(!m.spent.contains(&rt), "a refresh token rotated away is sent again (rule 16)");
        assert!(
            !m.spent_elsewhere.contains(&rt),
            "a refresh token another process rotated away is sent (rule 25)"
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
                    (form_decode(k), form_decode(v))
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
            self.session.handle_loaded(result);
            self.stats.ignored += 1;
            return;
        }
        // A newer stored set is adopted instead of sending a stale refresh token (rule 25).
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
        self.session.handle_loaded(result);
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
            self.session.handle_response(now, response);
            self.stats.ignored += 1;
            return;
        }
        let Out::Send { rt, sent_at, previous } = std::mem::take(&mut self.m.out) else { return };
        self.session.handle_response(now, response);
        let previous =
            previous.map(|p| decode_id_token(&p).unwrap_or_else(|e| panic!("previous ID token: {e}")));
        let outcome = check_refresh_response(&self.client, response, previous.as_ref(), now);
        // Rule 18's exception, judged here from the claims, not by the validator.
        let parsed = parse_refresh_response(response);
        let other_identity = match &parsed {
            Ok(result) => result.id_token_payload().is_some_and(|claims| {
                names_another_identity(claims, previous.as_ref(), self.client.issuer())
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
                            "rule 18: the rotated refresh token of a response whose ID token names another \
                             issuer, subject or audience is kept: {e:?}"
                        ),
                    }
                } else if let (Ok(result), None) = (&parsed, &kept)
                    && result.refresh_token().is_some()
                {
                    panic!(
                        "rule 18: a rotated refresh token is dropped though the identity is the same: {e:?}"
                    );
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
            self.session.handle_transport_error(self.now, error);
            self.stats.ignored += 1;
            return;
        }
        let Out::Send { rt, .. } = std::mem::take(&mut self.m.out) else { return };
        let failure = Failure::of(&error);
        self.note(|| format!("  handle_transport_error({error})"));
        self.session.handle_transport_error(self.now, error);
        self.failed(&rt, failure);
    }

    fn stored(&mut self, ok: bool) {
        self.note(|| format!("  handle_stored(ok: {ok})"));
        if !matches!(self.m.out, Out::Store { handed_out: true, .. }) {
            let result = if ok { Ok(()) } else { Err(std::io::Error::other("disk full")) };
            self.session.handle_stored(result);
            self.stats.ignored += 1;
            return;
        }
        let Out::Store { set, kind, .. } = std::mem::take(&mut self.m.out) else { return };
        if ok {
            self.store = Some((*set).clone());
            self.session.handle_stored(Ok::<(), std::io::Error>(()));
        } else {
            self.session.handle_stored(Err(std::io::Error::other("disk full")));
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

    fn check_state(&self) {
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

    // ----------------------------------------------------------------------------------
    // Responses
    // ----------------------------------------------------------------------------------

    /// The refresh token the request out carries (or the current one).
    fn sent_rt(&self) -> String {
        match &self.m.out {
            Out::Send { rt, .. } => rt.clone(),
            _ => self
                .m
                .current
                .as_ref()
                .map(|c| c.refresh_token.expose_secret().to_owned())
                .unwrap_or_default(),
        }
    }

    /// A good response body: new access token, `expires_in` choice `e`, maybe a new refresh token.
    fn good_body(&mut self, rotate: bool, e: usize) -> Map<String, Value> {
        let at = self.secret("zqA");
        self.access_tokens.push(at.clone());
        let mut body = Map::new();
        body.insert("access_token".into(), json!(at));
        body.insert("token_type".into(), json!("Bearer"));
        match EXPIRES_IN[e % EXPIRES_IN.len()] {
            Some(Some(n)) => {
                body.insert("expires_in".into(), json!(n));
            }
            Some(None) => {
                body.insert("expires_in".into(), json!("3599"));
            }
            None => {}
        }
        if rotate {
            body.insert("refresh_token".into(), json!(self.secret("zqR")));
        }
        body
    }

    fn good_response(&mut self, rotate: bool, e: usize) -> Response<Vec<u8>> {
        let body = self.good_body(rotate, e);
        response(200, &[], Value::Object(body).to_string().into_bytes())
    }

    /// A good body from `flags` (see [`R_SUCCESS`]), reading the claims bytes when it has an ID token.
    fn flagged_body(&mut self, flags: u8, r: &mut Reader<'_>) -> Map<String, Value> {
        let mut body = self.good_body(flags & 1 != 0, usize::from((flags >> 3) & 15));
        if flags & 2 != 0 {
            let (c1, c2) = (r.byte(), r.byte());
            let jwt = self.id_token(c1, c2);
            body.insert("id_token".into(), json!(jwt));
        }
        if flags & 4 != 0 {
            body.insert("scope".into(), json!("openid"));
        }
        if flags & 128 != 0 {
            body.insert("token_type".into(), json!("bearer"));
        }
        body
    }

    /// An ID token whose claims start from the grant's (`sub` user-1, issued now) and are
    /// changed by `c1` and `c2` (see [`id_token_claims`]).
    fn id_token(&mut self, c1: u8, c2: u8) -> String {
        let (header, claims) = id_token_claims(self.now.as_secs(), c1, c2);
        self.jwt(&header, &claims)
    }

    fn template(&mut self, r: &mut Reader<'_>) -> Response<Vec<u8>> {
        let rt = self.sent_rt();
        match r.byte() % 16 {
            R_BROKEN => {
                let flags = r.byte() | 1;
                let mut body = self.flagged_body(flags, r);
                let b = r.byte();
                let mut extra = "";
                match b % 8 {
                    0 => {
                        body.insert("expires_in".into(), json!("soon"));
                    }
                    1 => {
                        body.remove("token_type");
                    }
                    2 => {
                        body.remove("access_token");
                    }
                    3 => {
                        body.insert("access_token".into(), json!(""));
                    }
                    4 => extra = ",\"scope\":\"a\",\"scope\":\"b\"",
                    5 => extra = "}x",
                    6 => {
                        body.insert("id_token".into(), json!("not.a-jwt"));
                    }
                    _ => {
                        body.insert("scope".into(), json!(7));
                    }
                }
                let mut text = Value::Object(body).to_string();
                if !extra.is_empty() {
                    text.pop();
                    text.push_str(extra);
                    if !extra.ends_with('x') {
                        text.push('}');
                    }
                }
                response(200, &[], text.into_bytes())
            }
            R_INVALID_GRANT => {
                let s = r.byte();
                let status = [400, 401, 200, 429][usize::from(s % 4)];
                let mut body =
                    json!({"error": "invalid_grant", "error_description": "grant request is invalid"});
                if s & 4 != 0 {
                    body["refresh_token"] = json!(self.secret("zqR"));
                }
                response(status, &[], body.to_string().into_bytes())
            }
            R_INVALID_REQUEST => {
                let body = json!({"error": "invalid_request", "error_description": format!("refresh token {rt} malformed")});
                response(400, &[], body.to_string().into_bytes())
            }
            R_HTML_5XX => {
                let s = r.byte();
                let status = [500, 502, 503, 504][usize::from(s % 4)];
                let mut headers = Vec::new();
                if s & 4 != 0 {
                    headers.push(("retry-after", RETRY_AFTERS[usize::from(r.byte() % 8)]));
                }
                let body =
                    format!("<html><body><h1>{status}</h1><p>request refresh_token={rt}</p></body></html>");
                let mut resp = response(status, &headers, body.into_bytes());
                if s & 8 != 0 {
                    resp.headers_mut().insert("content-type", HeaderValue::from_static("text/html"));
                }
                resp
            }
            R_429 => {
                let ra = RETRY_AFTERS[usize::from(r.byte() % 8)];
                let body = if r.byte() & 1 == 0 { r#"{"error":"slow_down"}"# } else { "" };
                response(429, &[("retry-after", ra)], body.as_bytes().to_vec())
            }
            R_UNAVAILABLE => {
                let ra = r.byte();
                let headers: Vec<(&str, &str)> = if ra & 8 != 0 {
                    vec![("retry-after", RETRY_AFTERS[usize::from(ra % 8)])]
                } else {
                    vec![]
                };
                response(503, &headers, br#"{"error":"temporarily_unavailable"}"#.to_vec())
            }
            R_TRUNCATED => {
                let flags = r.byte();
                let body = self.flagged_body(flags, r);
                let mut text = Value::Object(body).to_string().into_bytes();
                let cut = usize::from(r.byte()) % text.len().max(1);
                text.truncate(cut);
                response(200, &[], text)
            }
            R_RAW => {
                let s = r.byte();
                let status = RAW_STATUSES[usize::from(s % 10)];
                response(status, &[], r.chunk().to_vec())
            }
            R_ERROR_IN_200 => {
                let at = self.secret("zqA");
                let body = json!({"access_token": at, "token_type": "Bearer", "error": "invalid_grant"});
                response(200, &[], body.to_string().into_bytes())
            }
            R_OTHER_ERROR => {
                let (status, code) = [
                    (401, "invalid_client"),
                    (400, "invalid_scope"),
                    (400, "unauthorized_client"),
                    (500, "server_error"),
                ][usize::from(r.byte() % 4)];
                response(status, &[], json!({"error": code}).to_string().into_bytes())
            }
            R_BAD_REFRESH_TOKEN => {
                let flags = r.byte();
                let mut body = self.flagged_body(flags & !1, r);
                body.insert(
                    "refresh_token".into(),
                    json!(["", "rt\u{1}x", "ü-token"][usize::from(flags % 3)]),
                );
                response(200, &[], Value::Object(body).to_string().into_bytes())
            }
            R_ODD_STATUS => {
                let s = r.byte();
                match s % 4 {
                    0 => response(204, &[], Vec::new()),
                    1 => response(302, &[("location", "https://id.example/login")], Vec::new()),
                    2 => {
                        let flags = r.byte();
                        let body = self.flagged_body(flags, r);
                        response(201, &[], Value::Object(body).to_string().into_bytes())
                    }
                    _ => response(304, &[], Vec::new()),
                }
            }
            _ => {
                let flags = r.byte();
                let body = self.flagged_body(flags, r);
                response(200, &[], Value::Object(body).to_string().into_bytes())
            }
        }
    }
}

/// The claims of the grant's ID tokens, issued at `iat`.
fn base_claims(iat: u64) -> Value {
    json!({
        "iss": ISSUER, "sub": "user-1", "aud": CLIENT_ID,
        "exp": iat.saturating_add(3600), "iat": iat, "auth_time": T0 - 100, "nonce": "n-1"
    })
}

/// The header and claims of an ID token issued at `now`: the grant's, changed by `c1` (bit 0
/// another `sub`, 1 another `iss`, 2 `aud` without the client, 3 `aud` with another
/// audience and `azp`, 4 no `azp`, 5 expired, 6 another `nonce`, 7 another `auth_time`) and
/// `c2` (bit 0 no `sub`, 1 `iat` long before, 2 `iat` in the future, 3 no `nonce`, bits 4-5
/// the header: RS256, `alg: none`, a `crit` member, RS256 without `typ`; 6 `azp` with one
/// audience, 7 no `iss`).
pub(crate) fn id_token_claims(now: u64, c1: u8, c2: u8) -> (Value, Value) {
    let mut claims = base_claims(now);
    let bit = |b: u8, n: u8| b & (1 << n) != 0;
    if bit(c1, 0) {
        claims["sub"] = json!("user-2");
    }
    if bit(c1, 1) {
        claims["iss"] = json!("https://evil.example");
    }
    if bit(c1, 2) {
        claims["aud"] = json!("api");
    }
    if bit(c1, 3) {
        claims["aud"] = json!([CLIENT_ID, "api"]);
        claims["azp"] = json!(CLIENT_ID);
    }
    if bit(c1, 4)
        && let Some(map) = claims.as_object_mut()
    {
        map.remove("azp");
    }
    if bit(c1, 5) {
        claims["exp"] = json!(now.saturating_sub(3600));
    }
    if bit(c1, 6) {
        claims["nonce"] = json!("n-2");
    }
    if bit(c1, 7) {
        claims["auth_time"] = json!(T0 - 50);
    }
    if bit(c2, 6) {
        claims["azp"] = json!(CLIENT_ID);
    }
    if bit(c2, 1) {
        claims["iat"] = json!(now.saturating_sub(100_000));
    }
    if bit(c2, 2) {
        claims["iat"] = json!(now.saturating_add(1000));
    }
    if let Some(map) = claims.as_object_mut() {
        if bit(c2, 0) {
            map.remove("sub");
        }
        if bit(c2, 3) {
            map.remove("nonce");
        }
        if bit(c2, 7) {
            map.remove("iss");
        }
    }
    let header = match (c2 >> 4) & 3 {
        0 => json!({"alg": "RS256", "typ": "JWT"}),
        1 => json!({"alg": "none"}),
        2 => json!({"alg": "RS256", "crit": ["exp"]}),
        _ => json!({"alg": "RS256"}),
    };
    (header, claims)
}

/// Rule 18's exception, judged from the claims: the new ID token *names* another issuer than
/// the configured one or the previous token's, another subject than the previous token's, or
/// audiences without the client or other than the previous token's.
fn names_another_identity(
    new: &IdTokenPayload,
    previous: Option<&IdTokenPayload>,
    issuer: Option<&str>,
) -> bool {
    let (iss, sub, aud) = (new.iss(), new.sub(), new.aud());
    if let (Some(want), Some(iss)) = (issuer, iss)
        && want != iss
    {
        return true;
    }
    if let Some(aud) = aud
        && !aud.iter().any(|a| a == CLIENT_ID)
    {
        return true;
    }
    let Some(prev) = previous else { return false };
    let same_set =
        |a: &[String], b: &[String]| a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x));
    (iss.is_some() && prev.iss() != iss)
        || (sub.is_some() && prev.sub() != sub)
        || aud.is_some_and(|aud| !same_set(prev.aud().unwrap_or_default(), aud))
}

fn response(status: u16, headers: &[(&str, &str)], body: Vec<u8>) -> Response<Vec<u8>> {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
        {
            r.headers_mut().append(name, value);
        }
    }
    r
}

fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(b)) => {
                out.push(b);
                i += 2;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
