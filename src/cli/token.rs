//! `oidc-refresh token`: prints a valid access token from a token store shared by any
//! number of concurrent runs, refreshing it first only when needed (rules 22-27).
//!
//! The policy — when to refresh, adopting a token set another run stored, retries and their
//! backoff, rotation, what is stored when — is the core's [`Session`]. This command drives
//! it with the [`FileStore`] and a transport, as the library's `TokenManager` does, so the
//! library and the command line share one policy. The protocol, with `FILE.lock` (see
//! `oidc_refresh::store`):
//!
//! 1. Without the lock, read the store and start a session from it, `--min-ttl` being its
//!    refresh margin: a fresh access token is printed and nothing else happens (no lock, no
//!    request, no discovery).
//! 2. Otherwise (or with `--force`: [`Session::force_refresh`], one refresh per run) the
//!    session asks for the lock ([`Action::Load`]): lock, re-read, and the session adopts a
//!    token set that another run stored meanwhile; a fresh one is printed (not with
//!    `--force`, which refreshes with the newest stored refresh token).
//! 3. Otherwise the session refreshes with the *stored* refresh token ([`Action::Send`];
//!    `--issuer` runs discovery only now, [`Session::set_client`]), retrying transient
//!    failures ([`Action::Wait`]), hands out the new token set to save
//!    ([`Action::Store`]), and only then the access token, which is printed; then unlock.

use std::hash::BuildHasher;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oidc_refresh::store::{FileStore, FileStoreError, FileStoreGuard};
use oidc_refresh::{
    AccessToken, Action, Error, Session, StoreGuard, TokenSet, TokenStore, TransportError,
    TransportErrorKind, UnixTime, check_refresh_token, decode_id_token,
};

use super::Failure;
use super::refresh::{ClientArgs, Transport};

/// The lifetime of an access token whose response gave no `expires_in` (contract: 300 s).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// Requests in all for one refresh, the first included (contract: at most 3).
const ATTEMPTS: u32 = 3;
/// The backoff before the second attempt; doubled before the third; jittered down to half.
/// Shorter than the library's default (1 s): a command line is waited for.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait between attempts. A `Retry-After` asking for more is honoured by
/// giving up at once (the exit code is then that of the failure).
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Arguments of `token`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    client: ClientArgs,
    /// The token store: a JSON object with refresh_token (required), access_token, id_token,
    /// token_type, scope and expires_at; concurrent runs share it through FILE.lock.
    #[arg(long, value_name = "FILE")]
    store: PathBuf,
    /// Refresh when the stored access token expires within this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    min_ttl: u64,
    /// Refresh even when the stored access token is fresh: once per run, serialised with
    /// the other runs through the lock.
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    // Everything that needs no network is checked first, whatever the store holds.
    let prepared = args.client.prepare()?;
    Transport::check_available(&args.client)?;
    let store = FileStore::new(&args.store);

    // The fresh path reads without the lock.
    let set = stored_set(store.load(), &args.store)?;
    let set = checked(set, &args.store).map_err(|e| Failure::usage(e.0))?;
    let seed = std::collections::hash_map::RandomState::new().hash_one(now().duration_since_epoch());
    let mut session = Session::new(prepared.provisional()?)
        .with_tokens(set)
        .with_refresh_margin(Duration::from_secs(args.min_ttl))
        .with_default_lifetime(DEFAULT_LIFETIME)
        .with_max_attempts(ATTEMPTS)
        .with_backoff(FIRST_BACKOFF, MAX_BACKOFF)
        .with_jitter_seed(seed);
    if let Some(scope) = args.client.scope() {
        session = session.with_scope(scope);
    }
    if args.force {
        session.force_refresh();
    }

    let mut transport = None; // built when the first request is due
    let mut needs_discovery = prepared.needs_discovery();
    let mut lock: Option<FileStoreGuard> = None; // from Load to the end of the run
    let mut requests = 0_u32;
    loop {
        let now = now();
        match session.poll(now) {
            Action::Ready { access_token, refresh_error, .. } => {
                if let Some(e) = refresh_error {
                    // The stored access token is still valid but expires within --min-ttl,
                    // and the refresh failed: the exit code is that of the failure.
                    return Err(e.into());
                }
                match (lock.is_some(), requests) {
                    (false, _) => tracing::debug!("the stored access token is fresh: no request"),
                    (true, 0) => tracing::debug!("another run refreshed meanwhile: no request"),
                    (true, _) => tracing::debug!("the new token set is stored"),
                }
                let printed = print_token(&access_token);
                drop(lock); // unlock only once the new set is stored
                return printed;
            }
            Action::Load => {
                tracing::debug!(lock = %store.lock_path().display(), "taking the store's lock");
                match store.lock() {
                    Ok(guard) => {
                        tracing::debug!("store locked");
                        let guard = lock.insert(guard);
                        session.handle_loaded(load_checked(guard, &args.store));
                    }
                    Err(e) => session.handle_loaded(Err(e)),
                }
            }
            Action::Send(request) => {
                let transport = match &mut transport {
                    Some(t) => t,
                    None => transport.insert(Transport::new(&args.client)?),
                };
                if needs_discovery {
                    // The request was built for the provisional client: it is not sent.
                    // Discovery runs only now that a refresh is due, and is retried as a
                    // failed attempt of the refresh would be.
                    match prepared.resolve(|issuer| transport.discover(issuer)) {
                        Ok(client) => {
                            needs_discovery = false;
                            session.set_client(client);
                        }
                        Err(e) => session.handle_transport_error(self::now(), e),
                    }
                    continue;
                }
                requests += 1;
                tracing::debug!(attempt = requests, "refreshing with the stored refresh token");
                match transport.execute(request) {
                    Ok(response) => session.handle_response(self::now(), &response),
                    Err(e) => session.handle_transport_error(self::now(), e),
                }
            }
            Action::Store(tokens) => match lock.as_mut() {
                Some(guard) => session.handle_stored(guard.save(&tokens)),
                None => session.handle_stored(Err("the store is not locked")),
            },
            Action::Wait(until) => {
                let wait = until.saturating_duration_since(now);
                tracing::debug!(
                    wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "transient failure: retrying"
                );
                std::thread::sleep(wait);
            }
            // One driver never sees a step out; should it, the step is given up.
            Action::Pending => session.abandon(),
            Action::Failed(e) | Action::SignIn(e) => {
                tracing::debug!(fault = e.fault().as_str(), error = %e, "giving up");
                return Err(e.into());
            }
            other => {
                session.abandon();
                let what = format!("unexpected session action {other:?}");
                return Err(Error::from(TransportError::new(TransportErrorKind::Other, what)).into());
            }
        }
    }
}

/// The stored token set; a missing store is exit 2 like any other unusable file.
fn stored_set(loaded: Result<Option<TokenSet>, FileStoreError>, path: &Path) -> Result<TokenSet, Failure> {
    loaded.map_err(|e| Failure::usage(e.to_string()))?.ok_or_else(|| Failure::usage(does_not_exist(path)))
}

fn does_not_exist(path: &Path) -> String {
    format!("the store {} does not exist", path.display())
}

/// Reads the store under the lock, for [`Session::handle_loaded`]: what the store holds,
/// checked as the unlocked read is. A store that vanished or became unusable since is a
/// store failure (exit 2), never an empty store to refresh into.
fn load_checked(guard: &mut FileStoreGuard, path: &Path) -> Result<Option<TokenSet>, StoreUnusable> {
    match guard.load() {
        Ok(Some(set)) => checked(set, path).map(Some),
        Ok(None) => Err(StoreUnusable(does_not_exist(path))),
        Err(e) => Err(StoreUnusable(e.to_string())),
    }
}

/// The store cannot be used; the message names the file and never shows its content.
#[derive(Debug)]
struct StoreUnusable(String);

impl std::fmt::Display for StoreUnusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreUnusable {}

/// Checks what the store holds before anything uses it: a refresh token the core would
/// refuse, or a previous ID token that does not decode, makes a malformed store (exit 2).
/// An empty access token counts as none (it is refreshed), an empty ID token as no previous
/// ID token.
fn checked(mut set: TokenSet, path: &Path) -> Result<TokenSet, StoreUnusable> {
    let malformed = |what: &str, e: &dyn std::fmt::Display| {
        StoreUnusable(format!("the store {} is malformed: {what}: {e}", path.display()))
    };
    check_refresh_token(&set.refresh_token).map_err(|e| malformed("its refresh_token is unusable", &e))?;
    if set.id_token.as_ref().is_some_and(|jwt| jwt.is_empty()) {
        set.id_token = None;
    }
    if let Some(jwt) = &set.id_token {
        decode_id_token(jwt.expose_secret())
            .map_err(|e| malformed("its id_token (the previous ID token) cannot be decoded", &e))?;
    }
    if set.access_token.as_ref().is_some_and(|token| token.is_empty()) {
        set.access_token = None;
    }
    Ok(set)
}

fn now() -> UnixTime {
    UnixTime::from_duration_since_epoch(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default())
}

/// The access token and a newline on stdout.
fn print_token(token: &AccessToken) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    writeln!(out, "{}", token.expose_secret())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::usage(format!("cannot write to standard output: {e}")))
}
