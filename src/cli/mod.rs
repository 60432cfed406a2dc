//! Argument parsing, exit codes and the one-line error rule shared by every command.

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use oidc_refresh::{Error, Fault};

mod decode;
mod files;
mod parse;
mod refresh;
mod token;

/// Keep OAuth 2.0 / OpenID Connect sessions alive with the refresh-token grant.
#[derive(Debug, Parser)]
#[command(name = "oidc-refresh", version, about, propagate_version = true)]
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
    Refresh(refresh::Args),
    /// Print a valid access token from a token store shared by concurrent runs, refreshing
    /// it first only when it expires within --min-ttl seconds (or with --force).
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

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let exit = match e.fault() {
            Fault::Caller => Exit::Usage,
            Fault::ServerRefused => Exit::Refused,
            Fault::ServerProtocol => Exit::Protocol,
            Fault::Transport => Exit::Transport,
            Fault::IdToken => Exit::IdToken,
            _ => Exit::Protocol,
        };
        Self { exit, message: e.to_string() }
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
            path.map_or("standard input".into(), |p| p.display().to_string())
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
