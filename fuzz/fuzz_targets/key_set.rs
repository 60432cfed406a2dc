//! Fuzz target `key_set`: the input format and every invariant are in
//! `oidc_refresh_oracles::key_set` (`oracles/src/key_set.rs`), which `oracles/tests/corpora.rs` also
//! runs over the committed corpora on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| oidc_refresh_oracles::key_set::run(data));
