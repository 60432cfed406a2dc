#!/usr/bin/env bash
# One fuzzing session of one target, from the committed seeds:
#
#   fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]     # default 600 s
#
# New inputs go to fuzz/corpus/TARGET/ (git-ignored), crashes to fuzz/artifacts/TARGET/;
# fuzz/keep.sh TARGET [N] then keeps the N that add the most coverage as committed seeds.
# TARGET's input format and invariants: oracles/src/TARGET.rs (oidc_refresh_oracles::TARGET).
# A crash, once copied to fuzz/regressions/TARGET/, replays on stable with
# `cargo test -p oidc-refresh-oracles --test corpora`.
# Uses `cargo +nightly fuzz`; set FUZZ_CARGO='env RUSTC_BOOTSTRAP=1 cargo' to use stable.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target="${1:?usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]}"
seconds="${2:-600}"
shift $(( $# < 2 ? $# : 2 ))
mkdir -p "fuzz/corpus/$target"
# shellcheck disable=SC2086 # FUZZ_CARGO is a command with its arguments
exec ${FUZZ_CARGO:-cargo +nightly} fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
  -max_total_time="$seconds" -dict=fuzz/dict/oauth.dict -max_len=16384 -timeout=10 -rss_limit_mb=2048 "$@"
