#!/usr/bin/env bash
# Every test of the project, set-up included: installs the bundled test OpenID Provider
# (panva's oidc-provider, pinned, from the committed lockfile) and runs the whole workspace's
# tests with every feature, both transports included. The provider-backed tests start and
# stop their own provider on 127.0.0.1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/provider-setup.sh

cargo test --workspace --all-features --locked "$@"
