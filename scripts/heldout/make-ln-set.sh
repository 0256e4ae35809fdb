#!/usr/bin/env bash
# Builds the held-out Localized-Narratives-format set (scenes and annotator habits the
# cohort generator does not have; see make_ln_set.py) and imports it with
# `scanscribe import localized-narratives`, one import per split, merged into
# OUT/data/records.jsonl + OUT/data/images/ for `scanscribe train` and `eval`.
#
# Usage: scripts/heldout/make-ln-set.sh OUT [make_ln_set.py options, e.g. --seed 2027]
# Needs: python3 with venv (Pillow is installed into target/heldout-venv) and
# `scanscribe` on the PATH (scripts/app.sh puts it there) or SCANSCRIBE_BIN.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
out="${1:?usage: make-ln-set.sh OUT [options]}"
shift
bin="${SCANSCRIBE_BIN:-scanscribe}"
venv="$root/target/heldout-venv"
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import PIL" 2>/dev/null ||
  "$venv/bin/python" -m pip install -q --disable-pip-version-check pillow==11.3.0
"$venv/bin/python" "$here/make_ln_set.py" "$out/raw" "$@"
rm -rf "$out/data"
mkdir -p "$out/data/images"
: > "$out/data/records.jsonl"
for split in train val test; do
  "$bin" import localized-narratives --narratives "$out/raw/narratives-$split.jsonl" \
    --images "$out/raw/images" --out "$out/import-$split" --split "$split" \
    --objects "$out/raw/objects.json"
  cat "$out/import-$split/records.jsonl" >> "$out/data/records.jsonl"
  cp -n "$out/import-$split/images/"* "$out/data/images/"
done
echo "$out/data: $(wc -l < "$out/data/records.jsonl") records"
