#!/usr/bin/env bash
# Sets up (system packages), builds and installs the scanscribe users run, and opens
# the app on the bundled demo study. Extra arguments go to scanscribe (e.g. --study PATH).
#
# The build: the dev profile the tests share (its dependencies are the same compiled
# files, so this is not a second full build), with scanscribe's own code at opt-level 2:
# 3-30x faster on scoring, fixations and the app's analysis than the unoptimized code
# the tests check with (README "Speed"). `cargo install` puts it in ~/.cargo/bin, on
# the PATH of every new shell where Rust was installed with rustup, so the README's
# `scanscribe ...` commands work as written.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
target=${CARGO_TARGET_DIR:-target}
cargo install --quiet --locked --force --debug --path . --target-dir "$target" \
  --config 'profile.dev.package.scanscribe.opt-level=2'
bin_dir=${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin
binary=$bin_dir/scanscribe
echo "scanscribe installed: $binary"
if ! command -v scanscribe >/dev/null || [[ $(command -v scanscribe) != "$binary" ]]; then
  echo "to run it as \`scanscribe\` in this shell: export PATH=\"$bin_dir:\$PATH\""
fi
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  echo "No display found: rendering the app in a virtual X server and saving a screenshot."
  SCANSCRIBE_BIN=$binary exec scripts/screenshot.sh out/app.png 10 "$@"
fi
exec "$binary" "$@"
