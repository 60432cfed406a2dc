//! The `oidc-refresh` command line: see `oidc-refresh --help` and the README.
//!
//! One file per command (`parse`, `decode_id_token`, `refresh`, `token`, `store`, `revoke`), beside
//! what they share: the client and HTTP options (`client`), the transport chosen at run time
//! (`transport`), the token store chosen at run time (`stores`), files and standard input
//! (`files`), standard output (`output`), and the exit codes with the one-line error rule
//! (`exit`).

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod client;
mod decode_id_token;
mod exit;
mod files;
mod output;
mod parse;
mod refresh;
mod revoke;
mod store;
mod stores;
mod token;
mod transport;

use exit::EXIT_CODES;

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
    DecodeIdToken(decode_id_token::Args),
    /// Perform one refresh grant; the token files are replaced atomically.
    #[command(after_help = EXIT_CODES)]
    Refresh(refresh::Args),
    /// Print a valid access token from a token store shared by concurrent runs, refreshing
    /// it first only when it expires within --min-ttl seconds (or with --force).
    #[command(after_help = EXIT_CODES)]
    Token(token::Args),
    /// Put a grant into a token store (init), or look at what a store holds, tokens
    /// redacted (show).
    ///
    /// Exit 0 on success; 2 for a usage error, an unreadable file, or a store that is
    /// missing (show), malformed (show) or cannot be read, locked or written.
    Store(store::Args),
    /// Revoke a refresh token (RFC 7009) at the provider's revocation endpoint, then empty
    /// the refresh token file, or clear the store under its lock. Prints nothing.
    ///
    /// The endpoint is --revocation-endpoint, or with --issuer the discovery document's
    /// revocation_endpoint; without either (or a provider that names none) it is exit 2. On
    /// any failure the file or the store is left as it was.
    #[command(after_help = EXIT_CODES)]
    Revoke(revoke::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Parse(args) => parse::run(args),
        Command::DecodeIdToken(args) => decode_id_token::run(args),
        Command::Refresh(args) => refresh::run(args),
        Command::Token(args) => token::run(args),
        Command::Store(args) => store::run(args),
        Command::Revoke(args) => revoke::run(args),
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

/// A command line clap refuses: help and version as clap prints them; any other error as one
/// line on stderr (clap's message up to its first blank line, without the usage and tips),
/// exit 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
    }
    let rendered = e.render().to_string();
    let message: Vec<&str> = rendered.lines().map(str::trim).take_while(|l| !l.is_empty()).collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    let line: String = message.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let _ = writeln!(io::stderr().lock(), "oidc-refresh: {line}");
    ExitCode::from(2)
}

/// Logs (tracing) are off unless `-v` or `RUST_LOG` asks for them; they go to stderr, in
/// colour only when stderr is a terminal and `NO_COLOR` is not set.
fn init_logging(verbose: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::new(spec),
        _ if verbose => EnvFilter::new("oidc_refresh=debug,info"),
        _ => return,
    };
    let colour = io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(colour)
        .try_init();
}
