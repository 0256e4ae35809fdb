#!/usr/bin/env bash
# Installs the system packages scanscribe needs to build, test and run headless, on
# Debian or Ubuntu. Idempotent: installs only what is missing. Sourced by app.sh and
# test.sh; safe to run by itself.
set -euo pipefail

packages=(
  # build: cpal's ALSA backend
  pkg-config libasound2-dev
  # C compiler for the Tobii SDK test double
  gcc libc6-dev
  # rendering: Vulkan through Mesa (lavapipe on machines without a GPU), EGL/GL fallback
  libvulkan1 mesa-vulkan-drivers libegl1 libegl-mesa0 libgl1-mesa-dri
  # windowing under X11 and fonts
  libxkbcommon-x11-0 libx11-xcb1 libxcursor1 libxi6 libxrandr2 libfontconfig1
  # headless window tests and screenshots
  xvfb xauth imagemagick x11-apps xdotool
  # Python reference tools for the tests (BIDS validator, COCO caption metrics)
  python3 python3-venv
  # WordNet database for the OSS metric (nouns, synonyms)
  wordnet-base
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "scanscribe setup: installing ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "scanscribe setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  [[ -f "$HOME/.cargo/env" ]] && source "$HOME/.cargo/env"
fi
command -v cargo >/dev/null || {
  echo "scanscribe setup: no Rust toolchain found; install it with rustup (https://rustup.rs), then run this again" >&2
  exit 1
}
