#!/usr/bin/env bash
# Sets up (system packages) and runs everything CI checks: formatting, clippy with
# warnings as errors, and the whole test suite (unit, integration, UI, doc tests).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
bash scripts/pytools.sh
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --all-targets --locked
cargo test --doc --locked
