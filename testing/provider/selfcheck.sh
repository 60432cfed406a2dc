#!/usr/bin/env bash
# Self-check of the test provider: starts server.js on an ephemeral port, logs in with
# each client through login.js, then refreshes with curl and checks rotation, replay,
# scope handling, client authentication, ID token signatures (every algorithm) and the
# stats endpoint; then restarts a server with KEYS_FILE / STATE_FILE and checks that grants
# survive and that signing keys rotate (ROTATE=add, ROTATE=drop).
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
quiet() { "$@" >/dev/null; }

# JSON helpers (node, no jq): field FILE NAME; claim JWT_FILE NAME
field() { node -e 'const v=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))[process.argv[2]];process.stdout.write(v===undefined?"":typeof v==="string"?v:JSON.stringify(v))' "$1" "$2"; }
claim() { node -e 'const t=require("fs").readFileSync(process.argv[1],"utf8").trim();const v=JSON.parse(Buffer.from(t.split(".")[1],"base64url"))[process.argv[2]];process.stdout.write(v===undefined?"":String(v))' "$1" "$2"; }
formenc() { node -e 'process.stdout.write(new URLSearchParams([["",process.argv[1]]]).toString().slice(1))' "$1"; }
# header JWT_FILE NAME: a member of the JOSE header
header() { node -e 'const t=require("fs").readFileSync(process.argv[1],"utf8").trim();const v=JSON.parse(Buffer.from(t.split(".")[0],"base64url"))[process.argv[2]];process.stdout.write(v===undefined?"":String(v))' "$1" "$2"; }
# verify JWT_FILE JWKS_FILE [HS_SECRET]: prints "ok" when the signature verifies with the
# key of the header's kid in the JWK Set (or with the secret's octets for HS256).
verify() {
  node -e '
    const crypto = require("crypto"); const fs = require("fs");
    const [t, jwksFile, secret] = process.argv.slice(1);
    const [h, p, s] = fs.readFileSync(t, "utf8").trim().split(".");
    const head = JSON.parse(Buffer.from(h, "base64url")); const data = Buffer.from(`${h}.${p}`); const sig = Buffer.from(s, "base64url");
    let ok;
    if (head.alg === "HS256") {
      ok = secret !== undefined && crypto.timingSafeEqual(crypto.createHmac("sha256", secret).update(data).digest(), sig);
    } else {
      const jwk = JSON.parse(fs.readFileSync(jwksFile, "utf8")).keys.find((k) => k.kid === head.kid && k.alg === head.alg);
      if (!jwk) { process.stdout.write(`no key ${head.kid}`); process.exit(0); }
      const key = crypto.createPublicKey({ key: jwk, format: "jwk" });
      const opts = {
        RS256: ["sha256", { key }], PS256: ["sha256", { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
        ES256: ["sha256", { key, dsaEncoding: "ieee-p1363" }], EdDSA: [null, { key }],
      }[head.alg];
      ok = opts !== undefined && crypto.verify(opts[0], data, opts[1], sig);
    }
    process.stdout.write(ok ? "ok" : "bad");
  ' "$@"
}

node server.js >"$WORK/server.out" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q '}' "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
ISS=$(field "$WORK/server.out" issuer)
check "server printed exactly one JSON line on stdout" [ "$(wc -l <"$WORK/server.out")" -eq 1 ]
if [ "$(curl -sS "$ISS/.well-known/openid-configuration" >"$WORK/disc.json" && field "$WORK/disc.json" issuer)" = "$ISS" ]; then ok "discovery issuer matches"; else ko "discovery issuer matches"; fi
TOKEN="$ISS/token"

echo "# key set"
curl -sS "$ISS/jwks" >"$WORK/jwks.json"
check "/jwks: RS256, PS256, ES256, EdDSA keys with kid, use sig, nothing private" [ "$(node -e '
  const keys = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).keys;
  const want = { RS256: ["RSA"], PS256: ["RSA"], ES256: ["EC", "P-256"], EdDSA: ["OKP", "Ed25519"] };
  const good = keys.length === 4 && keys.every((k) => want[k.alg] && k.kty === want[k.alg][0] && k.crv === want[k.alg][1]
    && k.use === "sig" && typeof k.kid === "string" && k.kid && !("d" in k) && !("p" in k));
  process.stdout.write(good ? keys.map((k) => k.alg).join(",") : JSON.stringify(keys));
' "$WORK/jwks.json")" = RS256,PS256,ES256,EdDSA ]
check "discovery: id_token_signing_alg_values_supported has RS256 PS256 ES256 EdDSA HS256" [ "$(node -e '
  const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).id_token_signing_alg_values_supported;
  process.stdout.write(String(["RS256", "PS256", "ES256", "EdDSA", "HS256"].every((a) => v.includes(a))));
' "$WORK/disc.json")" = true ]

# post_token OUTFILE CURL_ARGS... -> prints the HTTP status
post_token() {
  local out=$1; shift
  curl -sS -o "$out" -D "$out.headers" -w '%{http_code}' -H 'Accept: application/json' "$@" "$TOKEN"
}

BASIC_SECRET="s3cr%t:+ ~*'()x"
HS256_SECRET="hs256-client-secret-0123456789abcdef"
for spec in "public-client|none||RS256" "basic-client|basic|$BASIC_SECRET|RS256" "post-client|post|post-secret-123|RS256" \
  "es256-client|none||ES256" "ps256-client|none||PS256" "eddsa-client|none||EdDSA" "hs256-client|basic|$HS256_SECRET|HS256"; do
  IFS='|' read -r cid auth secret want_alg <<<"$spec"
  echo "# $cid ($auth)"
  d="$WORK/$cid"; mkdir -p "$d"
  largs=(); [ -n "$secret" ] && largs=(--secret "$secret" --auth "$auth")
  if ! node login.js "$ISS" "$cid" "${largs[@]}" >"$d/login.json" 2>"$d/login.err"; then
    ko "$cid: login.js ($(cat "$d/login.err"))"; continue
  fi
  ok "$cid: login.js code+PKCE flow"
  field "$d/login.json" refresh_token >"$d/rt0"; field "$d/login.json" id_token >"$d/id0"
  check "$cid: login gave a refresh token" [ -s "$d/rt0" ]
  check "$cid: ID token alg $want_alg" [ "$(header "$d/id0" alg)" = "$want_alg" ]
  if [ "$want_alg" = HS256 ]; then
    check "$cid: HS256 ID token has no kid and verifies with the client secret" \
      [ "$(header "$d/id0" kid)|$(verify "$d/id0" "$WORK/jwks.json" "$secret")" = "|ok" ]
  else
    check "$cid: ID token kid $(header "$d/id0" kid) is in /jwks and the signature verifies" \
      [ "$(verify "$d/id0" "$WORK/jwks.json")" = ok ]
  fi
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
  check "$cid: refreshed ID token is $want_alg and verifies" \
    [ "$(header "$d/id1" alg)|$(verify "$d/id1" "$WORK/jwks.json" "$secret")" = "$want_alg|ok" ]
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

check "stats endpoint counts /jwks requests (1 so far)" [ "$(field "$WORK/stats.json" jwks_requests)" = 1 ]

kill -TERM "$SERVER_PID"; rc=0; wait "$SERVER_PID" || rc=$?; SERVER_PID=
check "SIGTERM -> exit 0" [ "$rc" = 0 ]

echo "# restarts: KEYS_FILE, STATE_FILE, ROTATE"
P="$WORK/persist"; mkdir -p "$P"
PENV=(KEYS_FILE="$P/keys.json" STATE_FILE="$P/state.json")
# start_server [ENV=VALUE...]: starts server.js with PENV and the given env, sets ISS
start_server() {
  env "${PENV[@]}" "$@" node server.js >"$P/server.out" 2>>"$P/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do grep -q '}' "$P/server.out" 2>/dev/null && break; sleep 0.1; done
  ISS=$(field "$P/server.out" issuer); TOKEN="$ISS/token"
}
stop_server() { kill -TERM "$SERVER_PID"; local rc=0; wait "$SERVER_PID" || rc=$?; SERVER_PID=; return "$rc"; }
kids() { curl -sS "$ISS/__test/jwks" | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0)).keys.map((k)=>k.kid).join(" "))'; }
# prefresh N CLIENT RT [curl args]: refresh in $P/rN.json, prints the status
prefresh() {
  local n=$1 cid=$2 rt=$3; shift 3
  post_token "$P/r$n.json" --data-urlencode "client_id=$cid" --data-urlencode grant_type=refresh_token \
    --data-urlencode "refresh_token=$rt" "$@"
}

start_server PORT=0
PPORT=$(field "$P/server.out" port)
PISS=$ISS
check "KEYS_FILE written with mode 600" [ "$(stat -c %a "$P/keys.json")" = 600 ]
KIDS0=$(kids)
node login.js "$ISS" public-client >"$P/pub.json"
node login.js "$ISS" hs256-client --secret "$HS256_SECRET" >"$P/hs.json"
node login.js "$ISS" public-client >"$P/replay.json"
RT_PUB=$(field "$P/pub.json" refresh_token); RT_HS=$(field "$P/hs.json" refresh_token)
RT_SPENT=$(field "$P/replay.json" refresh_token)
prefresh s public-client "$RT_SPENT" >/dev/null; RT_NEWEST=$(field "$P/rs.json" refresh_token)
curl -sS "$ISS/jwks" >/dev/null
check "SIGTERM with STATE_FILE -> exit 0" stop_server
check "STATE_FILE written with mode 600" [ "$(stat -c %a "$P/state.json")" = 600 ]

start_server PORT="$PPORT"
check "restart on the same port: same issuer" [ "$ISS" = "$PISS" ]
check "restart: same keys" [ "$(kids)" = "$KIDS0" ]
check "restart: counters kept (jwks_requests 1)" [ "$(curl -sS "$ISS/__test/stats" | node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(0)).jwks_requests))')" = 1 ]
st=$(prefresh 1 public-client "$RT_PUB"); RT_PUB=$(field "$P/r1.json" refresh_token)
check "restart: a refresh token from before refreshes (public-client)" [ "$st" = 200 ]
st=$(post_token "$P/h1.json" -H "Authorization: Basic $(printf '%s:%s' hs256-client "$HS256_SECRET" | base64 -w0)" \
  --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$RT_HS")
check "restart: a refresh token from before refreshes (hs256-client)" [ "$st" = 200 ]
st=$(prefresh 2 public-client "$RT_SPENT")
check "restart: a token spent before is still spent -> 400 invalid_grant" [ "$st|$(field "$P/r2.json" error)" = "400|invalid_grant" ]
st=$(prefresh 3 public-client "$RT_NEWEST")
check "restart: that replay revoked its grant" [ "$st" = 400 ]
check "restart: login.js works" quiet node login.js "$ISS" eddsa-client
stop_server

start_server PORT="$PPORT" ROTATE=add
KIDS1=$(kids)
set -- $KIDS1
NEW_RS256=$1
check "ROTATE=add: 8 keys, 4 new ones first, the old ones after" [ "$#|${KIDS1#* * * * }" = "8|$KIDS0" ]
check "ROTATE=add: KEYS_FILE holds the 8 private keys" [ "$(node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1])).keys.filter((k)=>k.d).length))' "$P/keys.json")" = 8 ]
st=$(prefresh 4 public-client "$RT_PUB"); RT_PUB=$(field "$P/r4.json" refresh_token)
field "$P/r4.json" id_token >"$P/id4"; curl -sS "$ISS/jwks" >"$P/jwks1.json"
check "ROTATE=add: refresh 200, signed with the new RS256 kid, verifies" \
  [ "$st|$(header "$P/id4" kid)|$(verify "$P/id4" "$P/jwks1.json")" = "200|$NEW_RS256|ok" ]
node login.js "$ISS" es256-client >"$P/es.json"; field "$P/es.json" id_token >"$P/es.id"
check "ROTATE=add: ES256 signed with the new ES256 kid" [ "$(header "$P/es.id" kid)" = "$3" ]
stop_server

start_server PORT="$PPORT" ROTATE=drop
check "ROTATE=drop: only the 4 new keys are left" [ "$(kids)" = "$(echo "$KIDS1" | cut -d' ' -f1-4)" ]
st=$(prefresh 5 public-client "$RT_PUB"); field "$P/r5.json" id_token >"$P/id5"
check "ROTATE=drop: refresh 200, signed with the new kid" [ "$st|$(header "$P/id5" kid)" = "200|$NEW_RS256" ]
check "ROTATE=drop: counters kept (jwks_requests 2)" [ "$(curl -sS "$ISS/__test/stats" | node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(0)).jwks_requests))')" = 2 ]
stop_server

rc=0; ROTATE=add node server.js >/dev/null 2>"$P/bad.log" || rc=$?
check "ROTATE without KEYS_FILE -> exit 2" [ "$rc" = 2 ]

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
