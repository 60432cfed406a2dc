#!/usr/bin/env bash
# Keeps the N inputs (default 30) of a fuzzing session's corpus that add the most coverage
# beyond the committed seeds, as fuzz/seeds/TARGET/fuzzed-<name> (fuzz/seedgen/regen.sh keeps
# those):
#
#   fuzz/keep.sh TARGET [N]        # after fuzz/run.sh TARGET, which built the target
#
# libFuzzer's merge (edges only, no hit counts) records each input's coverage; the inputs are
# then picked greedily, each adding the most edges not yet covered by the seeds and the
# inputs picked before it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target="${1:?usage: fuzz/keep.sh TARGET [N]}"
n="${2:-30}"
bin="fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release/$target"
[ -x "$bin" ] || { echo "no $bin: run fuzz/run.sh $target first" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/merged"
cp fuzz/seeds/"$target"/* "$work/merged/"
"$bin" -merge=1 -use_counters=0 -merge_control_file="$work/control" "$work/merged" "fuzz/corpus/$target" \
  >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
python3 - "$work/control" "$n" "fuzz/seeds/$target" <<'PY'
import os, shutil, sys
control, n, seeds = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = open(control).read().split("\n")
count, first = int(lines[0]), int(lines[1])  # files; the first `first` are the seeds
files = lines[2:2 + count]
cov = {}
for line in lines[2 + count:]:
    parts = line.split()
    if parts and parts[0] == "COV":
        cov[int(parts[1])] = set(parts[2:])
covered = set().union(*(cov.get(i, set()) for i in range(first)))
candidates = {i: cov.get(i, set()) for i in range(first, count)}
kept = 0
while kept < n and candidates:
    best = max(candidates, key=lambda i: (len(candidates[i] - covered), -os.path.getsize(files[i])))
    gain = len(candidates[best] - covered)
    if gain == 0:
        break
    covered |= candidates.pop(best)
    name = "fuzzed-" + os.path.basename(files[best])[:8]
    shutil.copyfile(files[best], os.path.join(seeds, name))
    print(f"{name}: {gain} new edges")
    kept += 1
print(f"{kept} inputs kept in {seeds}")
PY
