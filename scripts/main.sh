#!/usr/bin/env bash
# The main job: set-up, then the MNIST less-than study end to end (pretraining if no model is
# there, ∂ILP and the MLP at a few held-out proportions, evaluation, plots, a table).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/setup.sh
echo "[main] set-up: $(( $(date +%s) - start )) s" >&2
t=$(date +%s)
cargo build --release --quiet
echo "[main] build: $(( $(date +%s) - t )) s" >&2
exec cargo run --release --quiet -- --threads "${DILP_THREADS:-2}" mnist sweep "$@"
