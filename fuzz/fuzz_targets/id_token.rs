//! Fuzz target `id_token`: the input format and every invariant are in
//! `oidc_refresh_oracles::id_token` (`oracles/src/id_token.rs`), which `oracles/tests/corpora.rs` also
//! runs over the committed corpora on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| oidc_refresh_oracles::id_token::run(data));
