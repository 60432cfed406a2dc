#!/usr/bin/env bash
# Self-check of the test provider: starts server.js on an ephemeral port, logs in with
# each client through login.js, then refreshes with curl and checks rotation, replay,
# scope handling, client authentication and the stats endpoint.
# Needs node, npm (node_modules installed: npm ci) and curl. Prints "N passed, M failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

[ -d node_modules/oidc-provider ] || npm ci --no-audit --no-fund --loglevel=error >/dev/null

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
ko() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }

# JSON helpers (node, no jq): field FILE NAME; claim JWT_FILE NAME
field() { node -e 'const v=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))[process.argv[2]];process.stdout.write(v===undefined?"":typeof v==="string"?v:JSON.stringify(v))' "$1" "$2"; }
claim() { node -e 'const t=require("fs").readFileSync(process.argv[1],"utf8").trim();const v=JSON.parse(Buffer.from(t.split(".")[1],"base64url"))[process.argv[2]];process.stdout.write(v===undefined?"":String(v))' "$1" "$2"; }
formenc() { node -e 'process.stdout.write(new URLSearchParams([["",process.argv[1]]]).toString().slice(1))' "$1"; }

node server.js >"$WORK/server.out" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q '}' "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
ISS=$(field "$WORK/server.out" issuer)
check "server printed exactly one JSON line on stdout" [ "$(wc -l <"$WORK/server.out")" -eq 1 ]
if [ "$(curl -sS "$ISS/.well-known/openid-configuration" >"$WORK/disc.json" && field "$WORK/disc.json" issuer)" = "$ISS" ]; then ok "discovery issuer matches"; else ko "discovery issuer matches"; fi
TOKEN="$ISS/token"

# post_token OUTFILE CURL_ARGS... -> prints the HTTP status
post_token() {
  local out=$1; shift
  curl -sS -o "$out" -D "$out.headers" -w '%{http_code}' -H 'Accept: application/json' "$@" "$TOKEN"
}

BASIC_SECRET="s3cr%t:+ ~*'()x"
for spec in "public-client|none|" "basic-client|basic|$BASIC_SECRET" "post-client|post|post-secret-123" "es256-client|none|"; do
  IFS='|' read -r cid auth secret <<<"$spec"
  echo "# $cid ($auth)"
  d="$WORK/$cid"; mkdir -p "$d"
  largs=(); [ -n "$secret" ] && largs=(--secret "$secret" --auth "$auth")
  if ! node login.js "$ISS" "$cid" "${largs[@]}" >"$d/login.json" 2>"$d/login.err"; then
    ko "$cid: login.js ($(cat "$d/login.err"))"; continue
  fi
  ok "$cid: login.js code+PKCE flow"
  field "$d/login.json" refresh_token >"$d/rt0"; field "$d/login.json" id_token >"$d/id0"
  check "$cid: login gave a refresh token" [ -s "$d/rt0" ]
  want_alg=RS256; [ "$cid" = es256-client ] && want_alg=ES256
  check "$cid: ID token alg $want_alg" [ "$(node -e 'const t=require("fs").readFileSync(process.argv[1],"utf8");process.stdout.write(JSON.parse(Buffer.from(t.split(".")[0],"base64url")).alg)' "$d/id0")" = "$want_alg" ]
  if [ -n "$(claim "$d/id0" email)" ] && [ -n "$(claim "$d/id0" name)" ]; then ok "$cid: ID token has email and name claims"; else ko "$cid: ID token has email and name claims"; fi

  case $auth in
    none) cargs=(--data-urlencode "client_id=$cid") ;;
    post) cargs=(--data-urlencode "client_id=$cid" --data-urlencode "client_secret=$secret") ;;
    basic) cargs=(-H "Authorization: Basic $(printf '%s:%s' "$(formenc "$cid")" "$(formenc "$secret")" | base64 -w0)") ;;
  esac
  refresh() { # refresh N RT_FILE [extra curl args]
    local n=$1 rtf=$2; shift 2
    post_token "$d/r$n.json" "${cargs[@]}" --data-urlencode grant_type=refresh_token \
      --data-urlencode "refresh_token=$(cat "$rtf")" "$@"
  }

  st=$(refresh 1 "$d/rt0"); field "$d/r1.json" refresh_token >"$d/rt1"; field "$d/r1.json" id_token >"$d/id1"
  check "$cid: refresh #1 is 200" [ "$st" = 200 ]
  if [ -s "$d/rt1" ] && ! cmp -s "$d/rt0" "$d/rt1"; then ok "$cid: refresh #1 rotated the refresh token"; else ko "$cid: refresh #1 rotated the refresh token"; fi
  for c in iss sub aud auth_time nonce; do
    check "$cid: refreshed ID token keeps $c" [ "$(claim "$d/id1" $c)" = "$(claim "$d/id0" $c)" ]
  done
  check "$cid: refreshed ID token still has email" [ "$(claim "$d/id1" email)" = "$(claim "$d/id0" email)" ]
  echo "     (iat login=$(claim "$d/id0" iat) refresh=$(claim "$d/id1" iat): may be equal within one second)"

  st=$(refresh 2 "$d/rt1"); field "$d/r2.json" refresh_token >"$d/rt2"
  if [ "$st" = 200 ] && [ -s "$d/rt2" ] && ! cmp -s "$d/rt1" "$d/rt2"; then ok "$cid: refresh #2 is 200 and rotated again"; else ko "$cid: refresh #2 is 200 and rotated again"; fi

  st=$(refresh w "$d/rt2" --data-urlencode "scope=openid offline_access profile email phone")
  if [ "$st" = 400 ] && [ "$(field "$d/rw.json" error)" = invalid_scope ]; then ok "$cid: wider scope -> 400 invalid_scope"; else ko "$cid: wider scope -> 400 invalid_scope"; fi
  if [ "$auth" != none ]; then
    if [ "$auth" = basic ]; then
      bad=(-H "Authorization: Basic $(printf '%s:%s' "$cid" nope | base64 -w0)")
    else
      bad=(--data-urlencode "client_id=$cid" --data-urlencode client_secret=nope)
    fi
    st=$(post_token "$d/rbad.json" "${bad[@]}" --data-urlencode grant_type=refresh_token \
      --data-urlencode "refresh_token=$(cat "$d/rt2")")
    if [ "$st" = 401 ] && [ "$(field "$d/rbad.json" error)" = invalid_client ]; then ok "$cid: wrong secret -> 401 invalid_client"; else ko "$cid: wrong secret -> 401 invalid_client"; fi
  fi
  st=$(refresh 3 "$d/rt2" --data-urlencode "scope=openid"); field "$d/r3.json" refresh_token >"$d/rt3"
  if [ "$st" = 200 ] && [ "$(field "$d/r3.json" scope)" = openid ]; then ok "$cid: token not spent by those errors; narrower scope -> 200 scope=openid"; else ko "$cid: token not spent by those errors; narrower scope -> 200 scope=openid"; fi

  st=$(refresh 0 "$d/rt0")
  if [ "$st" = 400 ] && [ "$(field "$d/r0.json" error)" = invalid_grant ]; then ok "$cid: replayed spent refresh token -> 400 invalid_grant"; else ko "$cid: replayed spent refresh token -> 400 invalid_grant"; fi
  st=$(refresh 4 "$d/rt3")
  if [ "$st" = 400 ] && [ "$(field "$d/r4.json" error)" = invalid_grant ]; then ok "$cid: replay revoked the grant (newest token -> 400 invalid_grant)"; else ko "$cid: replay revoked the grant (newest token -> 400 invalid_grant)"; fi
done

echo "# basic-client secret encoding"
node login.js "$ISS" basic-client --secret "$BASIC_SECRET" >"$WORK/b.json"
b_rt=$(field "$WORK/b.json" refresh_token)
st=$(post_token "$WORK/braw.json" -H "Authorization: Basic $(printf '%s:%s' basic-client "$BASIC_SECRET" | base64 -w0)" \
  --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$b_rt")
if [ "$st" = 400 ] && [ "$(field "$WORK/braw.json" error)" = invalid_request ]; then ok "unencoded secret in Basic -> 400 invalid_request (not properly encoded)"; else ko "unencoded secret in Basic -> 400 invalid_request (not properly encoded)"; fi
pct=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$BASIC_SECRET")
st=$(post_token "$WORK/bpct.json" -H "Authorization: Basic $(printf '%s:%s' basic-client "$pct" | base64 -w0)" \
  --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$b_rt")
check "%20-encoded space also accepted -> 200" [ "$st" = 200 ]
b_rt=$(field "$WORK/bpct.json" refresh_token)
st=$(post_token "$WORK/bpost.json" --data-urlencode client_id=basic-client --data-urlencode "client_secret=$BASIC_SECRET" \
  --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$b_rt")
check "basic-client using client_secret_post -> 401 (STRICT_CLIENT_AUTH)" [ "$st" = 401 ]

echo "# concurrency"
node login.js "$ISS" public-client >"$WORK/c.json"
c_rt=$(field "$WORK/c.json" refresh_token)
pids=()
for i in 1 2; do
  post_token "$WORK/c$i.json" --data-urlencode client_id=public-client --data-urlencode grant_type=refresh_token \
    --data-urlencode "refresh_token=$c_rt" >"$WORK/c$i.status" &
  pids+=($!)
done
wait "${pids[@]}" || true
conc=$(cat "$WORK/c1.status"; echo; cat "$WORK/c2.status"; echo)
conc=$(printf "%s\n" "$conc" | sort | tr -d "\n")
check "two concurrent refreshes with one token: one 200, one 400 (got $conc)" [ "$conc" = 200400 ]

curl -sS "$ISS/__test/stats" >"$WORK/stats.json"
echo "# stats: $(cat "$WORK/stats.json")"
check "stats endpoint counts refresh grants" [ "$(field "$WORK/stats.json" refresh_grants)" -gt 0 ]

kill -TERM "$SERVER_PID"; rc=0; wait "$SERVER_PID" || rc=$?; SERVER_PID=
check "SIGTERM -> exit 0" [ "$rc" = 0 ]

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
