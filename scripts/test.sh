#!/usr/bin/env bash
# The whole test suite: set-up (idempotent, fast when done), then every test of the crate.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --quiet "$@"
