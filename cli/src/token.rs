//! `oidc-refresh token`: prints a valid access token from a token store shared by any
//! number of concurrent runs, refreshing it first only when needed (R22–R27).
//!
//! The policy — when to refresh, adopting a token set another run stored, retries and their
//! backoff, rotation, what is stored when — is the core's [`Session`], and the loop that
//! drives it with the store (`--store`, or `OIDC_REFRESH_STORE`: see `stores.rs`) is the
//! library's [`Drive`], the very loop of its blocking `TokenManager`. What is this command's
//! own:
//!
//! 1. Without the lock, read the store and start a session from it, `--min-ttl` being its
//!    refresh margin: a fresh access token is printed and nothing else happens (no lock, no
//!    request, no discovery, not even a transport).
//! 2. `--issuer` runs discovery only when the session first hands out a request
//!    ([`Session::set_client`] then replaces the provisional client, and the request built
//!    for it is withdrawn, never sent).
//! 3. A still-valid access token whose early refresh failed is not printed: the exit code
//!    is that of the failure.

use std::time::Duration;

use oidc_refresh::blocking::{Drive, discover};
use oidc_refresh::store::TokenStore;
use oidc_refresh::{Error, Session, SystemClock, TokenSet};

use crate::client::ClientArgs;
use crate::exit::Failure;
use crate::output::print_token;
use crate::stores::{StoreArg, StoreCommand, StoreSpec, open_store, read_failure};
use crate::transport::LazyTransport;

/// Requests in all for one refresh, the first included (contract: at most 3).
const ATTEMPTS: u32 = Session::DEFAULT_MAX_ATTEMPTS;
/// The backoff before the second attempt; doubled before the third; jittered down to half.
/// Shorter than the library's default (1 s): a command line is waited for.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait between attempts. A `Retry-After` asking for more is honoured by
/// giving up at once (the exit code is then that of the failure).
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The largest `--min-ttl`: one day (longer than most access tokens live, so that every run
/// refreshes).
const MAX_MIN_TTL_SECS: u64 = 86_400;

/// Arguments of `token`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    client: ClientArgs,
    // --store (or OIDC_REFRESH_STORE) and --store-key.
    #[command(flatten)]
    store: StoreArg,
    /// Refresh when the stored access token expires within this many seconds (0 to 86400).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = Session::DEFAULT_REFRESH_MARGIN.as_secs(),
        value_parser = clap::value_parser!(u64).range(0..=MAX_MIN_TTL_SECS)
    )]
    min_ttl: u64,
    /// Refresh even when the stored access token is fresh: once per run, serialised with
    /// the other runs through the lock.
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    let spec = args.store.spec(Some(args.client.client_id()))?;
    let exchange_timeout = Duration::from_secs(args.client.timeout);
    open_store(&spec, exchange_timeout, args)
}

impl StoreCommand for Args {
    fn run<S: TokenStore>(self, store: &S, spec: &StoreSpec) -> Result<(), Failure> {
        run_on(&self, store, spec)
    }
}

fn run_on<S: TokenStore>(args: &Args, store: &S, spec: &StoreSpec) -> Result<(), Failure> {
    // Everything that needs no network is checked first, whatever the store holds.
    let prepared = args.client.prepare()?;

    // The fresh path reads without the lock.
    let set = stored_set(store.load(), spec)?;
    let mut session = Session::new(prepared.provisional()?)
        .with_tokens(set)
        .with_refresh_margin(Duration::from_secs(args.min_ttl))
        .with_default_lifetime(Session::DEFAULT_LIFETIME)
        .with_max_attempts(ATTEMPTS)
        .with_backoff(FIRST_BACKOFF, MAX_BACKOFF)
        .with_jitter_seed(jitter_seed());
    if let Some(scope) = args.client.scope() {
        session = session.with_scope(scope);
    }
    if args.force {
        session.force_refresh();
    }
    session.set_key_set_cache(prepared.provisional_keys());

    let transport = LazyTransport::new(&args.client);
    let mut needs_discovery = prepared.needs_discovery();
    // Discovery runs only once a request is due, and is retried as a failed attempt of the
    // refresh would be.
    let mut discover_first = |session: &mut Session| -> Result<bool, Error> {
        if !needs_discovery {
            return Ok(true);
        }
        let resolved = prepared.resolve(|issuer| discover(&transport, issuer))?;
        needs_discovery = false;
        session.set_client(resolved.client);
        if resolved.keys.is_some() {
            session.set_key_set_cache(resolved.keys);
        }
        Ok(false)
    };
    let drive = Drive::new(&transport, store, &SystemClock).before_send(&mut discover_first);
    match drive.run(&mut session) {
        // The stored access token is still valid but expires within --min-ttl, and the
        // refresh failed: the exit code is that of the failure.
        Ok(ready) => match ready.refresh_error {
            Some(e) => Err(e.into()),
            None => print_token(&ready.access_token),
        },
        Err(e) => Err(unusable_store(e, spec).into()),
    }
}

/// A seed for the backoff's jitter, different for every run.
fn jitter_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::process::id())
}

/// The stored token set, checked; a missing, unreadable or unusable store is exit 2 like any
/// other unusable file.
fn stored_set<E>(loaded: Result<Option<TokenSet>, E>, spec: &StoreSpec) -> Result<TokenSet, Failure>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let set = loaded
        .map_err(read_failure)?
        .ok_or_else(|| Failure::usage(format!("the store {spec} does not exist")))?;
    set.checked().map_err(|e| Failure::usage(format!("the store {spec} is malformed: {e}")))
}

/// A store failure about what the store holds (read under the lock) names the store: the
/// library's message alone would not say which file.
fn unusable_store(e: Error, spec: &StoreSpec) -> Error {
    let Error::Store(store) = &e else { return e };
    let Some(cause) = std::error::Error::source(store) else { return e };
    let what = if cause.downcast_ref::<oidc_refresh::UnusableTokenSet>().is_some() {
        format!("the store {spec} is malformed: {cause}")
    } else if cause.downcast_ref::<oidc_refresh::StoreEmptied>().is_some() {
        format!("the store {spec} does not exist any more: it was removed while in use")
    } else {
        return e;
    };
    oidc_refresh::StoreError::read(what).into()
}
