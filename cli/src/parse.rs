//! `oidc-refresh parse [FILE|-] [--status CODE]`.

use oidc_refresh::http::{Response, StatusCode};
use oidc_refresh::parse_refresh_response;

use crate::exit::Failure;
use crate::files::read_input;
use crate::output::print_json;

/// Arguments of `parse`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The response body: a file, or `-` (the default) for standard input.
    #[arg(value_name = "FILE|-")]
    input: Option<std::path::PathBuf>,
    /// The HTTP status the body came with (100 to 999).
    #[arg(long, value_name = "CODE", default_value_t = 200, value_parser = clap::value_parser!(u16).range(100..=999))]
    status: u16,
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    let status = StatusCode::from_u16(args.status).map_err(|_| {
        Failure::usage(format!("--status {} is not an HTTP status code (100-999)", args.status))
    })?;
    let body = read_input(args.input.as_deref())?;
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let result = parse_refresh_response(&response)?;
    print_json(&result)
}
