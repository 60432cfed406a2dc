//! Fuzz target `scope_and_refresh_token`: the input format and every invariant are in `src/checks.rs`, which
//! `tests/fuzz_corpora.rs` also runs over the committed corpora on stable.
#![no_main]

#[allow(dead_code)]
#[path = "../src/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::scope_and_refresh_token(data));
