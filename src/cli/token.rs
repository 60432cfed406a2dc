//! `oidc-refresh token`: prints a valid access token from a token store shared by any
//! number of concurrent runs, refreshing it first only when needed (rules 22-27).
//!
//! The protocol, with `FILE.lock` (see `oidc_refresh::store`):
//!
//! 1. Without the lock, read the store: a fresh access token is printed and nothing else
//!    happens (no request, no discovery).
//! 2. Otherwise (or with `--force`) lock, re-read, and print a token that another run made
//!    fresh meanwhile (not with `--force`).
//! 3. Otherwise refresh with the *stored* refresh token, retrying transient failures, save
//!    the new token set, print the access token, unlock.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oidc_refresh::store::{FileStore, FileStoreError, FileStoreGuard};
use oidc_refresh::{
    AccessToken, AuthResult, Error, IdTokenPayload, RefreshParams, StoreGuard, TokenSet, TokenStore,
    UnixTime, check_refresh_token, decode_id_token,
};

use super::Failure;
use super::refresh::{ClientArgs, Transport, rotated_not_stored};

/// The lifetime of an access token whose response gave no `expires_in` (contract: 300 s).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// Requests in all for one refresh (and for one discovery), the first included.
const ATTEMPTS: u32 = 3;
/// The backoff before the second attempt; doubled before the third; jittered down to half.
const BASE_DELAY: Duration = Duration::from_millis(500);
/// The longest wait between attempts. A `Retry-After` asking for more is honoured by
/// giving up at once (the exit code is then that of the failure).
const MAX_WAIT: Duration = Duration::from_secs(10);

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
    let min_ttl = Duration::from_secs(args.min_ttl);

    if !args.force {
        let set = stored_set(store.load(), &args.store)?;
        check_stored(&set, &args.store)?;
        if let Some(token) = fresh(&set, min_ttl) {
            tracing::debug!(expires_at = set.expires_at, "the stored access token is fresh: no request");
            return print_token(token);
        }
    }

    tracing::debug!(lock = %store.lock_path().display(), "taking the store's lock");
    let mut guard = store.lock().map_err(store_failure)?;
    tracing::debug!("store locked");
    let set = stored_set(guard.load(), &args.store)?;
    let previous = check_stored(&set, &args.store)?;
    if !args.force
        && let Some(token) = fresh(&set, min_ttl)
    {
        tracing::debug!(expires_at = set.expires_at, "another run refreshed meanwhile: no request");
        return print_token(token);
    }

    let transport = Transport::new(&args.client)?;
    let client = prepared.resolve(|issuer| with_retries("discovery", || transport.discover(issuer)))?;
    let mut params = RefreshParams::new(&set.refresh_token);
    if let Some(scope) = args.client.scope() {
        params = params.scope(scope);
    }
    let outcome = with_retries("refresh", || {
        // Read before the request is sent, so that a lifetime is never overstated.
        let sent_at = now();
        transport.refresh(&client, &params, previous.as_ref()).map(|(result, _)| (result, sent_at))
    });

    match outcome {
        Ok((result, sent_at)) => {
            let mut new = set.after_refresh(&result, sent_at, DEFAULT_LIFETIME);
            if result.scope().is_none() {
                // Rule 17: no scope in the response means the requested one was granted.
                if let Some(requested) = args.client.scope() {
                    new.scope = Some(requested.to_owned());
                }
            }
            save(&mut guard, &new, rotation(&set, &result), None)?;
            tracing::debug!(expires_at = new.expires_at, "the new token set is stored");
            let token = new.access_token.as_ref().ok_or_else(|| Failure::usage("no access token"))?;
            print_token(token)
        }
        Err(mut e) => {
            let rotated = e.take_rotated_refresh_token();
            let failure = Failure::from(e);
            if let Some(rotated) = rotated {
                // Rule 18: the sent refresh token is spent; keep the new one, and nothing
                // else from the broken response (the access and ID tokens stay the old ones).
                let mut kept = set.clone();
                kept.refresh_token = rotated;
                let changed = kept.refresh_token != set.refresh_token;
                save(&mut guard, &kept, changed.then_some(&kept.refresh_token), Some(&failure))?;
                tracing::debug!("the rotated refresh token is stored despite the failure");
            }
            Err(failure)
        }
    }
}

/// The refresh token the server rotated to, if it is a new one.
fn rotation<'a>(set: &TokenSet, result: &'a AuthResult) -> Option<&'a oidc_refresh::RefreshToken> {
    result.refresh_token().filter(|rt| **rt != set.refresh_token)
}

/// Saves under the lock. When that fails after the server rotated the refresh token, the
/// new one is printed alone on stdout (exit 7); otherwise the store still holds a usable
/// refresh token and the failure is exit 2.
fn save(
    guard: &mut FileStoreGuard,
    set: &TokenSet,
    rotated: Option<&oidc_refresh::RefreshToken>,
    after: Option<&Failure>,
) -> Result<(), Failure> {
    match (guard.save(set), rotated) {
        (Ok(()), _) => Ok(()),
        (Err(e), Some(rotated)) => Err(rotated_not_stored(rotated, &store_write_reason(&e), after)),
        (Err(e), None) => Err(store_failure(e)),
    }
}

fn store_write_reason(e: &FileStoreError) -> String {
    match e.io_error() {
        Some(io) => format!("the store {} cannot be written: {io}", e.path().display()),
        None => format!("the store cannot be written: {e}"),
    }
}

/// The stored token set; a missing store is exit 2 like any other unusable file.
fn stored_set(loaded: Result<Option<TokenSet>, FileStoreError>, path: &Path) -> Result<TokenSet, Failure> {
    loaded
        .map_err(store_failure)?
        .ok_or_else(|| Failure::usage(format!("the store {} does not exist", path.display())))
}

/// Store errors (unreadable, malformed, cannot lock, cannot write) are exit 2.
fn store_failure(e: FileStoreError) -> Failure {
    Failure::usage(e.to_string())
}

/// Checks what the store holds before anything uses it: a refresh token the core would
/// refuse, or a previous ID token that does not decode, makes a malformed store (exit 2).
/// Returns the previous ID token's claims for the continuity checks.
fn check_stored(set: &TokenSet, path: &Path) -> Result<Option<IdTokenPayload>, Failure> {
    check_refresh_token(&set.refresh_token).map_err(|e| {
        Failure::usage(format!(
            "the store {} is malformed: its refresh_token is unusable: {e}",
            path.display()
        ))
    })?;
    set.id_token
        .as_ref()
        .filter(|jwt| !jwt.is_empty())
        .map(|jwt| {
            decode_id_token(jwt.expose_secret()).map_err(|e| {
                Failure::usage(format!(
                    "the store {} is malformed: its id_token (the previous ID token) cannot be decoded: {e}",
                    path.display()
                ))
            })
        })
        .transpose()
}

/// The stored access token when it outlives `min_ttl` from now.
fn fresh(set: &TokenSet, min_ttl: Duration) -> Option<&AccessToken> {
    set.fresh_access_token(now(), min_ttl).filter(|t| !t.is_empty())
}

/// Runs `attempt` up to [`ATTEMPTS`] times while it fails with a transient error (rule 26),
/// waiting a jittered, growing delay between attempts, or what `Retry-After` asks if longer.
/// Attempts are strictly sequential: the previous request is over (its connection closed)
/// before the next starts, so one token is never in flight twice.
fn with_retries<T>(what: &str, mut attempt: impl FnMut() -> Result<T, Error>) -> Result<T, Error> {
    let mut failures = 0;
    loop {
        let e = match attempt() {
            Ok(value) => return Ok(value),
            Err(e) => e,
        };
        failures += 1;
        let retry = e.is_retryable() && e.rotated_refresh_token().is_none() && failures < ATTEMPTS;
        let wait = if retry { backoff(failures, e.retry_after_secs()) } else { None };
        let Some(wait) = wait else {
            tracing::debug!(what, attempt = failures, error = %e, "giving up");
            return Err(e);
        };
        tracing::debug!(what, attempt = failures, wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            error = %e, "transient failure: retrying");
        std::thread::sleep(wait);
    }
}

/// The wait after the `failures`-th failed attempt: `BASE_DELAY * 2^(failures-1)`, jittered
/// uniformly down to half of it, or `Retry-After` when it asks for longer. `None` when
/// `Retry-After` asks for more than [`MAX_WAIT`]: honouring it means not retrying now.
fn backoff(failures: u32, retry_after: Option<u64>) -> Option<Duration> {
    let full = BASE_DELAY.saturating_mul(1 << failures.saturating_sub(1).min(16)).min(MAX_WAIT);
    let half = full / 2;
    let jitter = half.mul_f64(random_fraction());
    let backoff = half + jitter;
    match retry_after.map(Duration::from_secs) {
        Some(asked) if asked > MAX_WAIT => None,
        Some(asked) => Some(backoff.max(asked)),
        None => Some(backoff),
    }
}

/// A number in `[0, 1)` from the standard library's per-process random hash keys (no
/// randomness crate needed for jitter).
fn random_fraction() -> f64 {
    // 53 random bits, exactly representable in an f64.
    let bits = RandomState::new().build_hasher().finish() >> 11;
    bits as f64 / (1u64 << 53) as f64
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_jittered_and_honours_retry_after() {
        for _ in 0..100 {
            let first = backoff(1, None).unwrap_or_default();
            assert!(first >= BASE_DELAY / 2 && first <= BASE_DELAY, "{first:?}");
            let second = backoff(2, None).unwrap_or_default();
            assert!(second >= BASE_DELAY && second <= BASE_DELAY * 2, "{second:?}");
            assert!(backoff(40, None).unwrap_or_default() <= MAX_WAIT);
        }
        assert_eq!(backoff(1, Some(3)), Some(Duration::from_secs(3)));
        assert_eq!(backoff(1, Some(10)), Some(Duration::from_secs(10)));
        assert_eq!(backoff(1, Some(11)), None, "longer than we wait: give up now");
        assert!(backoff(1, Some(0)).unwrap_or_default() >= BASE_DELAY / 2);
    }
}
