//! [`Session`]: the lifetime and rotation state machine of one grant.

use std::fmt;
use std::time::Duration;

use http::{Request, Response};

use crate::claims::{IdTokenPayload, decode_id_token};
use crate::config::ClientConfig;
use crate::error::{
    ConfigError, Error, OAuthError, OutOfStep, StoreError, TransportError, TransportErrorKind,
};
use crate::exchange::validate_auth_result;
#[cfg(feature = "verify")]
use crate::exchange::{SignatureCheck, check_id_token_signature};
use crate::request::{RefreshParams, build_refresh_request};
use crate::response::{AuthResult, parse_refresh_response};
use crate::secret::{AccessToken, RefreshToken};
use crate::time::UnixTime;
use crate::token_set::TokenSet;
use crate::validate::Continuity;
#[cfg(feature = "verify")]
use crate::{error::IdTokenError, verify::KeySetCache};

/// What the driver of a [`Session`] should do next: the answer of [`Session::poll`].
///
/// `Debug` shows no token and no request body.
#[must_use]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // moved once per step; boxing would only add an allocation
pub enum Action {
    /// Hand out this access token. Until `fresh_until` the session would answer the same
    /// without any I/O, so a driver may cache it until then.
    Ready {
        /// The access token.
        access_token: AccessToken,
        /// Poll again from this time on.
        fresh_until: UnixTime,
        /// An early refresh failed: the access token is still valid, and this is why it
        /// was not replaced. No new attempt is made before `fresh_until`.
        refresh_error: Option<Error>,
    },
    /// Take the store's exclusive lock, re-read the token set under it, and pass the result
    /// to [`Session::handle_loaded`]. Keep the lock until the session says `Ready`,
    /// `Failed` or `SignIn` (R25 lock-reread-adopt-newer).
    Load,
    /// Send this refresh request now, then pass the response to
    /// [`Session::handle_response`] or the failure to [`Session::handle_transport_error`].
    /// The body holds the refresh token: never log it.
    Send(Request<Vec<u8>>),
    /// Fetch the provider's key set with this request (a `GET` of its `jwks_uri`), then pass
    /// the response to [`Session::handle_key_set_response`] or the failure to
    /// [`Session::handle_key_set_error`]. Asked for only when a response's ID token needs a
    /// key the session's [`KeySetCache`] does not hold (or holds too old), at most once per
    /// response.
    #[cfg(feature = "verify")]
    FetchKeys(Request<Vec<u8>>),
    /// Write this token set to the store (under the lock), then pass the result to
    /// [`Session::handle_stored`].
    Store(TokenSet),
    /// Wait until this time (a retry's backoff), then poll again.
    Wait(UnixTime),
    /// A request or a store operation handed out earlier has not been reported back yet:
    /// wait for whoever drives it, then poll again.
    Pending,
    /// The refresh failed and no valid access token is left: report the error. The session
    /// keeps its tokens; a later poll starts a new refresh.
    Failed(Error),
    /// The grant is dead (`invalid_grant`, an [`Error::Server`]) or there is none (the
    /// session holds no token set and the store is empty: [`ConfigError::NoTokens`]): the
    /// user must sign in again, and the new token set be written to the store. The error's
    /// [`is_reauth_required`](Error::is_reauth_required) is `true`. Polls say so until the
    /// store holds another grant.
    SignIn(Error),
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Ready { access_token, fresh_until, refresh_error } => f
                .debug_struct("Ready")
                .field("access_token", access_token)
                .field("fresh_until", fresh_until)
                .field("refresh_error", refresh_error)
                .finish(),
            Action::Load => f.write_str("Load"),
            Action::Send(request) => {
                write!(f, "Send({} {}, body: <redacted>)", request.method(), request.uri())
            }
            #[cfg(feature = "verify")]
            Action::FetchKeys(request) => write!(f, "FetchKeys({} {})", request.method(), request.uri()),
            Action::Store(tokens) => f.debug_tuple("Store").field(tokens).finish(),
            Action::Wait(until) => f.debug_tuple("Wait").field(until).finish(),
            Action::Pending => f.write_str("Pending"),
            Action::Failed(error) => f.debug_tuple("Failed").field(error).finish(),
            Action::SignIn(error) => f.debug_tuple("SignIn").field(error).finish(),
        }
    }
}

/// The lifetime and rotation state machine of one grant (R15–R18, R20–R26).
///
/// A session answers one question — *what should I do now to hand out a valid access
/// token?* — and is told what happened. It owns the rules that need state:
///
/// - **Lifetime** (R22 expiry-from-send-time): `expires_at` counts from the time the request
///   was *sent* (the `now` of the [`poll`](Session::poll) that handed the request out); the
///   token is refreshed early, [`DEFAULT_REFRESH_MARGIN`](Session::DEFAULT_REFRESH_MARGIN)
///   (60 s) before it expires (at most half its lifetime, so that a token living 2 s is used
///   for 1 s), a margin separate from the ID-token leeway. Without `expires_in` a
///   lifetime of [`DEFAULT_LIFETIME`](Session::DEFAULT_LIFETIME) (300 s) is assumed
///   (R15 expires-in-absent-means-unknown), and an API's 401 `invalid_token` is reported with
///   [`handle_invalid_access_token`](Session::handle_invalid_access_token): the next poll
///   refreshes, once, however many callers report the same token.
/// - **One refresh in flight** (R23 one-refresh-in-flight): while a request (or a store read
///   or write) is out, every poll says [`Action::Pending`].
/// - **The store first** (R24, R25): a refresh starts with [`Action::Load`] — lock the
///   store, re-read it, [`handle_loaded`](Session::handle_loaded) — and a newer stored token
///   set is adopted instead of sending a stale refresh token. A new token set is handed out
///   as [`Action::Store`]; only after [`handle_stored`](Session::handle_stored) does the new
///   access token come out. A failed write is reported ([`Error::Store`]) and the new set
///   stays in memory, to be written again before anything else: a rotated refresh token is
///   never lost.
/// - **Rotation** (R16–R18): the rotated refresh token replaces the previous one; one
///   carried by an otherwise broken response is stored all the same.
/// - **ID-token checks** (R20, R21): every refreshed ID token is checked against the
///   client and against the previous ID token (the token set's `id_token`); the outcome is
///   [`last_continuity`](Session::last_continuity), *not checked* without a previous one.
/// - **Retries** (R26 transient-failures-retried-bounded): transient failures
///   ([`Error::is_retryable`]) are retried, at most
///   [`DEFAULT_MAX_ATTEMPTS`](Session::DEFAULT_MAX_ATTEMPTS) (3) attempts in all, after a
///   jittered, doubling, bounded backoff ([`Action::Wait`]), never sooner than `Retry-After`.
///   The core has no randomness: the jitter comes from a seed you pass in
///   ([`with_jitter_seed`](Session::with_jitter_seed)).
/// - **Sign in again**: `invalid_grant` ends the grant ([`Action::SignIn`]) until the store
///   holds another one. A session with no token set whose store holds none either says
///   [`Action::SignIn`] too, with [`ConfigError::NoTokens`];
///   [`Error::is_reauth_required`] is `true` for both.
///
/// A failed *early* refresh (the access token is inside the margin but still valid) does not
/// take the token away: the next poll says [`Action::Ready`] with the failure in
/// `refresh_error`, and no new attempt is made for a short cool-down.
///
/// No clock, no randomness, no I/O: time comes in as [`UnixTime`], responses as
/// [`http::Response`], store results as `Result`s.
///
/// # The run loop
///
/// One driver runs this loop whenever it needs a token: a clock, an HTTP exchange, a store
/// with an exclusive lock. Here the clock is virtual, the server canned and the store a
/// variable; `oidc-refresh-driver` runs this very loop with real ones (its `Drive`).
///
/// ```
/// use oidc_refresh_core::{Action, ClientConfig, Error, RefreshToken, Session, TokenSet, UnixTime, http};
///
/// // Stand-ins for a transport: its clock and one HTTP exchange.
/// let mut clock = UnixTime::from_secs(1_700_000_000);
/// let execute = |request: http::Request<Vec<u8>>| -> Result<http::Response<&[u8]>, Error> {
///     assert_eq!(request.body(), b"grant_type=refresh_token&refresh_token=rt-1&client_id=my-app");
///     let body = br#"{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}"#;
///     Ok(http::Response::new(&body[..]))
/// };
/// // A stand-in for a store: what it holds (a real one is locked from `Load` to the end).
/// let mut stored = Some(TokenSet::from_refresh_token(RefreshToken::new("rt-1")));
///
/// let client = ClientConfig::new("https://id.example/token", "my-app")?;
/// let mut session = Session::new(client).with_jitter_seed(0x5eed); // seed from your RNG
///
/// let access_token = loop {
///     let now = clock; // read the clock once per step
///     match session.poll(now) {
///         Action::Ready { access_token, .. } => break access_token, // then unlock
///         // Lock the store, re-read it under the lock.
///         Action::Load => session.handle_loaded(Ok::<_, Error>(stored.clone()))?,
///         // `now` was the send time: the lifetime counts from it.
///         Action::Send(request) => match execute(request) {
///             Ok(response) => session.handle_response(clock, &response)?,
///             Err(error) => session.handle_transport_error(clock, error)?,
///         },
///         Action::Store(tokens) => {
///             stored = Some(tokens); // under the lock, atomically
///             session.handle_stored(Ok::<(), Error>(()))?; // `?`: out of step is a bug
///         }
///         Action::Wait(until) => clock = until, // sleep until then
///         Action::Pending => unreachable!("only one driver"),
///         Action::Failed(error) | Action::SignIn(error) => return Err(error.into()),
///         _ => unreachable!("a newer version's action"),
///     }
/// };
///
/// assert_eq!(access_token.expose_secret(), "at-2");
/// let stored = stored.expect("stored before use");
/// assert_eq!(stored.refresh_token.expose_secret(), "rt-2");
/// assert_eq!(stored.expires_at, Some(1_700_003_600)); // sent at + expires_in
///
/// // Until 60 s before expiry, the session answers without any I/O.
/// let later = UnixTime::from_secs(1_700_003_539);
/// assert!(matches!(session.poll(later), Action::Ready { .. }));
/// assert!(matches!(session.poll(later + std::time::Duration::from_secs(1)), Action::Load));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The token managers of `oidc-refresh-driver` run exactly this loop behind a lock-free fast
/// path.
///
/// `Debug` shows the state, never a token.
pub struct Session {
    client: ClientConfig,
    scope: Option<String>,
    margin: Duration,
    default_lifetime: Duration,
    max_attempts: u32,
    first_backoff: Duration,
    max_backoff: Duration,
    rng: u64,
    /// The current token set: what the store holds, unless `saved` says otherwise.
    tokens: Option<TokenSet>,
    /// Whether `tokens` is what the store holds.
    saved: Saved,
    /// A refresh was asked for whatever the access token's lifetime.
    forced: bool,
    /// The current access token's lifetime and exact expiry, when this session obtained
    /// it: the margin is at most half the lifetime, so that a short-lived token is used at
    /// all, and the margin counts from the exact expiry, not from the whole second the
    /// store keeps.
    obtained: Option<Obtained>,
    /// The access token of a refresh was just stored: the next poll hands it out once,
    /// however short its life (never an endless run of refreshes).
    refreshed: bool,
    /// The refresh token in `tokens` was refused with `invalid_grant`.
    dead: Option<Box<OAuthError>>,
    /// The outcome of the last refresh, reported by the next poll.
    failure: Option<Error>,
    /// After a failed early refresh: no new attempt before this while the token is valid.
    cool_until: Option<UnixTime>,
    /// A write the store refused for a newer set ([`Session::handle_superseded`]): reported
    /// with the next `Ready`, as its `refresh_error`.
    superseded: Option<Error>,
    continuity: Option<Continuity>,
    /// The provider's keys, when ID-token signatures are verified.
    #[cfg(feature = "verify")]
    keys: Option<KeySetCache>,
    state: State,
}

/// Where a refresh stands. Every state but `Idle` and `Loading` means the driver holds the
/// store's lock.
enum State {
    /// Nothing handed out.
    Idle,
    /// `Load` handed out: waiting for `handle_loaded`.
    Loading,
    /// The store is locked and re-read: the next poll decides.
    Locked,
    /// A request handed out at `sent_at`: waiting for its response.
    Sending { attempt: u32, sent_at: UnixTime, previous: Option<Box<IdTokenPayload>> },
    /// A response arrived whose ID token needs the key set: `FetchKeys` hands out
    /// `request`; the response waits in `result`.
    #[cfg(feature = "verify")]
    Verifying {
        attempt: u32,
        sent_at: UnixTime,
        previous: Option<Box<IdTokenPayload>>,
        result: Box<AuthResult>,
        /// The key-set request, until `FetchKeys` hands it out.
        request: Option<Box<Request<Vec<u8>>>>,
    },
    /// A transient failure: attempt number `attempt` is sent at `until`.
    Backoff { attempt: u32, until: UnixTime },
    /// A new token set to be stored; `handed_out` once `Store` was returned; `obtained`
    /// when its access token is a new one.
    Storing { tokens: Box<TokenSet>, handed_out: bool, obtained: Option<Obtained> },
}

/// Whether the session's token set is what the store holds. A rotated set that was never
/// written is unsaved by construction: there is no "rotated but saved" to get wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Saved {
    /// The store holds it (or nothing was loaded yet).
    Yes,
    /// A write failed: it is written again before anything is handed out.
    No,
    /// A write failed, and it holds a rotated refresh token the store never saw (the stored
    /// one is spent): a stored set is never adopted over it.
    NoRotated,
}

/// An access token this session obtained: its lifetime, and when it expires to the
/// nanosecond (`sent_at + lifetime`; the token set keeps whole seconds, rounded down).
#[derive(Clone, Copy, Debug)]
struct Obtained {
    lifetime: Duration,
    expires_at: UnixTime,
}

/// A parsed response to the request of `attempt`, sent at `sent_at`, with the previous ID
/// token's claims to compare its ID token with.
struct Received {
    attempt: u32,
    sent_at: UnixTime,
    previous: Option<Box<IdTokenPayload>>,
    result: AuthResult,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Loading => "loading",
            State::Locked => "locked",
            State::Sending { .. } => "sending",
            #[cfg(feature = "verify")]
            State::Verifying { .. } => "verifying",
            State::Backoff { .. } => "backoff",
            State::Storing { .. } => "storing",
        }
    }
}

impl Session {
    /// How long before `expires_at` the access token is refreshed: 60 s.
    pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);
    /// The lifetime assumed when a response has no `expires_in`: 300 s.
    pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
    /// Requests in all for one refresh, the first included: 3.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
    /// The backoff before the second attempt (jittered down to half of it): 1 s.
    pub const DEFAULT_FIRST_BACKOFF: Duration = Duration::from_secs(1);
    /// The longest wait between two attempts: 30 s. A `Retry-After` asking for more ends
    /// the attempts.
    pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(30);

    /// A session for `client` that holds no tokens yet: its first poll says
    /// [`Action::Load`].
    #[must_use]
    pub fn new(client: ClientConfig) -> Self {
        Self {
            client,
            scope: None,
            margin: Self::DEFAULT_REFRESH_MARGIN,
            default_lifetime: Self::DEFAULT_LIFETIME,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            first_backoff: Self::DEFAULT_FIRST_BACKOFF,
            max_backoff: Self::DEFAULT_MAX_BACKOFF,
            rng: 0,
            tokens: None,
            saved: Saved::Yes,
            forced: false,
            obtained: None,
            refreshed: false,
            dead: None,
            failure: None,
            cool_until: None,
            superseded: None,
            continuity: None,
            #[cfg(feature = "verify")]
            keys: None,
            state: State::Idle,
        }
    }

    /// Starts from `tokens`, the token set the store holds (read without the lock), so
    /// that a fresh access token is handed out without touching the store. A newer stored
    /// set still wins when the store is re-read before a refresh.
    #[must_use]
    pub fn with_tokens(mut self, tokens: TokenSet) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// Asks for `scope` on every refresh (it must not exceed the scope granted). Without
    /// it, the scope already granted is kept.
    #[must_use]
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Refreshes when the access token expires within `margin` (default 60 s), or within
    /// half its lifetime when this session obtained it and it lives less than twice the
    /// margin: a short-lived token is used, not refreshed again at once.
    #[must_use]
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The lifetime assumed when a response has no `expires_in` (default 300 s).
    #[must_use]
    pub fn with_default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = lifetime;
        self
    }

    /// Requests in all for one refresh, the first included (default 3; at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// The backoff between attempts: `first` before the second attempt, doubling for each
    /// next one, never more than `max`; each is jittered down to as little as half. A
    /// `Retry-After` longer than the backoff is waited instead, unless it exceeds `max`:
    /// then the attempts end. Defaults: 1 s and 30 s.
    #[must_use]
    pub fn with_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.first_backoff = first;
        self.max_backoff = max.max(first);
        self
    }

    /// Seeds the jitter of the backoff. The core has no randomness of its own: pass a random
    /// value (different sessions should not retry in step). The default seed is 0.
    #[must_use]
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.rng = seed;
        self
    }

    /// Verifies the signature of every ID token a refresh receives (R29 id-token-verified)
    /// with the keys `cache` fetches and keeps, and the client secret for HS256/384/512,
    /// before the token is handed out or becomes the next continuity baseline. A response
    /// whose ID token needs a key the cache lacks makes the session say
    /// [`Action::FetchKeys`] before anything is stored.
    #[cfg(feature = "verify")]
    #[must_use]
    pub fn with_key_set_cache(mut self, cache: KeySetCache) -> Self {
        self.keys = Some(cache);
        self
    }

    /// Sets the key-set cache ([`with_key_set_cache`](Self::with_key_set_cache)) of a
    /// session already running, e.g. once OpenID discovery named the `jwks_uri`; `None`
    /// stops verifying signatures.
    #[cfg(feature = "verify")]
    pub fn set_key_set_cache(&mut self, cache: Option<KeySetCache>) {
        self.keys = cache;
    }

    /// The key-set cache, when signatures are verified.
    #[cfg(feature = "verify")]
    #[must_use]
    pub fn key_set_cache(&self) -> Option<&KeySetCache> {
        self.keys.as_ref()
    }

    /// The client this session refreshes for.
    #[must_use]
    pub fn client(&self) -> &ClientConfig {
        &self.client
    }

    /// Replaces the client: the next request is built for `client`, and its response
    /// checked against it. For a driver that resolves the client lazily, e.g. one that runs
    /// OpenID discovery only once a refresh is due, so that a fresh access token costs no
    /// request at all: it starts the session with a provisional client and sets the
    /// discovered one when the session first says [`Action::Send`].
    ///
    /// A request that the last [`Action::Send`] handed out and that was not reported back
    /// yet is withdrawn: the driver must not have sent it (it was built for the previous
    /// client). It counts as no attempt; the next poll hands out the same attempt again,
    /// built for `client`, and its lifetime counts from that poll.
    pub fn set_client(&mut self, client: ClientConfig) {
        self.client = client;
        if let State::Sending { attempt, sent_at, .. } = self.state {
            self.state = State::Backoff { attempt, until: sent_at };
        }
    }

    /// The current token set, if any (`Debug` redacts it).
    #[must_use]
    pub fn tokens(&self) -> Option<&TokenSet> {
        self.tokens.as_ref()
    }

    /// The outcome of the ID-token continuity checks of the last successful refresh:
    /// [`Continuity::NotChecked`] when there was no previous ID token.
    #[must_use]
    pub fn last_continuity(&self) -> Option<Continuity> {
        self.continuity
    }

    /// What to do next at `now`: see [`Action`]. When the answer is [`Action::Send`], `now`
    /// is taken as the time the request is sent, from which its lifetime counts: send it
    /// right away.
    pub fn poll(&mut self, now: UnixTime) -> Action {
        match self.next(now) {
            Action::Ready { access_token, fresh_until, refresh_error } if self.superseded.is_some() => {
                let refresh_error = refresh_error.or_else(|| self.superseded.take());
                Action::Ready { access_token, fresh_until, refresh_error }
            }
            action => action,
        }
    }

    /// [`Session::poll`] but for a superseded write's report.
    fn next(&mut self, now: UnixTime) -> Action {
        match &mut self.state {
            State::Loading | State::Sending { .. } => return Action::Pending,
            State::Storing { handed_out: true, .. } => return Action::Pending,
            State::Storing { tokens, handed_out, .. } => {
                *handed_out = true;
                return Action::Store(TokenSet::clone(tokens));
            }
            #[cfg(feature = "verify")]
            State::Verifying { request, .. } => {
                return request.take().map_or(Action::Pending, |r| Action::FetchKeys(*r));
            }
            State::Backoff { until, .. } if now < *until => return Action::Wait(*until),
            State::Backoff { attempt, .. } => {
                let attempt = *attempt;
                return self.send(now, attempt);
            }
            State::Idle | State::Locked => {}
        }
        let locked = matches!(self.state, State::Locked);
        self.state = State::Idle;
        let refreshed = std::mem::take(&mut self.refreshed);
        if let Some(error) = self.failure.take() {
            return self.report(now, error);
        }
        if self.saved == Saved::Yes
            && !self.forced
            && self.dead.is_none()
            && let Some((access_token, fresh_until)) = self.usable(now, refreshed)
        {
            return Action::Ready { access_token, fresh_until, refresh_error: None };
        }
        if !locked {
            self.state = State::Loading;
            return Action::Load;
        }
        if self.saved != Saved::Yes
            && let Some(tokens) = &self.tokens
        {
            let tokens = tokens.clone();
            self.state =
                State::Storing { tokens: Box::new(tokens.clone()), handed_out: true, obtained: None };
            return Action::Store(tokens);
        }
        if let Some(dead) = &self.dead {
            return Action::SignIn(Error::Server(dead.clone()));
        }
        self.send(now, 1)
    }

    /// The access token while it may be handed out without a refresh (fresh, valid and
    /// cooling down after a failed early refresh, or `just_refreshed`), and until when.
    fn usable(&self, now: UnixTime, just_refreshed: bool) -> Option<(AccessToken, UnixTime)> {
        let tokens = self.tokens.as_ref()?;
        let access_token = tokens.access_token.as_ref()?;
        let stored_expiry = tokens.expires_at?;
        // The exact expiry of a token this session obtained: the stored whole second would
        // shorten the fresh window by up to a second (all of it, for a 2 s token).
        let (expires_at, margin) = match self.obtained {
            Some(o) if o.expires_at.as_secs() == stored_expiry => {
                (o.expires_at, self.margin.min(o.lifetime / 2))
            }
            _ => (UnixTime::from_secs(stored_expiry), self.margin),
        };
        let fresh_until = expires_at - margin;
        let fresh_until = if now < fresh_until {
            fresh_until
        } else if let Some(cool_until) = self.cool_until.filter(|&t| now < t && now < expires_at) {
            cool_until.min(expires_at)
        } else if just_refreshed {
            now
        } else {
            return None;
        };
        Some((access_token.clone(), fresh_until))
    }

    /// Reports the outcome of a failed refresh.
    fn report(&mut self, now: UnixTime, error: Error) -> Action {
        let forced = std::mem::take(&mut self.forced);
        if error.is_reauth_required() {
            return Action::SignIn(error);
        }
        if !forced && self.saved == Saved::Yes && self.dead.is_none() {
            let cooldown = self.cooldown(&error);
            self.cool_until = Some(now + cooldown);
            if let Some((access_token, fresh_until)) = self.usable(now, false) {
                return Action::Ready { access_token, fresh_until, refresh_error: Some(error) };
            }
        }
        Action::Failed(error)
    }

    /// Builds and hands out attempt number `attempt`.
    fn send(&mut self, now: UnixTime, attempt: u32) -> Action {
        let Some(tokens) = &self.tokens else {
            self.state = State::Idle;
            return Action::SignIn(ConfigError::NoTokens.into());
        };
        let previous = tokens.id_token.as_ref().map(|t| decode_id_token(t.expose_secret())).transpose();
        let mut params = RefreshParams::new(&tokens.refresh_token);
        if let Some(scope) = &self.scope {
            params = params.scope(scope);
        }
        let request = build_refresh_request(&self.client, &params);
        match (previous, request) {
            (Ok(previous), Ok(request)) => {
                self.state = State::Sending { attempt, sent_at: now, previous: previous.map(Box::new) };
                Action::Send(request)
            }
            (Err(error), _) => self.report(now, error),
            (_, Err(error)) => self.report(now, error.into()),
        }
    }

    /// Lock taken and store re-read ([`Action::Load`]): `loaded` is what the store holds
    /// (`None` for an empty store) or why it could not be locked or read. A stored set
    /// whose refresh or access token differs from the session's is newer (another thread
    /// or process refreshed meanwhile) and is adopted instead of sending a stale refresh
    /// token. A set the session could not write yet is newer still, unless it holds no
    /// rotated refresh token of its own and the stored one differs: then another process
    /// rotated the refresh token it holds, which is spent.
    ///
    /// # Errors
    ///
    /// [`OutOfStep`] unless the last poll said [`Action::Load`]; the input is then ignored.
    pub fn handle_loaded<E>(&mut self, loaded: Result<Option<TokenSet>, E>) -> Result<(), OutOfStep>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    {
        if !matches!(self.state, State::Loading) {
            return Err(OutOfStep::new("handle_loaded", self.state.name()));
        }
        self.state = State::Locked;
        match loaded {
            Err(e) => self.failure = Some(StoreError::read(e).into()),
            Ok(Some(stored)) if self.is_newer(&stored) => {
                self.tokens = Some(stored);
                self.saved = Saved::Yes;
                self.obtained = None;
                self.dead = None;
                self.cool_until = None;
            }
            Ok(_) => {}
        }
        Ok(())
    }

    fn is_newer(&self, stored: &TokenSet) -> bool {
        self.tokens.as_ref().is_none_or(|ours| match self.saved {
            Saved::Yes => {
                stored.refresh_token != ours.refresh_token || stored.access_token != ours.access_token
            }
            Saved::No => stored.refresh_token != ours.refresh_token,
            // Ours is the only live refresh token: the stored one was spent to get it.
            Saved::NoRotated => false,
        })
    }

    /// The response to the request of the last [`Action::Send`], whatever its status,
    /// received at `now` (the ID token's `exp` and `iat` are checked against it).
    ///
    /// Success: the new token set (R16, R17, R22; the ID token checked against the
    /// previous one) is to be stored next. Failure: retried when transient, ended with
    /// `SignIn` for `invalid_grant`, otherwise reported; a rotated refresh token carried by
    /// a broken response is stored first (R18 rotated-token-survives-broken-response).
    ///
    /// # Errors
    ///
    /// [`OutOfStep`] unless a request is out; the input is then ignored.
    pub fn handle_response<B: AsRef<[u8]>>(
        &mut self,
        now: UnixTime,
        response: &Response<B>,
    ) -> Result<(), OutOfStep> {
        let state = std::mem::replace(&mut self.state, State::Locked);
        let State::Sending { attempt, sent_at, previous } = state else {
            self.state = state;
            return Err(OutOfStep::new("handle_response", self.state.name()));
        };
        match parse_refresh_response(response) {
            Ok(result) => self.receive(now, Received { attempt, sent_at, previous, result }, true),
            Err(error) => self.handle_failure(now, attempt, error),
        }
        Ok(())
    }

    /// A parsed response: its ID token verified (when the session verifies signatures) and
    /// validated, then the new token set to be stored. `may_fetch`: the key set may still be
    /// fetched for this response.
    #[cfg_attr(not(feature = "verify"), allow(unused_variables))]
    fn receive(&mut self, now: UnixTime, received: Received, may_fetch: bool) {
        let Received { attempt, sent_at, previous, result } = received;
        #[cfg(feature = "verify")]
        if let Some(keys) = &self.keys {
            match check_id_token_signature(&result, keys, &self.client, now, may_fetch) {
                Ok(SignatureCheck::FetchKeys) => {
                    let request = Some(Box::new(keys.build_request()));
                    let result = Box::new(result);
                    self.state = State::Verifying { attempt, sent_at, previous, result, request };
                    return;
                }
                Ok(_) => {}
                Err(kind) => {
                    let rotated_refresh_token = result.into_refresh_token();
                    let error = IdTokenError { kind, rotated_refresh_token }.into();
                    return self.handle_failure(now, attempt, error);
                }
            }
        }
        match validate_auth_result(result, &self.client.expectations(), previous.as_deref(), now) {
            Ok((result, continuity)) => {
                let Some(tokens) = &self.tokens else { return };
                let lifetime = result.expires_in().map_or(self.default_lifetime, Duration::from_secs);
                let obtained = Obtained { lifetime, expires_at: sent_at + lifetime };
                let mut new = tokens.after_refresh(&result, sent_at, self.default_lifetime);
                if result.scope().is_none() && self.scope.is_some() {
                    new.scope.clone_from(&self.scope); // R17 absent-scope-keeps-requested
                }
                self.continuity = Some(continuity);
                self.forced = false;
                self.cool_until = None;
                self.state =
                    State::Storing { tokens: Box::new(new), handed_out: false, obtained: Some(obtained) };
            }
            Err(error) => self.handle_failure(now, attempt, error),
        }
    }

    /// The response to the key-set request of the last [`Action::FetchKeys`], whatever its
    /// status, received at `now`. The keys are kept by the session's [`KeySetCache`] and the
    /// waiting response's ID token is verified with them; a key still missing is a refusal
    /// ([`SignatureError::UnknownKid`](crate::SignatureError::UnknownKid)), never a second
    /// fetch. A key set that cannot be read fails the refresh with [`Error::Protocol`]
    /// ([`ProtocolErrorKind::KeySet`](crate::ProtocolErrorKind::KeySet)); the response's
    /// rotated refresh token is stored all the same, since the one sent is spent.
    ///
    /// # Errors
    ///
    /// [`OutOfStep`] unless a key-set request is out; the input is then ignored.
    #[cfg(feature = "verify")]
    pub fn handle_key_set_response<B: AsRef<[u8]>>(
        &mut self,
        now: UnixTime,
        response: &Response<B>,
    ) -> Result<(), OutOfStep> {
        let received = self.take_verifying("handle_key_set_response")?;
        let read = self.keys.as_mut().map_or(Ok(()), |keys| keys.handle_key_set_response(now, response));
        match read {
            Ok(()) => self.receive(now, received, false),
            Err(error) => self.fail_keeping_rotated(now, received, error),
        }
        Ok(())
    }

    /// The key-set request of the last [`Action::FetchKeys`] failed without a response (a
    /// transport's [`Error::Transport`]), at `now`. The refresh fails with `error`, not
    /// retried (the refresh token sent is spent); the response's rotated refresh token is
    /// stored all the same.
    ///
    /// # Errors
    ///
    /// [`OutOfStep`] unless a key-set request is out; the input is then ignored.
    #[cfg(feature = "verify")]
    pub fn handle_key_set_error(&mut self, now: UnixTime, error: Error) -> Result<(), OutOfStep> {
        let received = self.take_verifying("handle_key_set_error")?;
        if let Some(keys) = &mut self.keys {
            keys.handle_fetch_failed(now);
        }
        self.fail_keeping_rotated(now, received, error);
        Ok(())
    }

    /// The response waiting for its key set, once the key-set request was handed out.
    #[cfg(feature = "verify")]
    fn take_verifying(&mut self, input: &'static str) -> Result<Received, OutOfStep> {
        match std::mem::replace(&mut self.state, State::Locked) {
            State::Verifying { attempt, sent_at, previous, result, request: None } => {
                Ok(Received { attempt, sent_at, previous, result: *result })
            }
            state => {
                self.state = state;
                Err(OutOfStep::new(input, self.state.name()))
            }
        }
    }

    /// The refresh of `received` fails with `error`; its rotated refresh token, if any, is
    /// stored first (R18 rotated-token-survives-broken-response).
    #[cfg(feature = "verify")]
    fn fail_keeping_rotated(&mut self, now: UnixTime, received: Received, error: Error) {
        match received.result.into_refresh_token() {
            Some(rotated) => self.store_rotated_first(rotated, error),
            None => self.handle_failure(now, received.attempt, error),
        }
    }

    /// The request of the last [`Action::Send`] failed without a response (a transport's
    /// [`Error::Transport`], or the [`Error::Config`] of a URL it refuses), at `now`.
    /// Retried when transient ([`Error::is_retryable`]), otherwise reported.
    ///
    /// # Errors
    ///
    /// [`OutOfStep`] unless a request is out; the input is then ignored.
    pub fn handle_transport_error(&mut self, now: UnixTime, error: Error) -> Result<(), OutOfStep> {
        let State::Sending { attempt, .. } = self.state else {
            return Err(OutOfStep::new("handle_transport_error", self.state.name()));
        };
        self.handle_failure(now, attempt, error);
        Ok(())
    }

    fn handle_failure(&mut self, now: UnixTime, attempt: u32, mut error: Error) {
        self.state = State::Locked;
        if let Some(rotated) = error.take_rotated_refresh_token() {
            return self.store_rotated_first(rotated, error);
        }
        if let Error::Server(oauth) = &error
            && error.is_reauth_required()
        {
            self.dead = Some(oauth.clone());
        } else if error.is_retryable() && attempt < self.max_attempts {
            let mut delay = self.jittered(self.backoff(attempt));
            if let Some(secs) = error.retry_after_secs() {
                delay = delay.max(Duration::from_secs(secs));
            }
            if delay <= self.max_backoff {
                self.state = State::Backoff { attempt: attempt + 1, until: now + delay };
                return;
            }
        }
        self.failure = Some(error);
    }

    /// R18 rotated-token-survives-broken-response: the refresh token that was sent is spent;
    /// the refresh fails with `error` once `rotated` is stored.
    fn store_rotated_first(&mut self, rotated: RefreshToken, error: Error) {
        self.failure = Some(error);
        if let Some(tokens) = &self.tokens {
            let mut new = tokens.clone();
            new.refresh_token = rotated;
            self.state = State::Storing { tokens: Box::new(new), handed_out: false, obtained: None };
        }
    }

    /// The outcome of writing the token set of the last [`Action::Store`]. On success the
    /// set becomes current and its access token may be handed out. On failure the set is
    /// kept in memory all the same (its refresh token may be the only valid one), the next
    /// poll reports [`Error::Store`] (holding the rotated refresh token, if any), and the
    /// set is written again before anything else is handed out.
    ///
    /// # Errors
    ///
    /// [`OutOfStep`] unless a store write is out; the input is then ignored.
    pub fn handle_stored<E>(&mut self, stored: Result<(), E>) -> Result<(), OutOfStep>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    {
        let state = std::mem::replace(&mut self.state, State::Locked);
        let State::Storing { tokens: mut new, obtained, handed_out: true } = state else {
            self.state = state;
            return Err(OutOfStep::new("handle_stored", self.state.name()));
        };
        if obtained.is_some() {
            self.obtained = obtained;
        } else if let Some(old) = &self.tokens
            && old.access_token == new.access_token
        {
            // `new` is a copy of the current set (a rotated refresh token, a rewrite): an
            // access token reported invalid since the copy was made stays invalid.
            new.expires_at = old.expires_at;
        }
        let rotated = self.tokens.as_ref().is_some_and(|old| old.refresh_token != new.refresh_token)
            || self.saved == Saved::NoRotated;
        match stored {
            Ok(()) => {
                self.saved = Saved::Yes;
                // Only an access token this refresh obtained is handed out whatever its
                // lifetime; a set written again may hold one that expired long ago.
                self.refreshed = obtained.is_some();
            }
            Err(e) => {
                self.saved = if rotated { Saved::NoRotated } else { Saved::No };
                let unsaved = rotated.then(|| new.refresh_token.clone());
                // A failure waiting for this write (R18 rotated-token-survives-broken-response)
                // is not lost: the store error says what it came after.
                let after = self.failure.take();
                self.failure = Some(StoreError::write(e, unsaved).after_failure(after).into());
            }
        }
        self.tokens = Some(*new);
        Ok(())
    }

    /// The store refused the write of the last [`Action::Store`] because another writer
    /// stored a newer token set since this session read it: a compare-and-set store whose
    /// lock (a lease) had lapsed while this session refreshed. The session's set is dropped,
    /// never written over the newer one; the next poll says [`Action::Load`] and adopts what
    /// the store holds. The refusal, holding this refresh's rotated refresh token if the
    /// server rotated it ([`StoreError::superseded`]), comes with the next
    /// [`Action::Ready`] as its `refresh_error`.
    ///
    /// # Errors
    ///
    /// [`OutOfStep`] unless a store write is out; the input is then ignored.
    pub fn handle_superseded(&mut self) -> Result<(), OutOfStep> {
        let state = std::mem::replace(&mut self.state, State::Idle);
        let State::Storing { tokens: new, handed_out: true, .. } = state else {
            self.state = state;
            return Err(OutOfStep::new("handle_superseded", self.state.name()));
        };
        let rotated = self.tokens.as_ref().is_some_and(|old| old.refresh_token != new.refresh_token)
            || self.saved == Saved::NoRotated;
        let unsaved = rotated.then(|| new.refresh_token.clone());
        let after = self.failure.take();
        self.superseded = Some(StoreError::superseded(unsaved).after_failure(after).into());
        // Forget the set: the store's newer one is adopted at the next Load.
        self.forget_tokens();
        Ok(())
    }

    /// Drops the token set and what the session knew of it, so that the next `Load` adopts
    /// whatever the store holds.
    fn forget_tokens(&mut self) {
        self.tokens = None;
        self.saved = Saved::Yes;
        self.obtained = None;
        self.refreshed = false;
        self.dead = None;
        self.cool_until = None;
    }

    /// The driver found, right before sending the request of the last [`Action::Send`],
    /// that it no longer holds the store's lock (a lease that lapsed while the process was
    /// paused, say): the request is withdrawn unsent, since the lock's next holder may have
    /// spent its refresh token, and the next poll says [`Action::Load`] to lock and re-read.
    ///
    /// # Errors
    ///
    /// [`OutOfStep`] unless a request is out; the input is then ignored.
    pub fn handle_lock_lost(&mut self) -> Result<(), OutOfStep> {
        let state = std::mem::replace(&mut self.state, State::Idle);
        let State::Sending { .. } = state else {
            self.state = state;
            return Err(OutOfStep::new("handle_lock_lost", self.state.name()));
        };
        Ok(())
    }

    /// An API refused `access_token` (HTTP 401 `invalid_token`, RFC 6750 §3.1): if it is the
    /// session's current access token, it counts as expired and the next poll refreshes.
    /// Returns `true` only for the first report of the current token, so any number of
    /// callers may report the same token and cause one refresh.
    pub fn handle_invalid_access_token(&mut self, access_token: &AccessToken) -> bool {
        match &mut self.tokens {
            Some(tokens)
                if tokens.access_token.as_ref() == Some(access_token) && tokens.expires_at.is_some() =>
            {
                tokens.expires_at = None;
                true
            }
            _ => false,
        }
    }

    /// The grant was ended on purpose (its refresh token revoked, the user signed out) and
    /// the store emptied: the session forgets its token set and whatever it knew about the
    /// last refresh, and its next poll says [`Action::Load`] (then [`Action::SignIn`] with
    /// [`ConfigError::NoTokens`] while the store stays empty). A step handed out and not
    /// reported back is given up, as with [`abandon`](Self::abandon); call this between
    /// refreshes, holding whatever lock your driver takes for a refresh.
    pub fn sign_out(&mut self) {
        self.state = State::Idle;
        self.forget_tokens();
        self.forced = false;
        self.failure = None;
        self.superseded = None;
        self.continuity = None;
    }

    /// Refreshes at the next poll whatever the access token's lifetime (even after adopting
    /// a newer stored set): one refresh, with the newest stored refresh token.
    pub fn force_refresh(&mut self) {
        self.forced = true;
    }

    /// The driver gave up on the step it was handed (its task was cancelled, it panicked)
    /// and released the store's lock. A request's outcome is unknown: the refresh fails
    /// with [`TransportErrorKind::Interrupted`] and is not retried at once. A store write's
    /// outcome is unknown: it counts as failed, and the set is written again first.
    pub fn abandon(&mut self) {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Sending { .. } => {
                self.failure = Some(
                    TransportError::new(TransportErrorKind::Interrupted, "the refresh was abandoned").into(),
                );
            }
            State::Storing { tokens, obtained, .. } => {
                self.state = State::Storing { tokens, handed_out: true, obtained };
                // In step by construction: the state was just set to a write handed out.
                let in_step = self.handle_stored(Err("the store write was abandoned"));
                debug_assert!(in_step.is_ok());
                self.state = State::Idle;
            }
            #[cfg(feature = "verify")]
            State::Verifying { result, .. } => {
                self.failure = Some(
                    TransportError::new(TransportErrorKind::Interrupted, "the key-set fetch was abandoned")
                        .into(),
                );
                // The refresh token sent is spent: the rotated one is kept as a write that
                // failed, to be written first.
                if let (Some(rotated), Some(tokens)) = (result.into_refresh_token(), &self.tokens) {
                    let mut new = tokens.clone();
                    new.refresh_token = rotated;
                    self.state = State::Storing { tokens: Box::new(new), handed_out: true, obtained: None };
                    let in_step = self.handle_stored(Err("the key-set fetch was abandoned"));
                    debug_assert!(in_step.is_ok());
                    self.state = State::Idle;
                }
            }
            State::Idle | State::Loading | State::Locked | State::Backoff { .. } => {}
        }
    }

    /// The backoff before attempt `attempt + 1`, before jitter.
    fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(20);
        self.first_backoff.saturating_mul(1 << doublings).min(self.max_backoff)
    }

    /// How long an early refresh is not retried after it failed.
    fn cooldown(&mut self, error: &Error) -> Duration {
        let retry_after = Duration::from_secs(error.retry_after_secs().unwrap_or(0));
        self.jittered(self.max_backoff).max(retry_after)
    }

    /// `d` scaled by a random factor in [0.5, 1).
    fn jittered(&mut self, d: Duration) -> Duration {
        // splitmix64: a tiny generator, seeded by the caller.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        #[allow(clippy::cast_precision_loss)] // 53 bits: exact in an f64
        let fraction = (z >> 11) as f64 / (1u64 << 53) as f64;
        d.mul_f64(0.5 + 0.5 * fraction)
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("client", &self.client)
            .field("state", &self.state.name())
            .field("has_tokens", &self.tokens.is_some())
            .field("expires_at", &self.tokens.as_ref().and_then(|t| t.expires_at))
            .field("saved", &self.saved)
            .field("forced", &self.forced)
            .field("signed_out", &self.dead.is_some())
            .field("failure_pending", &self.failure.is_some())
            .field("cool_until", &self.cool_until)
            .finish_non_exhaustive()
    }
}
