//! Fuzz target `session`: the input format and every invariant are in `src/session_checks.rs`,
//! which `tests/fuzz_corpora.rs` also runs over the committed corpora on stable.
#![no_main]

#[allow(dead_code)]
#[path = "../src/session_checks.rs"]
mod session_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| session_checks::session(data));
