//! The contract's exit codes, what each failure maps to, and the one line for stderr.

use std::io::{self, Write};

use oidc_refresh::store::FileStoreError;
use oidc_refresh::{Error, Fault, RefreshToken, StoreError};

/// The exit codes, as `--help` lists them.
pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0  success
  2  usage or configuration error (bad flag, bad URL, plain http to a non-loopback host,
     unreadable file, malformed store); also a token store that cannot be read, locked or
     written while it still holds a usable refresh token (nothing is lost)
  3  the server refused: an OAuth error (invalid_grant, invalid_client, ...)
  4  the server broke the protocol (non-JSON or wrong-shaped body, undecodable ID token)
  5  transport: connect failure, timeout, TLS, redirect refused, body over the cap
  6  the ID token failed validation (claims, or continuity with the previous ID token)
  7  the server rotated the refresh token but it could not be written (to the refresh
     token file or the store): the new refresh token is printed alone on stdout";

/// The contract's exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    Usage = 2,
    Refused = 3,
    Protocol = 4,
    Transport = 5,
    IdToken = 6,
    TokenNotStored = 7,
}

/// A failure: the exit code and the one line for stderr.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) exit: Exit,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self { exit: Exit::Usage, message: message.into() }
    }
}

/// The exit code of each [`Fault`] (the contract's table, DESIGN.md's error taxonomy).
///
/// The contract gives a token-store failure ([`Fault::Store`]: the store cannot be read,
/// locked or written) no code of its own. It is exit 2: the store is a file the user named
/// (`--store`), the contract already counts an unreadable file and a malformed store as
/// exit 2, and nothing from the server is lost, since the store still holds a usable refresh
/// token (as for `refresh`, whose ID-token file failing to be written is exit 2). The one
/// store failure that would lose something, a rotated refresh token that cannot be written,
/// is the contract's exit 7, and `Failure::from` prints the token then.
pub(crate) fn exit_for(fault: Fault) -> Exit {
    match fault {
        Fault::Caller => Exit::Usage,
        Fault::ServerRefused => Exit::Refused,
        Fault::ServerProtocol => Exit::Protocol,
        Fault::Transport => Exit::Transport,
        Fault::IdToken => Exit::IdToken,
        Fault::Store => Exit::Usage,
        // `Fault` is `#[non_exhaustive]` and defined in the core, so the compiler demands an
        // arm for faults a later core may add; every fault this core has is listed above.
        _ => Exit::Protocol,
    }
}

impl From<Error> for Failure {
    /// The failure for `e`: its [exit code](exit_for) and its message, except for a store
    /// failure that still holds a rotated refresh token that could not be written
    /// ([`Error::rotated_refresh_token`] of an [`Error::Store`]): that token is printed alone
    /// on stdout and the exit is 7, so that it is never lost. (`refresh` and `token` store
    /// the rotated token of a protocol or ID-token error themselves before they get here.)
    fn from(mut e: Error) -> Self {
        let mut exit = exit_for(e.fault());
        let Error::Store(store) = &e else {
            return Self { exit, message: e.to_string() };
        };
        if store_unreachable(store) {
            // The contract: Redis unreachable or timing out is exit 5, as for the network.
            exit = Exit::Transport;
        }
        let message = store_message(store);
        let why = match file_store_error(store).and_then(|f| f.io_error().map(|io| (f.path(), io))) {
            Some((path, io)) => format!("the store {} cannot be written: {io}", path.display()),
            None => format!("the store cannot be written: {message}"),
        };
        let after = store.after().map(|a| Self { exit: exit_for(a.fault()), message: a.to_string() });
        match e.take_rotated_refresh_token() {
            Some(rotated) => rotated_not_stored(&rotated, &why, after.as_ref()),
            None => Self { exit, message },
        }
    }
}

/// Whether a store failure is a network store that could not be reached in time (Redis down,
/// restarting or partitioned, its lease held past the wait, or lapsed before a removal): a
/// transport failure.
fn store_unreachable(e: &StoreError) -> bool {
    #[cfg(feature = "redis")]
    {
        use oidc_refresh::store::{RedisStoreError, RedisStoreErrorKind};
        let redis = std::error::Error::source(e).and_then(|s| s.downcast_ref::<RedisStoreError>());
        if let Some(r) = redis {
            return matches!(
                r.kind(),
                RedisStoreErrorKind::Unavailable
                    | RedisStoreErrorKind::LeaseTimeout
                    | RedisStoreErrorKind::LeaseLost
            );
        }
    }
    let _ = e;
    false
}

/// The [`FileStoreError`] behind a store failure, if the store is a file.
fn file_store_error(e: &StoreError) -> Option<&FileStoreError> {
    std::error::Error::source(e).and_then(|source| source.downcast_ref::<FileStoreError>())
}

/// The line for a store failure: the file store's own message (it names the file and never
/// shows its content), or the cause the CLI gave the session (its own words about its own
/// store). The core's `Display` of a store error would mask a long file path as token-like.
fn store_message(e: &StoreError) -> String {
    match file_store_error(e) {
        Some(f) => f.to_string(),
        None => std::error::Error::source(e).map_or_else(|| e.to_string(), ToString::to_string),
    }
}

/// Exit 7: prints the rotated refresh token alone on stdout, so that it is not lost, and
/// returns the failure whose line says why it could not be stored (`why`, e.g.
/// "FILE cannot be written: ...") and what failed before (`after`).
pub(crate) fn rotated_not_stored(rotated: &RefreshToken, why: &str, after: Option<&Failure>) -> Failure {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{}", rotated.expose_secret());
    let _ = out.flush();
    let also = after.map(|f| format!(" (after: {})", f.message)).unwrap_or_default();
    Failure {
        exit: Exit::TokenNotStored,
        message: format!(
            "the server rotated the refresh token but {why}; the new refresh token is on standard output{also}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_has_its_exit_code() {
        assert_eq!(exit_for(Fault::Caller), Exit::Usage);
        assert_eq!(exit_for(Fault::ServerRefused), Exit::Refused);
        assert_eq!(exit_for(Fault::ServerProtocol), Exit::Protocol);
        assert_eq!(exit_for(Fault::Transport), Exit::Transport);
        assert_eq!(exit_for(Fault::IdToken), Exit::IdToken);
        assert_eq!(exit_for(Fault::Store), Exit::Usage, "a store failure that loses nothing");
    }

    #[test]
    fn a_store_failure_is_exit_2_with_the_causes_own_words() {
        let path = "/tmp/.tmpAbCdEf0123456789/tokens.json";
        let e: Error = StoreError::read(format!("cannot read the store {path}: Is a directory")).into();
        let f = Failure::from(e);
        assert_eq!(f.exit, Exit::Usage);
        assert!(f.message.contains(path), "the path is not masked: {}", f.message);
    }
}
