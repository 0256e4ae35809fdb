#!/usr/bin/env bash
# End-to-end speed against the reference tools, measured in one run on the same files:
#   score --metrics bleu,cider   vs pycocoevalcap 1.2 (PTB tokenizer through Java)
#   fixations --method ivt/idt   vs pymovements (pix2deg, pos2vel, detect)
# Every time includes reading the input and starting the program. Inputs are written
# once into target/bench-inputs (scripts/bench/make_inputs.py); the Python tools go
# into target/benchtools (a virtual environment, from PyPI).
#
# Usage: scripts/bench-vs-reference.sh [SAMPLE COUNTS...]   (default 100000 1000000 10000000)
#   SCANSCRIBE=path/to/scanscribe picks the binary (default: the build the README makes).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
command -v java >/dev/null || {
  echo "bench: pycocoevalcap's tokenizer needs Java; installing default-jre-headless"
  sudo=(); [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends default-jre-headless
}
tools=target/benchtools
if [[ ! -x $tools/bin/python ]]; then python3 -m venv "$tools"; fi
"$tools/bin/python" -m pip install -q --disable-pip-version-check pymovements pycocoevalcap==1.2
counts=("$@")
((${#counts[@]})) || counts=(100000 1000000 10000000)
inputs=target/bench-inputs
"$tools/bin/python" scripts/bench/make_inputs.py "$inputs" "${counts[@]}"
if [[ -z ${SCANSCRIBE:-} ]]; then
  cargo install --quiet --locked --force --debug --path . --target-dir "${CARGO_TARGET_DIR:-target}" \
    --config 'profile.dev.package.scanscribe.opt-level=2'
  SCANSCRIBE=${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin/scanscribe
fi
echo "scanscribe: $SCANSCRIBE"

seconds() { # runs a command quietly, prints its wall time in seconds
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

printf '%-34s %12s %12s %8s\n' job scanscribe_s reference_s ratio
row() {
  printf '%-34s %12.3f %12.3f %7.1fx\n' "$1" "$2" "$3" "$(echo "$3 / $2" | bc -l)"
}
ours=$(seconds "$SCANSCRIBE" score --candidates "$inputs/candidates.jsonl" \
  --references "$inputs/references.jsonl" --metrics bleu,cider)
theirs=$(seconds "$tools/bin/python" scripts/bench/score_reference.py \
  "$inputs/candidates.jsonl" "$inputs/references.jsonl")
row "score BLEU+CIDEr-D, 20000 pairs" "$ours" "$theirs"
for n in "${counts[@]}"; do
  for method in ivt idt; do
    ours=$(seconds "$SCANSCRIBE" fixations --input "$inputs/gaze-$n.csv" --method "$method" \
      --out "$inputs/fixations-$method-$n.csv")
    theirs=$(seconds "$tools/bin/python" scripts/bench/fixations_reference.py "$method" "$inputs/gaze-$n.csv")
    row "fixations $method, $n samples" "$ours" "$theirs"
  done
done
