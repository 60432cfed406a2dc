#!/usr/bin/env bash
# Installs what the bundled test OpenID Provider needs: Node.js and npm (Debian packages, when
# missing), then panva's oidc-provider from the committed lockfile (npm ci); and redis-server
# (Debian package, when missing) for the Redis store tests. Used by scripts/test.sh and
# scripts/demo.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "provider-setup.sh: installing Node.js and npm (Debian packages)" >&2
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
# The Redis store tests start their own redis-server processes (loopback, a free port, a
# temporary directory each; see testing/src/redis.rs): they need only the binary, never a
# running service.
if ! command -v redis-server >/dev/null 2>&1; then
  echo "provider-setup.sh: installing redis-server (Debian package)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
npm ci --prefix testing/provider --no-audit --no-fund --loglevel=error >/dev/null
