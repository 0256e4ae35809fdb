#!/usr/bin/env bash
# The GPU check: run on a machine with an NVIDIA GPU, torch and transformers (no Rust,
# no network needed), from the repository root, with the bundle that
# scripts/build-cuda.sh made (target/gpu-bundle/scanscribe-cuda.tar.gz). About 5 min on
# an H200. It measures, and prints one summary table at the end:
#   - the first CUDA use in a fresh process (the driver compiling the kernels' PTX);
#   - CUDA vs CPU parity of the built-in path (tiny preset: train losses, describe);
#   - a random Qwen2-VL at Qwen2-VL-2B-Instruct's shapes (made here with transformers):
#     load + prefill and greedy decode speed, scanscribe vs transformers.generate;
#   - a stage-2 step through the 2B model (16 descriptions, micro-batches 16, 8 and 2):
#     time and peak GPU memory, vs the same step in PyTorch with and without gradient
#     checkpointing; checkpointed vs whole-graph losses on a smaller batch;
#   - `scanscribe train --vlm qwen2-vl` end to end (tiny preset, one stage-2 epoch),
#     peak GPU memory polled by nvidia-smi.
# Results: $OUT/results.jsonl (or out/gpu-check/), logs beside it.
# A dry run without a GPU (tests the script itself): GPU_CHECK_DEVICE=cpu GPU_CHECK_TINY=1
# GPU_CHECK_BATCH=2 with a bundle of the CPU binary.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${OUT:-$root/out/gpu-check}
bundle=${1:-$root/target/gpu-bundle/scanscribe-cuda.tar.gz}
work=${GPU_CHECK_WORK:-/tmp/scanscribe-gpu-check}
mkdir -p "$out"
results=$out/results.jsonl
: >"$results"
rm -rf "$work" && mkdir -p "$work"
tar -C "$work" -xzf "$bundle" || { echo "gpu-check: cannot unpack $bundle" >&2; exit 1; }
ss=$work/scanscribe-cuda/run.sh
py=${PYTHON:-python3}
check=$root/scripts/gpu_check.py
dev=${GPU_CHECK_DEVICE:-cuda}
batch=${GPU_CHECK_BATCH:-16}
fixture=$root/tests/fixtures/qwen2vl/model

record() { echo "$1" | tee -a "$results"; }
seconds() { date +%s.%N; }
elapsed() { "$py" -c "print(round($(seconds) - $1, 2))"; }
# Peak of nvidia-smi's used memory (MiB) while a command runs.
with_peak() {
  local log=$1
  shift
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$log.mem" 2>/dev/null &
  local poll=$!
  "$@"
  local rc=$?
  kill "$poll" 2>/dev/null
  wait "$poll" 2>/dev/null
  peak_mib=$(sort -n "$log.mem" | tail -1)
  return $rc
}

echo "== GPU"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
[[ -s $out/gpu.txt ]] || echo "no GPU (dry run)" >"$out/gpu.txt"
record "{\"what\": \"gpu\", \"name\": \"$(cut -d, -f1 "$out/gpu.txt" | head -1)\"}"

echo "== cohort and the built-in path, CUDA vs CPU"
"$ss" simulate --subjects 8 --images 8 --held-out 2 --seed 11 --out "$work/cohort" >"$out/simulate.log" 2>&1
image=$(ls "$work"/cohort/images/* | head -1)
t=$(seconds)
timeout 300 "$ss" train --data "$work/cohort" --out "$work/tiny-cuda" --preset tiny --device $dev >"$out/train-tiny-cuda.log" 2>&1
first_cuda=$(elapsed "$t")
t=$(seconds)
timeout 300 "$ss" train --data "$work/cohort" --out "$work/tiny-cuda2" --preset tiny --device $dev >"$out/train-tiny-cuda2.log" 2>&1
warm_cuda=$(elapsed "$t")
t=$(seconds)
timeout 300 "$ss" train --data "$work/cohort" --out "$work/tiny-cpu" --preset tiny --device cpu >"$out/train-tiny-cpu.log" 2>&1
cpu=$(elapsed "$t")
record "{\"what\": \"train-tiny\", \"first_cuda_process_s\": $first_cuda, \"warm_cuda_s\": $warm_cuda, \"cpu_s\": $cpu}"
"$py" "$check" compare-logs "$work/tiny-cpu/train_log.csv" "$work/tiny-cuda/train_log.csv" | tee -a "$results"
d_cuda=$("$ss" describe --model "$work/tiny-cuda" --image "$image" --device $dev 2>/dev/null)
d_cpu=$("$ss" describe --model "$work/tiny-cuda" --image "$image" --device cpu 2>/dev/null)
same=false
[[ -n $d_cuda && $d_cuda == "$d_cpu" ]] && same=true
record "{\"what\": \"describe-builtin\", \"cuda_equals_cpu\": $same}"

echo "== random Qwen2-VL at 2B shapes (transformers)"
timeout 240 "$py" "$check" make-model "$fixture" "$work/q2b" 2>"$out/make-model.err" | tee -a "$results"

echo "== decode: scanscribe vs transformers"
decode() {
  "$ss" describe --vlm qwen2-vl --vlm-path "$work/q2b" --image "$image" --device $dev \
    --beam 1 --max-tokens "$1" --timing 2>&1 >/dev/null | grep '^timing:'
}
decode 4 >/dev/null # warm the kernel cache for this model's shapes
one=$(decode 1)
many=$(decode 129)
echo "$one"
echo "$many"
"$py" - "$one" "$many" <<'EOF' | tee -a "$results"
import json, re, sys
def parse(line):
    load, image, n, gen = re.search(r"load ([\d.]+) s, image ([\d.]+) s, prefill and (\d+) tokens ([\d.]+) s", line).groups()
    return float(load), float(image), int(n), float(gen)
l1, i1, n1, g1 = parse(sys.argv[1])
l2, i2, n2, g2 = parse(sys.argv[2])
print(json.dumps({"what": "scanscribe-decode", "load_s": l1, "image_s": i1, "prefill_first_token_s": g1,
                  "tokens": n2, "ms_per_token": round(1000 * (g2 - g1) / max(n2 - n1, 1), 2)}))
EOF
timeout 240 "$py" "$check" generate "$work/q2b" "$image" 128 2>"$out/generate.err" | tee -a "$results"

echo "== stage 2 through the 2B model"
for micro in "$batch" 8 2; do
  with_peak "$out/bench-$micro" timeout 300 "$ss" bench stage2 --vlm-path "$work/q2b" --image "$image" \
    --batch "$batch" --micro-batch "$micro" --steps 3 --device $dev >"$out/bench-$micro.log" 2>&1
  cat "$out/bench-$micro.log"
  "$py" - "$out/bench-$micro.log" "$micro" "${peak_mib:-0}" "$batch" <<'EOF' | tee -a "$results"
import json, re, sys
text = open(sys.argv[1]).read()
times = [float(x) for x in re.search(r"step seconds: (.*)", text).group(1).split()] if "step seconds" in text else []
est = re.search(r"estimated peak: ([\d.]+) GiB", text)
peak = re.search(r"measured peak: ([\d.]+) GiB", text)
tokens = re.search(r"× (\d+) tokens", text)
print(json.dumps({"what": "scanscribe-stage2-step", "batch": int(sys.argv[4]), "micro_batch": int(sys.argv[2]),
                  "seq": int(tokens.group(1)) if tokens else None,
                  "step_s": sorted(times[1:])[len(times[1:]) // 2] if len(times) > 1 else None,
                  "peak_gib_polled": float(peak.group(1)) if peak else None,
                  "peak_gib_nvidia_smi": round(int(sys.argv[3]) / 1024, 2),
                  "estimate_gib": float(est.group(1)) if est else None,
                  "ok": "step seconds" in text}))
EOF
done
seq=$(grep -o '× [0-9]* tokens' "$out/bench-8.log" | grep -o '[0-9]*' | head -1)
seq=${seq:-350}
for ckpt in 1 0; do
  timeout 240 "$py" "$check" step "$work/q2b" 16 "$seq" 65 "$ckpt" 2>"$out/torch-step-$ckpt.err" | tee -a "$results"
done
for mode in checkpointed whole-graph; do
  flag=()
  [[ $mode == whole-graph ]] && flag=(--no-grad-checkpoint)
  timeout 300 "$ss" bench stage2 --vlm-path "$work/q2b" --image "$image" --batch 2 --steps 1 \
    --micro-batch 2 --device $dev "${flag[@]}" >"$out/parity-$mode.log" 2>&1
done
"$py" - "$out/parity-checkpointed.log" "$out/parity-whole-graph.log" <<'EOF' | tee -a "$results"
import json, re, sys
def loss(path):
    m = re.search(r"losses: ([\d.]+)", open(path).read())
    return float(m.group(1)) if m else None
a, b = loss(sys.argv[1]), loss(sys.argv[2])
print(json.dumps({"what": "stage2-checkpointed-vs-whole-graph", "loss_checkpointed": a, "loss_whole_graph": b,
                  "rel_diff": None if not (a and b) else round(abs(a - b) / abs(b), 6)}))
EOF

echo "== train --vlm qwen2-vl end to end"
t=$(seconds)
with_peak "$out/train-qwen" timeout 400 "$ss" train --data "$work/cohort" --out "$work/qwen" --preset tiny \
  --vlm qwen2-vl --vlm-path "$work/q2b" --device $dev >"$out/train-qwen.log" 2>&1
rc=$?
tail -5 "$out/train-qwen.log"
record "{\"what\": \"train-qwen2vl-2b\", \"exit\": $rc, \"seconds\": $(elapsed "$t"), \"peak_gib_nvidia_smi\": $("$py" -c "print(round(${peak_mib:-0} / 1024, 2))")}"

"$py" "$check" table "$results" | tee "$out/table.md"
