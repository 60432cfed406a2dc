//! The `session` target: drives the sans-IO [`Session`] state
//! machine with an arbitrary sequence of events against a virtual clock, a simulated store
//! shared with "other processes", and a canned server, and checks its invariants after every
//! step against a small shadow model (`reference::session_model`). The seed generator
//! (`fuzz/seedgen/tests/record.rs`) builds its inputs with [`Script`] and checks with
//! [`run_with_stats`] that each reaches the path it is written for; [`trace`] lists what an
//! input did, for analysing a crash.
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
//!    another refresh or access token is adopted (R25); an unwritten set yields only to
//!    one with another refresh token, and never when it holds a rotated refresh token of its
//!    own; a refresh gives the rotated or previous refresh token, the new access token,
//!    `expires_at = sent_at + expires_in` (or the default lifetime), the new or previous ID
//!    token, the granted, requested or previous scope (R16, R17, R22); failures leave it
//!    intact (R26 transient-failures-retried-bounded); an access token reported invalid stays so.
//! 5. Never lose a rotated refresh token (R16, R18, R24): a response carrying one is
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

mod harness;
mod responses;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use oidc_refresh_core::{ClientConfig, Session, TokenSet, UnixTime};

use crate::common::{Reader, panic_message};
use crate::reference::session_model::Model;

pub use responses::id_token_claims;

/// `cfg` bits 0-1: `Session::new`, the store holds the initial set.
pub const START_NEW: u8 = 0;
/// `cfg` bits 0-1: `with_tokens(initial)`, the store holds the same set.
pub const START_WITH_TOKENS: u8 = 1;
/// `cfg` bits 0-1: `with_tokens(initial)`, but another process already rotated it.
pub const START_STALE: u8 = 2;
/// `cfg` bits 0-1: `Session::new` and an empty store.
pub const START_EMPTY: u8 = 3;
/// `cfg`: ask for [`SCOPE`] on every refresh.
pub const CFG_SCOPE: u8 = 1 << 2;
/// `cfg`: configure the issuer [`ISSUER`].
pub const CFG_ISSUER: u8 = 1 << 3;
/// `cfg`: ReachFive's JSON request body.
pub const CFG_JSON: u8 = 1 << 4;
/// `cfg`: the initial token set has an ID token.
pub const CFG_ID_TOKEN: u8 = 1 << 5;
/// `cfg`: a `timing` byte and a jitter `seed` byte follow.
pub const CFG_TIMING: u8 = 1 << 6;
/// `cfg`: the initial access token has expired (otherwise it lives an hour).
pub const CFG_EXPIRED: u8 = 1 << 7;

/// `[adv]`: advance the clock by `adv` seconds, then poll.
pub const OP_POLL: u8 = 0;
/// `[k]`: set the clock to an interesting time (`k % 8`: the last `Wait`, the last
/// `fresh_until`, one second before it, `expires_at`, one second before, 60 s before,
/// 61 s before, one nanosecond before the last `Wait`), then poll.
pub const OP_POLL_AT: u8 = 1;
/// `[k] [n]`: `k % 4`: back `n` minutes, ahead `n` hours, ahead `2^(n % 64)` s, ahead `n`
/// milliseconds; then poll.
pub const OP_JUMP: u8 = 2;
/// A cooperative step: answer what is out (store content, a good rotating response, a
/// successful write), else poll and follow a `Wait`.
pub const OP_STEP: u8 = 3;
/// `[v]`: `handle_loaded` (`v % 8`: 0, 1, 7 the store's content; 2 a read error; 3 another
/// process rotated first; 4 another process refreshed without rotating; 5 a new sign-in
/// was stored; 6 the store was emptied; `v >> 3` picks the other process's expiry).
pub const OP_LOADED: u8 = 4;
/// `[latency] [template] params…`: `handle_response` (see the `R_*` templates).
pub const OP_RESPOND: u8 = 5;
/// `[latency] [k]`: `handle_transport_error` (`k % 8`: connect, timeout, TLS, redirect,
/// body too large, interrupted, other, a refused URL).
pub const OP_TRANSPORT: u8 = 6;
/// `handle_stored(Ok)`, the store now holds the set.
pub const OP_STORED_OK: u8 = 7;
/// `handle_stored(Err)`.
pub const OP_STORED_ERR: u8 = 8;
/// `[w]`: `handle_invalid_access_token` (`w % 3`: the current one, a stale one, an unknown one).
pub const OP_INVALID_AT: u8 = 9;
/// `force_refresh`.
pub const OP_FORCE: u8 = 10;
/// `abandon`.
pub const OP_ABANDON: u8 = 11;
/// `[v]`: another process writes the store (`v % 4`: rotated, refreshed without rotating,
/// new sign-in, emptied; `v >> 2` picks the expiry), unless this driver holds the lock.
pub const OP_OTHER_PROCESS: u8 = 12;
/// Ops 13 and 14 are cooperative steps too; 15 polls without moving the clock.
pub const OP_POLL_NOW: u8 = 15;

/// `[flags] [c1] [c2]`: a good response. `flags`: bit 0 a rotated refresh token, bit 1 an
/// ID token (claims from `c1`, `c2`: see [`id_token_claims`]), bit 2 a scope, bits 3-6
/// `expires_in` ([`EXPIRES_IN`]), bit 7 `token_type: bearer`.
pub const R_SUCCESS: u8 = 0;
/// `[flags] [c1] [c2] [b]`: a rotating 200 broken in another way (`b % 8`: `expires_in`
/// "soon", no `token_type`, no `access_token`, an empty one, a repeated member, trailing
/// garbage, a malformed ID token, a number as `scope`): R18 rotated-token-survives-broken-response.
pub const R_BROKEN: u8 = 3;
/// `[s]`: `invalid_grant` (status 400, 401 or 200; sometimes beside a `refresh_token`).
pub const R_INVALID_GRANT: u8 = 4;
/// `invalid_request` whose description echoes the refresh token sent.
pub const R_INVALID_REQUEST: u8 = 5;
/// `[s] [ra]`: a 5xx HTML page echoing the refresh token, maybe with `Retry-After`.
pub const R_HTML_5XX: u8 = 6;
/// `[ra] [b]`: 429 with `Retry-After` ([`RETRY_AFTERS`]), JSON `slow_down` or no body.
pub const R_429: u8 = 7;
/// `[ra]`: 503 `temporarily_unavailable`, maybe with `Retry-After`.
pub const R_UNAVAILABLE: u8 = 8;
/// `[flags] [c1] [c2] [cut]`: a good response cut short.
pub const R_TRUNCATED: u8 = 9;
/// `[s] [len] bytes…`: a raw body from the input with status [`RAW_STATUSES`]`[s % 10]`.
pub const R_RAW: u8 = 10;
/// A 200 carrying `error: invalid_grant` beside an access token.
pub const R_ERROR_IN_200: u8 = 11;
/// `[s]`: another final OAuth error (`invalid_client` 401, `invalid_scope` 400, ...).
pub const R_OTHER_ERROR: u8 = 12;
/// `[flags]`: a 200 rotating to a malformed refresh token.
pub const R_BAD_REFRESH_TOKEN: u8 = 13;
/// `[s]`: an odd status (204 empty, 302, 201 with a good body, 304).
pub const R_ODD_STATUS: u8 = 14;

/// `expires_in` choices of a good response (`None`: absent; `Some(None)`: the string "3599").
pub const EXPIRES_IN: [Option<Option<u64>>; 16] = [
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
pub const RETRY_AFTERS: [&str; 8] =
    ["0", "1", "7", "30", "31", "120", "Wed, 21 Oct 2015 07:28:00 GMT", " 3 "];
/// Statuses of a raw response.
pub const RAW_STATUSES: [u16; 10] = [200, 200, 201, 400, 401, 429, 500, 502, 503, 302];

/// The token endpoint.
pub const ENDPOINT: &str = "https://id.example/token";
/// The client id.
pub const CLIENT_ID: &str = "app";
/// The configured issuer (with [`CFG_ISSUER`]) and the `iss` of good ID tokens.
pub const ISSUER: &str = "https://id.example";
/// The scope asked for with [`CFG_SCOPE`].
pub const SCOPE: &str = "openid offline_access";
/// The start of the virtual clock.
pub const T0: u64 = 1_700_000_000;
/// Events read at most.
pub const MAX_EVENTS: usize = 256;
/// Cooperative steps the final drive may take to reach `Ready` or `SignIn`.
pub const DRAIN_STEPS: usize = 32;

/// Builds an input (for the seeds): `cfg`, then events.
#[derive(Clone, Debug)]
pub struct Script(Vec<u8>);

impl Script {
    /// An input starting with `cfg` (without [`CFG_TIMING`]).
    pub fn new(cfg: u8) -> Self {
        Self(vec![cfg & !CFG_TIMING])
    }
    /// An input starting with `cfg`, `timing` and `seed`.
    pub fn with_timing(cfg: u8, timing: u8, seed: u8) -> Self {
        Self(vec![cfg | CFG_TIMING, timing, seed])
    }
    /// Appends an event: `op` and its parameter bytes.
    #[must_use]
    pub fn op(mut self, op: u8, params: &[u8]) -> Self {
        self.0.push(op);
        self.0.extend_from_slice(params);
        self
    }
    /// Appends `n` cooperative steps.
    #[must_use]
    pub fn steps(mut self, n: usize) -> Self {
        self.0.extend(std::iter::repeat_n(OP_STEP, n));
        self
    }
    /// The input.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The whole body of the `session` fuzz target (panics when an invariant fails).
pub fn run(data: &[u8]) {
    let _ = run_with_stats(data);
}

/// What one input reached (for the seeds, which must reach the paths they are meant for).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Events read.
    pub events: u32,
    /// `Ready` without an error.
    pub ready: u32,
    /// `Ready` with the error of a failed early refresh.
    pub ready_with_error: u32,
    /// `Ready` with an access token already expired, once right after its refresh.
    pub ready_expired_once: u32,
    /// `Load`.
    pub load: u32,
    /// `Send`, first attempts.
    pub send: u32,
    /// `Send`, retries.
    pub retry: u32,
    /// `Store`.
    pub store: u32,
    /// `Wait`.
    pub wait: u32,
    /// `Pending`.
    pub pending: u32,
    /// `Failed`.
    pub failed: u32,
    /// `SignIn`.
    pub sign_in: u32,
    /// A newer stored set adopted.
    pub adopted: u32,
    /// A successful response handled.
    pub refreshed: u32,
    /// A successful response that rotated the refresh token.
    pub rotated: u32,
    /// A broken response whose rotated refresh token was kept (R18).
    pub rotated_in_error: u32,
    /// A rotated refresh token written by a successful `handle_stored`.
    pub rotation_stored: u32,
    /// A failed write or an abandoned one.
    pub store_failed: u32,
    /// A reported error carrying an unwritten rotated refresh token.
    pub rotated_surfaced: u32,
    /// A rotated refresh token dropped because the ID token named another identity.
    pub identity_discarded: u32,
    /// A failure after which a retry was due.
    pub retry_due: u32,
    /// `handle_invalid_access_token` returning `true`.
    pub invalidated: u32,
    /// `abandon` with something out.
    pub abandoned: u32,
    /// `handle_*` calls out of turn (ignored).
    pub ignored: u32,
    /// Another process wrote the store.
    pub other_writes: u32,
}

/// Runs one input and returns what it reached; panics when an invariant fails.
pub fn run_with_stats(data: &[u8]) -> SessionStats {
    drive(data, None)
}

/// Runs one input, recording every event and every answer of the session: the trace up to
/// the end, or up to the failed invariant (whose message is its last line). For analysing
/// a crash.
pub fn trace(data: &[u8]) -> Vec<String> {
    let trace = Rc::new(RefCell::new(Vec::new()));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drive(data, Some(trace.clone()))));
    let mut lines = trace.take();
    if let Err(panic) = outcome {
        lines.push(format!("FAILED: {}", panic_message(&*panic)));
    }
    lines
}

type Trace = Rc<RefCell<Vec<String>>>;

fn drive(data: &[u8], trace: Option<Trace>) -> SessionStats {
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

/// What a poll said, for the cooperative driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Ready,
    Failed,
    SignIn,
    Wait(UnixTime),
    Other,
}

/// The session under test, its world (clock, store, server), and the shadow model.
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

pub(crate) fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}
