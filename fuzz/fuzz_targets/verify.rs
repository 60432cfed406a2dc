//! Fuzz target `verify`: the input format and every invariant are in
//! `oidc_refresh_oracles::verify` (`oracles/src/verify.rs`), which `oracles/tests/corpora.rs` also
//! runs over the committed corpora on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| oidc_refresh_oracles::verify::run(data));
