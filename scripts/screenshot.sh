#!/usr/bin/env bash
# Runs the scanscribe app in a virtual X server, waits for it to draw, and saves a
# screenshot: scripts/screenshot.sh OUT.png [SECONDS] [scanscribe arguments...]
# Used by app.sh on machines without a display, and to look at the app in reviews.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/app.png}
wait_s=${2:-8}
shift $(( $# < 2 ? $# : 2 ))
binary=${SCANSCRIBE_BIN:-${CARGO_TARGET_DIR:-target}/debug/scanscribe}
mkdir -p "$(dirname "$out")"
display=:$((90 + RANDOM % 9))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
trap 'kill "$app_pid" "$xvfb_pid" 2>/dev/null || true' EXIT
sleep 1
DISPLAY=$display "$binary" "$@" &
app_pid=$!
sleep "$wait_s"
kill -0 "$app_pid" 2>/dev/null || { echo "the app exited early" >&2; exit 1; }
DISPLAY=$display import -window root "$out"
echo "screenshot: $out"
