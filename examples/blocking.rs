//! A blocking program that keeps an OAuth 2.0 / OpenID Connect session alive: the ureq
//! `TokenManager` over a `FileStore`, seeded once from a refresh token.
//!
//! It gets a valid access token (refreshing it, and storing the rotated refresh token, when
//! needed), presents it to an API in a sensitive `Authorization` header, and reports a 401 to
//! the manager so that the next token is a new one.
//!
//! ```sh
//! OIDC_ISSUER=https://id.example OIDC_CLIENT_ID=my-app OIDC_REFRESH_TOKEN=... \
//!     API_URL=https://api.example/me cargo run --example blocking
//! ```
//!
//! Against the bundled test provider (`testing/provider`, see its README), in one shell:
//!
//! ```sh
//! node testing/provider/server.js &          # prints {"issuer":"http://127.0.0.1:PORT",...}
//! export OIDC_ISSUER=http://127.0.0.1:PORT OIDC_CLIENT_ID=public-client
//! export OIDC_REFRESH_TOKEN=$(node testing/provider/login.js "$OIDC_ISSUER" public-client \
//!     | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0)).refresh_token)')
//! API_URL=$OIDC_ISSUER/me cargo run --example blocking    # /me: the provider's userinfo
//! ```
//!
//! Run it again: the store file already holds the rotated refresh token (the one in
//! `OIDC_REFRESH_TOKEN` is spent) and a fresh access token, so no refresh is sent (only the
//! discovery document is fetched).

// A command-line example reports on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use oidc_refresh::http::{self, StatusCode, header::AUTHORIZATION};
use oidc_refresh::store::{FileStore, TokenStore};
use oidc_refresh::ureq::{Options, TokenManager, Transport};
use oidc_refresh::{AccessToken, ClientConfig, RefreshToken};

const USAGE: &str = "\
usage: cargo run --example blocking   (configured by environment variables)

  OIDC_ISSUER          the issuer URL (OpenID discovery finds the token endpoint), or
  OIDC_TOKEN_ENDPOINT  the token endpoint URL (no discovery, no issuer check)
  OIDC_CLIENT_ID       the client id (a public client: no secret)
  OIDC_REFRESH_TOKEN   a refresh token from a sign-in; seeds the store when it is empty,
                       ignored when the store already holds a token set
  OIDC_STORE           the token store file (default: oidc-refresh-example.json in the
                       temporary folder); shareable with other processes and with
                       `oidc-refresh token --store FILE`
  API_URL              optional: an API to call with the access token (GET)

https is required, except to a loopback host (127.0.0.1, [::1], localhost).";

fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(problem) => {
            eprintln!("blocking: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Errors of this crate never show a token: printing them is safe.
            eprintln!("blocking: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    // 1. One transport per program: it refuses redirects, caps response bodies and puts one
    //    deadline on each exchange. Clones are cheap and share its connection pool.
    let transport = Transport::new(Options::default().timeout(Duration::from_secs(10)))?;

    // 2. The client: from the issuer's discovery document (its ID tokens must then name this
    //    issuer), or straight from a token endpoint.
    let client = match &config.endpoint {
        Endpoint::Issuer(issuer) => transport.discover(issuer)?.client(&config.client_id)?,
        Endpoint::TokenEndpoint(url) => ClientConfig::new(url, &config.client_id)?,
    };

    // 3. The store: one JSON file (mode 0600), written atomically, locked with `flock` on
    //    FILE.lock, so any number of threads and processes may share it. `seed` writes the
    //    refresh token only into an empty store: once the server has rotated it, the store
    //    holds the newer one, and the seed (already spent) must never be sent again.
    let store = FileStore::new(&config.store);
    match &config.refresh_token {
        Some(seed) if store.seed(RefreshToken::new(seed.as_str()))? => {
            println!("store {}: seeded with OIDC_REFRESH_TOKEN", config.store.display());
        }
        Some(_) => println!("store {}: holds a token set already, kept", config.store.display()),
        None if store.load()?.is_none() => {
            return Err("the store is empty: set OIDC_REFRESH_TOKEN to seed it".into());
        }
        None => println!("store {}: holds a token set", config.store.display()),
    }

    // 4. The manager: share it (it is `Clone`, clones share everything) with every thread that
    //    needs a token. It refreshes at most once per refresh token, stores the new token set
    //    *before* handing out its access token, and retries transient failures.
    let manager = TokenManager::new(transport, client, store);

    // 5. A valid access token.
    let token = match manager.access_token() {
        Ok(token) => token,
        // `invalid_grant` (the refresh token is spent, revoked or expired) or an empty store:
        // the user must sign in again, and the new refresh token be written to the store
        // (`TokenStore::init`), or the store file removed and seeded again.
        Err(e) if e.is_reauth_required() => return Err(format!("sign in again: {e}").into()),
        Err(e) => return Err(e.into()),
    };
    println!("access token: {} bytes", token.len()); // never the token itself

    // A second call while the token is fresh: no lock, no I/O, the same token.
    assert_eq!(manager.access_token()?, token);

    // 6. Present it to an API. Any HTTP client does; this one is ureq, used directly.
    let Some(api_url) = &config.api_url else {
        println!("no API_URL: done");
        return Ok(());
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false) // a 401 is an answer to look at, not an error
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let (mut status, mut body) = call_api(&agent, api_url, &token)?;
    if status == StatusCode::UNAUTHORIZED {
        // The API refused the token (revoked, or expired before its announced time; strictly
        // a 401 whose `WWW-Authenticate` says `error="invalid_token"`). Report it: the next
        // `access_token` refreshes, once, however many threads report the same token.
        println!("GET {api_url}: 401, the token is refused: invalidated, and refreshed");
        manager.invalidate(&token);
        let token = manager.access_token()?;
        (status, body) = call_api(&agent, api_url, &token)?;
    }
    println!("GET {api_url}: {status}");
    println!("{}", body.chars().take(300).collect::<String>());
    Ok(())
}

/// One API call with `token` as a bearer token: the status and the body (at most 64 KiB).
fn call_api(
    agent: &ureq::Agent,
    url: &str,
    token: &AccessToken,
) -> Result<(StatusCode, String), Box<dyn std::error::Error>> {
    // `Authorization: Bearer ...`, marked sensitive: HTTP stacks that honour the mark never
    // log or compress it, and its `Debug` is `Sensitive`.
    let authorization = token.bearer_header()?;
    assert_eq!(format!("{authorization:?}"), "Sensitive");
    let request = http::Request::get(url).header(AUTHORIZATION, authorization).body(())?;
    let mut response = agent.run(request)?;
    let body = response.body_mut().with_config().limit(64 * 1024).read_to_string()?;
    Ok((response.status(), body))
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
    refresh_token: Option<String>,
    store: PathBuf,
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
            refresh_token: var("OIDC_REFRESH_TOKEN").map(|t| t.trim().to_owned()),
            store: var("OIDC_STORE")
                .map_or_else(|| std::env::temp_dir().join("oidc-refresh-example.json"), PathBuf::from),
            api_url: var("API_URL"),
        })
    }
}
