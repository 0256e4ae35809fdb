#!/usr/bin/env bash
# Installs the Python reference tools the tests compare against into target/pytools
# (a virtual environment; idempotent): the official BIDS validator and the COCO
# caption evaluation toolkit. Needs python3 with venv (scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
tools=target/pytools
packages=(bids-validator-deno==3.0.2 pycocoevalcap==1.2)
if [[ ! -x $tools/bin/python ]]; then
  python3 -m venv "$tools"
fi
if ! "$tools/bin/python" -m pip show -q "${packages[@]%%==*}" >/dev/null 2>&1; then
  "$tools/bin/python" -m pip install -q --disable-pip-version-check "${packages[@]}"
fi
