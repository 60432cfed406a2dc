//! What the command-line tests share: the binary, one-line stderr, file modes.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The `oidc-refresh` binary of this build.
pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_oidc-refresh")
}

/// A path as `&str`, for an argument.
pub(crate) fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Stderr, which must be exactly one line (the contract's rule for every failure).
pub(crate) fn stderr_line(out: &Output) -> String {
    let s = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(s.lines().count(), 1, "exactly one line on stderr: {s:?}");
    s
}

/// A file's permission bits.
pub(crate) fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Runs the binary with `args`, none of its environment variables set, no standard input.
pub(crate) fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("OIDC_REFRESH_CLIENT_SECRET")
        .env_remove("OIDC_REFRESH_STORE")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}
