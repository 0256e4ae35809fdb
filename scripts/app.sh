#!/usr/bin/env bash
# Sets up (system packages), builds (the dev profile the tests share; numeric crates
# are optimized there too) and opens the scanscribe app on the
# bundled demo study. Extra arguments go to scanscribe (e.g. --study PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  echo "No display found: rendering the app in a virtual X server and saving a screenshot."
  exec scripts/screenshot.sh out/app.png 10 "$@"
fi
exec "${CARGO_TARGET_DIR:-target}/debug/scanscribe" "$@"
