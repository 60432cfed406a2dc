#!/usr/bin/env bash
# Every test of the project, set-up included: installs the bundled test OpenID Provider
# (panva's oidc-provider, pinned, from the committed lockfile) and runs the whole workspace's
# tests with every feature, both transports included. The provider-backed tests start and
# stop their own provider on 127.0.0.1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "test.sh: installing Node.js and npm (Debian packages)" >&2
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
npm ci --prefix testing/provider --no-audit --no-fund --loglevel=error >/dev/null

cargo test --workspace --all-features --locked "$@"
