//! The `oidc-refresh` command line: see `oidc-refresh --help` and the README.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
