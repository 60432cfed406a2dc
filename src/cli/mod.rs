//! Argument parsing, exit codes and the one-line error rule shared by every command.

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use oidc_refresh::store::FileStoreError;
use oidc_refresh::{Error, Fault, StoreError};

mod decode;
mod files;
mod parse;
mod refresh;
mod token;

/// The exit codes, as `--help` lists them.
const EXIT_CODES: &str = "\
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

/// Keep OAuth 2.0 / OpenID Connect sessions alive with the refresh-token grant.
#[derive(Debug, Parser)]
#[command(name = "oidc-refresh", version, about, propagate_version = true, after_help = EXIT_CODES)]
struct Cli {
    /// Log what happens on stderr (never a secret); RUST_LOG=... does the same with a filter.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse a token response body into ReachFive's AuthResult JSON.
    Parse(parse::Args),
    /// Decode an ID token's payload (no signature or claim check) into IdTokenPayload JSON.
    DecodeIdToken(decode::Args),
    /// Perform one refresh grant; the token files are replaced atomically.
    #[command(after_help = EXIT_CODES)]
    Refresh(refresh::Args),
    /// Print a valid access token from a token store shared by concurrent runs, refreshing
    /// it first only when it expires within --min-ttl seconds (or with --force).
    #[command(after_help = EXIT_CODES)]
    Token(token::Args),
}

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
        let exit = exit_for(e.fault());
        let Error::Store(store) = &e else {
            return Self { exit, message: e.to_string() };
        };
        let message = store_message(store);
        let why = match file_store_error(store).and_then(|f| f.io_error().map(|io| (f.path(), io))) {
            Some((path, io)) => format!("the store {} cannot be written: {io}", path.display()),
            None => format!("the store cannot be written: {message}"),
        };
        let after = store.after().map(|a| Self { exit: exit_for(a.fault()), message: a.to_string() });
        match e.take_rotated_refresh_token() {
            Some(rotated) => refresh::rotated_not_stored(&rotated, &why, after.as_ref()),
            None => Self { exit, message },
        }
    }
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

pub(crate) fn run() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Parse(args) => parse::run(args),
        Command::DecodeIdToken(args) => decode::run(args),
        Command::Refresh(args) => refresh::run(args),
        Command::Token(args) => token::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            // One line, whatever the message holds.
            let line: String = f.message.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            let _ = writeln!(io::stderr().lock(), "oidc-refresh: {line}");
            ExitCode::from(f.exit as u8)
        }
    }
}

/// Logs (tracing) are off unless `-v` or `RUST_LOG` asks for them; they go to stderr.
fn init_logging(verbose: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::new(spec),
        _ if verbose => EnvFilter::new("oidc_refresh=debug,info"),
        _ => return,
    };
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(io::stderr).try_init();
}

/// Reads `FILE`, or standard input for `-` or no argument.
pub(crate) fn read_input(path: Option<&Path>) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    match path {
        None => io::stdin().lock().read_to_end(&mut buf).map(|_| buf),
        Some(p) if p == Path::new("-") => io::stdin().lock().read_to_end(&mut buf).map(|_| buf),
        Some(p) => std::fs::read(p),
    }
    .map_err(|e| {
        Failure::usage(format!(
            "cannot read {}: {e}",
            path.map_or_else(|| "standard input".into(), |p| p.display().to_string())
        ))
    })
}

/// Prints one JSON document and a newline on stdout.
pub(crate) fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<(), Failure> {
    let mut out =
        serde_json::to_vec_pretty(value).map_err(|e| Failure::usage(format!("cannot serialise: {e}")))?;
    out.push(b'\n');
    io::stdout()
        .lock()
        .write_all(&out)
        .map_err(|e| Failure::usage(format!("cannot write to standard output: {e}")))
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
