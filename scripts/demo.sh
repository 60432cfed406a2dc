#!/usr/bin/env bash
# Newcomer demo: a real OpenID Provider on loopback, a real login, then oidc-refresh
# refreshing twice (refresh token rotated each time) and refusing a replayed token.
#
# Needs: cargo; Node.js 20+ and npm are installed from the Debian packages when missing
# (scripts/provider-setup.sh). No network beyond the package registries.
# Tokens are never printed whole: each AuthResult is shown with its tokens replaced by a
# fingerprint (set DEMO_SHOW_TOKENS=1 to print the CLI's output verbatim).
# shellcheck disable=SC2016  # single-quoted JS and displayed "$VAR" are intentional
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PROVIDER="$ROOT/testing/provider"
BIN="${CARGO_TARGET_DIR:-target}/release/oidc-refresh"

if [ -t 1 ]; then BOLD=$'\033[1m' RESET=$'\033[0m'; else BOLD='' RESET=''; fi
say() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$RESET"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null 2>&1 || die "cargo is required"

say "Installing the test provider (npm ci) and building oidc-refresh (cargo build --release)"
bash scripts/provider-setup.sh
cargo build --release --quiet -p oidc-refresh-cli
[ -x "$BIN" ] || die "$BIN was not built"

WORK=$(mktemp -d)
chmod 700 "$WORK"
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Small helpers. Token values go through files and stdin only (never argv).
# json_field FILE NAME: print one top-level string member of a JSON file.
json_field() {
  node -e '
    const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]];
    if (typeof v !== "string") { console.error(`missing ${process.argv[2]}`); process.exit(1); }
    process.stdout.write(v);' "$1" "$2"
}
# fingerprint FILE: sha256 prefix and length of the token held in FILE.
fingerprint() {
  node -e '
    const t = require("fs").readFileSync(process.argv[1], "utf8").trim();
    const h = require("crypto").createHash("sha256").update(t).digest("hex");
    process.stdout.write(`sha256:${h.slice(0, 12)} len=${t.length}`);' "$1"
}
# show_result: pretty-print an AuthResult read on stdin, tokens replaced by fingerprints.
show_result() {
  if [ "${DEMO_SHOW_TOKENS:-0}" = 1 ]; then cat; echo; return; fi
  node -e '
    const crypto = require("crypto");
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const k of ["accessToken", "refreshToken", "idToken"]) {
      if (typeof r[k] === "string") {
        const h = crypto.createHash("sha256").update(r[k]).digest("hex").slice(0, 12);
        r[k] = `<sha256:${h} len=${r[k].length}>`;
      }
    }
    console.log(JSON.stringify(r, null, 2));'
}
# write_secret FILE: stdin -> FILE (mode 600) with one trailing newline.
write_secret() {
  (umask 077 && { cat; echo; } >"$1")
}

say "Starting the test OpenID Provider (testing/provider/server.js)"
node "$PROVIDER/server.js" >"$WORK/server.out" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  grep -q '}' "$WORK/server.out" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the provider exited"; }
  sleep 0.1
done
grep -q '}' "$WORK/server.out" || { cat "$WORK/server.log" >&2; die "the provider did not start"; }
ISSUER=$(json_field "$WORK/server.out" issuer)
echo "issuer: $ISSUER"

say "Logging in as user-123 with public-client (authorization code + PKCE, via login.js)"
(umask 077 && node "$PROVIDER/login.js" "$ISSUER" public-client >"$WORK/login.json") \
  || { cat "$WORK/server.log" >&2; die "login failed"; }
RT="$WORK/refresh_token"
IDT="$WORK/id_token"
FIRST_RT="$WORK/refresh_token.first"
json_field "$WORK/login.json" refresh_token | write_secret "$RT"
json_field "$WORK/login.json" id_token | write_secret "$IDT"
cp -p "$RT" "$FIRST_RT"
echo "refresh token file: $RT (mode $(stat -c %a "$RT" 2>/dev/null || stat -f %Lp "$RT"))"
echo "refresh token:      $(fingerprint "$RT")"

run_refresh() { # label, then the ENDPOINT flags
  local label=$1 before after out
  shift
  before=$(fingerprint "$RT")
  say "$label"
  printf '$ %s refresh %s --client-id public-client --refresh-token-file "$RT" --id-token-file "$IDT"\n' \
    "$BIN" "$*"
  out=$("$BIN" refresh "$@" --client-id public-client \
    --refresh-token-file "$RT" --id-token-file "$IDT")
  printf '%s' "$out" | show_result
  after=$(fingerprint "$RT")
  if [ "$before" = "$after" ]; then
    echo "refresh token NOT rotated: $after"
  else
    echo "refresh token rotated: $before -> $after"
  fi
}

run_refresh "Refresh #1 (explicit token endpoint)" --token-endpoint "$ISSUER/token"
run_refresh "Refresh #2 (--issuer: discovery, and iss of the ID token must match)" --issuer "$ISSUER"

say "Replaying the first, already spent refresh token"
REPLAY="$WORK/refresh_token.replay"
cp -p "$FIRST_RT" "$REPLAY"
echo "refresh token: $(fingerprint "$REPLAY") (spent by refresh #1)"
printf '$ %s refresh --token-endpoint %s --client-id public-client --refresh-token-file "$REPLAY"\n' \
  "$BIN" "$ISSUER/token"
set +e
"$BIN" refresh --token-endpoint "$ISSUER/token" --client-id public-client \
  --refresh-token-file "$REPLAY" >"$WORK/replay.out" 2>"$WORK/replay.err"
rc=$?
set -e
echo "exit code: $rc"
echo "stderr:    $(cat "$WORK/replay.err")"
[ -s "$WORK/replay.out" ] && die "expected nothing on stdout after a refused refresh"
[ "$rc" -eq 3 ] || die "expected exit 3 (the server refused), got $rc"
grep -q invalid_grant "$WORK/replay.err" || die "expected invalid_grant on stderr"
cmp -s "$FIRST_RT" "$REPLAY" || die "the token file must be left untouched on exit 3"
echo "refused as expected; the provider also revoked the whole grant on this reuse,"
echo "so the newest refresh token ($(fingerprint "$RT")) is dead too: log in again."

say "Done"
