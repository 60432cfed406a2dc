#!/usr/bin/env bash
# Regenerates fuzz/seeds/ from the test vectors (core/tests/suite/vectors.rs, the root
# package's tests/integration/secrets.rs) and the hand-written seeds in fuzz/seedgen/tests/record.rs (and record/signatures.rs), in
# the input formats of the oidc-refresh-oracles crate (oracles/), whose
# `cargo test -p oidc-refresh-oracles` then replays them.
# One test thread, so that every seed keeps the same name from run to run. SEEDGEN_OUT=DIR
# writes elsewhere (to compare; the fuzzed-* inputs are not there).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -L)"
out="${SEEDGEN_OUT:-$here/../seeds}"
# Every generated seed is written anew; the inputs a fuzzing session found and that were kept
# by hand (files named fuzzed-*, see fuzz/run.sh) stay.
if [ -d "$out" ]; then find "$out" -type f ! -name 'fuzzed-*' -delete; fi
SEEDGEN_OUT="$out" cargo test --release --manifest-path "$here/Cargo.toml" --test record -- --test-threads=1 "$@"
for d in "$out"/*/; do printf '%-26s %4d seeds\n' "$(basename "$d")" "$(ls "$d" | wc -l)"; done
