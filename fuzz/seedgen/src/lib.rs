//! Seed recorder. It stands in for the `oidc_refresh` facade (this crate's library is named
//! `oidc_refresh`) and for `oidc_refresh_core` when `tests/record.rs` compiles the core's
//! `core/tests/suite/vectors.rs` and the root package's `tests/integration/secrets.rs` unchanged: every
//! response body, ID token, scope and refresh token those tests hand to the core is written
//! to `fuzz/seeds/<target>/` in the input format of that fuzz target (see the
//! `oidc-refresh-oracles` crate, `oracles/`), then passed on to the real core (`real_core`).
//!
//! Run it with `fuzz/seedgen/regen.sh`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub use real_core::*;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

use oidc_refresh_oracles::common::SEP;
use oidc_refresh_oracles::error_response::STATUSES as ERROR_STATUSES;
use oidc_refresh_oracles::token_response::STATUSES as TOKEN_STATUSES;
use real_core::http::{Request, Response};

/// Inputs larger than this are not kept as seeds (the deep-nesting vectors): they would
/// slow every mutation down; hand-written seeds cover the nesting limits instead.
const MAX_SEED: usize = 16 * 1024;

static SEEN: Mutex<BTreeSet<(String, u64)>> = Mutex::new(BTreeSet::new());

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn seeds_dir() -> PathBuf {
    match std::env::var_os("SEEDGEN_OUT") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("seeds"),
    }
}

/// Writes `bytes` as a seed of `target`, named after the running test and the content's
/// hash; the same content is kept once per target (run with one test thread for stable names).
pub fn record(target: &str, bytes: &[u8]) {
    if bytes.len() > MAX_SEED {
        return;
    }
    let hash = fnv1a(bytes);
    if !SEEN.lock().unwrap().insert((target.to_owned(), hash)) {
        return;
    }
    let test =
        std::thread::current().name().unwrap_or("main").rsplit("::").next().unwrap_or("main").to_owned();
    let dir = seeds_dir().join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{test}-{:08x}", hash as u32)), bytes).unwrap();
}

/// The index of `status` in `table`, or of the first status of the same class.
fn status_byte(table: &[u16], status: u16) -> Option<u8> {
    let exact = table.iter().position(|&s| s == status);
    let class = || table.iter().position(|&s| s / 100 == status / 100);
    exact.or_else(class).map(|i| i as u8)
}

/// Records a token-endpoint response for `token_response` (and `error_response` when it
/// is an error status or error-shaped), and its ID token for `id_token`.
pub fn record_response(status: u16, body: &[u8]) {
    if let Some(s) = status_byte(&TOKEN_STATUSES, status) {
        record("token_response", &[&[s][..], body].concat());
    }
    let error_shaped = body.windows(7).any(|w| w == b"\"error\"");
    let error_status = if (200..300).contains(&status) && error_shaped { Some(400) } else { Some(status) };
    if let Some(s) = error_status.filter(|s| *s >= 400).and_then(|s| status_byte(&ERROR_STATUSES, s)) {
        record("error_response", &[&[s][..], body].concat());
    }
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(jwt) = m.get("id_token").and_then(serde_json::Value::as_str)
    {
        record("id_token", jwt.as_bytes());
    }
}

/// Records a request's parameters for `scope_and_refresh_token`.
pub fn record_request(
    format: BodyFormat,
    auth: &ClientAuth,
    refresh_token: &str,
    scope: Option<&str>,
    client_id: &str,
) {
    let (auth_bits, secret) = match auth {
        ClientAuth::ClientSecretBasic(s) => (1u8, Some(s.expose_secret())),
        ClientAuth::ClientSecretPost(s) => (2, Some(s.expose_secret())),
        _ => (0, None),
    };
    let flags = u8::from(format == BodyFormat::Json) | auth_bits << 1 | u8::from(scope.is_some()) << 3;
    let mut input = vec![flags];
    input.extend_from_slice(refresh_token.as_bytes());
    input.push(SEP);
    input.extend_from_slice(scope.unwrap_or_default().as_bytes());
    input.push(SEP);
    input.extend_from_slice(secret.unwrap_or("s3cret").as_bytes());
    input.push(SEP);
    input.extend_from_slice(client_id.as_bytes());
    record("scope_and_refresh_token", &input);
}

/// As [`real_core::parse_refresh_response`], recording the response.
///
/// # Errors
///
/// As the core's.
pub fn parse_refresh_response<B: AsRef<[u8]>>(response: &Response<B>) -> Result<AuthResult, Error> {
    record_response(response.status().as_u16(), response.body().as_ref());
    real_core::parse_refresh_response(response)
}

/// As [`real_core::decode_id_token`], recording the token.
///
/// # Errors
///
/// As the core's.
pub fn decode_id_token(jwt: &str) -> Result<IdTokenPayload, Error> {
    record("id_token", jwt.as_bytes());
    real_core::decode_id_token(jwt)
}

/// As [`real_core::decode_id_token_with_header`], recording the token.
///
/// # Errors
///
/// As the core's.
pub fn decode_id_token_with_header(jwt: &str) -> Result<(JwtHeader, IdTokenPayload), Error> {
    record("id_token", jwt.as_bytes());
    real_core::decode_id_token_with_header(jwt)
}

/// As [`real_core::build_refresh_request`], recording the parameters.
///
/// # Errors
///
/// As the core's.
pub fn build_refresh_request(
    config: &ClientConfig,
    params: &RefreshParams<'_>,
) -> Result<Request<Vec<u8>>, ConfigError> {
    record_request(
        config.body_format(),
        config.auth(),
        params.refresh_token().expose_secret(),
        params.requested_scope(),
        config.client_id(),
    );
    real_core::build_refresh_request(config, params)
}

/// As [`real_core::check_scope`], recording the scope.
///
/// # Errors
///
/// As the core's.
pub fn check_scope(scope: &str) -> Result<(), ConfigError> {
    record_request(BodyFormat::Form, &ClientAuth::None, "rt-1", Some(scope), "app");
    real_core::check_scope(scope)
}

/// As [`real_core::check_refresh_token`], recording the token.
///
/// # Errors
///
/// As the core's.
pub fn check_refresh_token(token: &RefreshToken) -> Result<(), ConfigError> {
    record_request(BodyFormat::Form, &ClientAuth::None, token.expose_secret(), None, "app");
    real_core::check_refresh_token(token)
}

/// Records a discovery exchange for `discovery` (status 200).
pub fn record_discovery(issuer: &str, body: &[u8]) {
    record("discovery", &[&[0][..], issuer.as_bytes(), &[SEP], body].concat());
}

/// Records a structured `error_response` input: `status_index` into `ERROR_STATUSES`, then
/// the bytes `oidc_refresh_oracles::error_response::structured_error` reads.
pub fn record_structured_error(status_index: u8, reader_bytes: &[u8]) {
    record(
        "error_response",
        &[&[0x80 | (status_index % ERROR_STATUSES.len() as u8)][..], reader_bytes].concat(),
    );
}
