#!/usr/bin/env bash
# Installs what the bundled test OpenID Provider needs: Node.js and npm (Debian packages, when
# missing), then panva's oidc-provider from the committed lockfile (npm ci). Used by
# scripts/test.sh and scripts/demo.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "provider-setup.sh: installing Node.js and npm (Debian packages)" >&2
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
npm ci --prefix testing/provider --no-audit --no-fund --loglevel=error >/dev/null
