//! An async service: one hyper-transport `TokenManager`, in the application state, shared by
//! every request handler that calls an upstream API on the user's behalf.
//!
//! **The async side needs a tokio runtime** (any flavour, with the I/O and time drivers, as
//! `#[tokio::main]` builds): the hyper transport and the manager's refresh task run on it, and
//! another executor panics at the first exchange.
//!
//! To need no web framework, the example plays the server's part itself: it spawns 16
//! concurrent "requests", each a task that runs the handler. They all find the access token
//! missing at once, and share *one* refresh. With axum, the same state and handler would be
//! mounted as
//!
//! ```text
//! let app = axum::Router::new().route("/profile", axum::routing::get(profile)).with_state(state);
//! // with the handler taking `axum::extract::State(state): State<AppState>`
//! ```
//!
//! ```sh
//! OIDC_ISSUER=https://id.example OIDC_CLIENT_ID=my-app OIDC_REFRESH_TOKEN=... \
//!     API_URL=https://api.example/me cargo run --example async_service --features hyper
//! ```
//!
//! Against the bundled test provider: as for `examples/blocking.rs`, with
//! `--features hyper`. The store is in memory here, so every run needs a new refresh token
//! (the provider rotates it, and the rotated one dies with the process); a real service
//! keeps its tokens in a `FileStore` (see `examples/blocking.rs`) or its own
//! `AsyncTokenStore`.

// A command-line example reports on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Duration;

use oidc_refresh::http::{self, StatusCode, header::AUTHORIZATION};
use oidc_refresh::hyper::{Options, TokenManager, Transport};
use oidc_refresh::store::MemoryStore;
use oidc_refresh::{AccessToken, ClientConfig, RefreshToken};

/// Any error, sendable between tasks.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "\
usage: cargo run --example async_service --features hyper   (configured by environment variables)

  OIDC_ISSUER          the issuer URL (OpenID discovery finds the token endpoint), or
  OIDC_TOKEN_ENDPOINT  the token endpoint URL (no discovery, no issuer check)
  OIDC_CLIENT_ID       the client id (a public client: no secret)
  OIDC_REFRESH_TOKEN   a refresh token from a sign-in (kept in memory: it is spent by the
                       first refresh, and the rotated one is lost at exit)
  API_URL              optional: the upstream API each request calls with the token (GET)

https is required, except to a loopback host (127.0.0.1, [::1], localhost).";

/// How many requests arrive at once.
const REQUESTS: usize = 16;

/// The application state every handler gets, as axum's `State`: cheap to clone, since the
/// clones of a `TokenManager` share everything (the token, the store, the refresh in flight).
#[derive(Clone)]
struct AppState {
    /// The manager: `oidc_refresh::hyper::TokenManager<S>`, here over a `MemoryStore`.
    tokens: TokenManager<MemoryStore>,
    /// The upstream API, if any.
    api_url: Option<String>,
}

// `#[tokio::main]`: a multi-thread runtime with every driver on. The futures of the manager
// and of the transport are `Send`, so they may be spawned on it.
#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(problem) => {
            eprintln!("async_service: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Errors of this crate never show a token: printing them is safe.
            eprintln!("async_service: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), BoxError> {
    // At start-up, once: the transport, the client, the store, the manager.
    let transport = Transport::new(Options::default().timeout(Duration::from_secs(10)))?;
    let client = match &config.endpoint {
        Endpoint::Issuer(issuer) => transport.discover(issuer).await?.client(&config.client_id)?,
        Endpoint::TokenEndpoint(url) => ClientConfig::new(url, &config.client_id)?,
    };
    let seed = RefreshToken::new(config.refresh_token);
    let store = MemoryStore::from_refresh_token(seed.clone());
    let state = AppState { tokens: TokenManager::new(transport, client, store), api_url: config.api_url };

    // Requests arriving at once: every handler runs in its own task, on any runtime thread.
    let requests: Vec<_> = (0..REQUESTS).map(|_| tokio::spawn(profile(state.clone()))).collect();
    let mut tokens: Vec<AccessToken> = Vec::new();
    for request in requests {
        let (token, answer) = request.await??;
        println!("request: {answer}");
        if !tokens.contains(&token) {
            tokens.push(token);
        }
    }
    // No token was there, 16 handlers asked at once, and one refresh served them all: the
    // refresh token was sent once (sending a rotating one twice makes a provider revoke the
    // whole grant).
    println!("{REQUESTS} concurrent requests, {} access token(s) handed out", tokens.len());

    // The store holds the rotated refresh token, stored before the access token came out.
    let stored = state.tokens.store().tokens().ok_or("the store is empty")?;
    println!("refresh token rotated and stored: {}", stored.refresh_token != seed);
    Ok(())
}

/// The request handler (axum: `async fn profile(State(state): State<AppState>) -> ...`): it
/// calls the upstream API with a valid access token, and returns the token it used (for the
/// example's report) and what it would answer.
async fn profile(state: AppState) -> Result<(AccessToken, String), BoxError> {
    // A valid access token: while it is fresh, at once and without any lock or I/O;
    // otherwise this task waits for the one refresh in flight, shared by every task.
    let mut token = state.tokens.access_token().await?;
    let Some(api_url) = &state.api_url else {
        return Ok((token.clone(), format!("got an access token of {} bytes (no API_URL)", token.len())));
    };
    let mut response = call_api(&state.tokens, api_url, &token).await?;
    if response.status() == StatusCode::UNAUTHORIZED {
        // The API refused the token: report it, and the next `access_token` refreshes, once,
        // however many tasks report the same token at the same time.
        state.tokens.invalidate(&token);
        token = state.tokens.access_token().await?;
        response = call_api(&state.tokens, api_url, &token).await?;
        return Ok((token, format!("GET {api_url}: 401, then {} with a new token", response.status())));
    }
    Ok((token, format!("GET {api_url}: {}", response.status())))
}

/// One API call with `token` as a bearer token.
///
/// Any async HTTP client does (reqwest, hyper, ...). To need no other dependency, this one
/// borrows the manager's transport: its `execute` sends any single request, with the same
/// policy as for the token endpoint (no redirects, a capped body, one deadline).
async fn call_api(
    tokens: &TokenManager<MemoryStore>,
    url: &str,
    token: &AccessToken,
) -> Result<http::Response<Vec<u8>>, BoxError> {
    // `Authorization: Bearer ...`, marked sensitive: hyper never logs or compresses it.
    let request = http::Request::get(url).header(AUTHORIZATION, token.bearer_header()?).body(Vec::new())?;
    Ok(tokens.exchange().execute(request).await?)
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
    refresh_token: String,
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
        Ok(Self {
            endpoint,
            client_id: var("OIDC_CLIENT_ID").ok_or("OIDC_CLIENT_ID is missing")?,
            refresh_token: var("OIDC_REFRESH_TOKEN")
                .ok_or("OIDC_REFRESH_TOKEN is missing")?
                .trim()
                .to_owned(),
            api_url: var("API_URL"),
        })
    }
}
