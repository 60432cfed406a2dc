//! Bring your own HTTP client: only the sans-IO core, `oidc-refresh-core`, which builds
//! requests as `http::Request<Vec<u8>>`, reads responses as `http::Response`, and never
//! touches a socket, a file or the clock. Here the HTTP client is ureq, used directly; any
//! other does as well (the core does not know which one sends its bytes).
//!
//! Two shapes of the core are shown:
//!
//! - **a pure one-step function pair** for OpenID discovery: `build_discovery_request`, send,
//!   `parse_discovery_response` (the refresh has its own pair, `build_refresh_request` and
//!   `check_refresh_response`, for a single refresh by hand);
//! - **the `Session` state machine** for keeping the session alive: ask it what to do
//!   (`poll`), do it, tell it what happened (`handle_*`). It owns the policy: when to
//!   refresh, rotation, storing before use, retries with backoff, `invalid_grant`. This loop
//!   is what `oidc-refresh-driver` runs for the ureq and hyper `TokenManager`s.
//!
//! ```sh
//! OIDC_ISSUER=https://id.example OIDC_CLIENT_ID=my-app OIDC_REFRESH_TOKEN=... \
//!     API_URL=https://api.example/me cargo run --example bring_your_own_client
//! ```
//!
//! Against the bundled test provider: as for `examples/blocking.rs`. The token set is kept
//! in a variable here, so every run needs a new refresh token (see `Store` below).

// A command-line example reports on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oidc_refresh_core::http::{self, StatusCode, header::AUTHORIZATION};
use oidc_refresh_core::{
    AccessToken, Action, ClientConfig, Error, RefreshToken, Session, TokenSet, TransportError,
    TransportErrorKind, UnixTime, build_discovery_request, parse_discovery_response,
};

const USAGE: &str = "\
usage: cargo run --example bring_your_own_client   (configured by environment variables)

  OIDC_ISSUER          the issuer URL (OpenID discovery finds the token endpoint), or
  OIDC_TOKEN_ENDPOINT  the token endpoint URL (no discovery, no issuer check)
  OIDC_CLIENT_ID       the client id (a public client: no secret)
  OIDC_REFRESH_TOKEN   a refresh token from a sign-in (kept in memory: it is spent by the
                       first refresh, and the rotated one is lost at exit)
  API_URL              optional: an API to call with the access token (GET)

https is required, except to a loopback host (127.0.0.1, [::1], localhost).";

/// The largest response body read: a token response is a few kilobytes.
const MAX_BODY: u64 = 1024 * 1024;

fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(problem) => {
            eprintln!("bring_your_own_client: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Errors of the core never show a token: printing them is safe.
            eprintln!("bring_your_own_client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    // Your HTTP client, configured as a token client should be: no redirects followed (a
    // refresh token must not be sent elsewhere), one deadline per exchange, and every status
    // handed back as a response (the core reads error bodies: `invalid_grant` comes as a 400).
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();

    // One-step functions: OpenID discovery. Build the request, send it, parse the answer.
    let client = match &config.endpoint {
        Endpoint::Issuer(issuer) => {
            let request = build_discovery_request(issuer)?;
            let response = send(&agent, request)?;
            parse_discovery_response(&response, issuer)?.client(&config.client_id)?
        }
        Endpoint::TokenEndpoint(url) => ClientConfig::new(url, &config.client_id)?,
    };

    // The session: the core has no randomness, so the retry jitter's seed comes from here
    // (different processes should not retry in step).
    let mut session =
        Session::new(client).with_jitter_seed(RandomState::new().hash_one(now().duration_since_epoch()));
    let mut store = Store { tokens: Some(TokenSet::from_refresh_token(config.refresh_token)) };

    let token = access_token(&mut session, &mut store, &agent)?;
    println!("access token: {} bytes", token.len()); // never the token itself

    // A second call while the token is fresh: the session answers at once, without any I/O.
    assert_eq!(access_token(&mut session, &mut store, &agent)?, token);

    let Some(api_url) = &config.api_url else {
        println!("no API_URL: done");
        return Ok(());
    };
    let mut response = call_api(&agent, api_url, &token)?;
    if response.status() == StatusCode::UNAUTHORIZED {
        // The API refused the token: tell the session, and the next poll refreshes.
        println!("GET {api_url}: 401, the token is refused: invalidated, and refreshed");
        session.handle_invalid_access_token(&token);
        let token = access_token(&mut session, &mut store, &agent)?;
        response = call_api(&agent, api_url, &token)?;
    }
    let body = String::from_utf8_lossy(response.body());
    println!("GET {api_url}: {}", response.status());
    println!("{}", body.chars().take(300).collect::<String>());
    Ok(())
}

/// The run loop: a valid access token, whatever it takes. The session says what to do next;
/// this function does it with the real clock, the real network and the store, and reports
/// back. (With several threads, put the session behind a mutex, and hold the store's lock
/// from `Load` until the loop ends: the driver crate's `TokenManager`s do exactly that.)
fn access_token(session: &mut Session, store: &mut Store, agent: &ureq::Agent) -> Result<AccessToken, Error> {
    loop {
        let time = now(); // read the clock once per step
        match session.poll(time) {
            // Done: hand the token out (a real store is unlocked here).
            Action::Ready { access_token, .. } => return Ok(access_token),
            // Lock the store and read it under the lock: another process may have refreshed.
            // (Each `handle_*` says `OutOfStep` when called at the wrong step: a bug here.)
            Action::Load => session.handle_loaded(Ok::<_, Error>(store.tokens.clone()))?,
            // Send the refresh request (its body holds the refresh token: never log it).
            // `time` was its send time: the token's lifetime counts from it.
            Action::Send(request) => match send(agent, request) {
                Ok(response) => session.handle_response(now(), &response)?,
                Err(error) => session.handle_transport_error(now(), error)?,
            },
            // Write the new token set (rotated refresh token included) *before* the access
            // token is used; the session hands it out only after `handle_stored`.
            Action::Store(tokens) => session.handle_stored(store.save(tokens))?,
            // A transient failure (a timeout, a 503, `slow_down`): retry after the backoff.
            Action::Wait(until) => std::thread::sleep(until.saturating_duration_since(time)),
            // No valid access token: report the error (a later call tries again).
            Action::Failed(error) => return Err(error),
            // `invalid_grant`, or no token at all: the user must sign in again.
            Action::SignIn(error) => return Err(error),
            // `Pending`: another driver has a step out; impossible with one driver.
            // (`Action` may gain variants: a newer core's.)
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Sends one request with ureq and reads the whole response, mapping ureq's failures to the
/// core's `TransportError` (whose kind decides whether the session retries).
fn send(agent: &ureq::Agent, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, Error> {
    let fail = |e: ureq::Error| -> Error {
        let kind = match &e {
            ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => TransportErrorKind::Connect,
            ureq::Error::BodyExceedsLimit(_) => TransportErrorKind::BodyTooLarge,
            ureq::Error::Io(_) => TransportErrorKind::Interrupted,
            _ => TransportErrorKind::Other,
        };
        TransportError::new(kind, e).into()
    };
    let response = agent.run(request).map_err(fail)?;
    if response.status().is_redirection() {
        let redirect = format!("refused a redirect ({})", response.status());
        return Err(TransportError::new(TransportErrorKind::Redirect, redirect).into());
    }
    let (parts, body) = response.into_parts();
    let body = body.into_with_config().limit(MAX_BODY).read_to_vec().map_err(fail)?;
    Ok(http::Response::from_parts(parts, body))
}

/// One API call with `token` as a bearer token.
fn call_api(
    agent: &ureq::Agent,
    url: &str,
    token: &AccessToken,
) -> Result<http::Response<Vec<u8>>, Box<dyn std::error::Error>> {
    // `Authorization: Bearer ...`, marked sensitive (HTTP stacks that honour the mark never log
    // or compress it).
    let request = http::Request::get(url).header(AUTHORIZATION, token.bearer_header()?).body(Vec::new())?;
    Ok(send(agent, request)?)
}

/// The current time, as the core takes it.
fn now() -> UnixTime {
    UnixTime::from_duration_since_epoch(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default())
}

/// Your store of the token set. Here a variable: the rotated refresh token dies with the
/// process. A real one writes the set (it serialises to the JSON of `oidc-refresh token
/// --store`) where it survives a restart, atomically, under a lock shared by every process
/// that refreshes this grant; `oidc_refresh_driver::store::FileStore` is one.
struct Store {
    tokens: Option<TokenSet>,
}

impl Store {
    fn save(&mut self, tokens: TokenSet) -> Result<(), Error> {
        self.tokens = Some(tokens);
        Ok(())
    }
}

/// Where the token endpoint comes from.
enum Endpoint {
    Issuer(String),
    TokenEndpoint(String),
}

/// The example's configuration, from the environment.
struct Config {
    endpoint: Endpoint,
    client_id: String,
    refresh_token: RefreshToken,
    api_url: Option<String>,
}

impl Config {
    fn from_env() -> Result<Self, String> {
        // An empty variable counts as unset.
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let endpoint = match (var("OIDC_ISSUER"), var("OIDC_TOKEN_ENDPOINT")) {
            (Some(issuer), None) => Endpoint::Issuer(issuer),
            (None, Some(url)) => Endpoint::TokenEndpoint(url),
            (Some(_), Some(_)) => return Err("set OIDC_ISSUER or OIDC_TOKEN_ENDPOINT, not both".into()),
            (None, None) => return Err("OIDC_ISSUER or OIDC_TOKEN_ENDPOINT is missing".into()),
        };
        let refresh_token = var("OIDC_REFRESH_TOKEN").ok_or("OIDC_REFRESH_TOKEN is missing")?;
        Ok(Self {
            endpoint,
            client_id: var("OIDC_CLIENT_ID").ok_or("OIDC_CLIENT_ID is missing")?,
            refresh_token: RefreshToken::new(refresh_token.trim()),
            api_url: var("API_URL"),
        })
    }
}
