#!/usr/bin/env python3
"""Times pycocoevalcap's Bleu(4) + Cider() on the input that `cargo bench --bench
metrics` dumps (METRICS_BENCH_DUMP=path), to compare with scanscribe's Rust scorers.

Usage: python3 benches/metrics_python_reference.py /tmp/bench_captions.json [runs]
Prints the best wall time of `runs` (default 3) and the scores, so both sides can be
checked to agree on the same input.
"""

import json
import sys
import time

from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider


def main():
    path = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    gts, res = data["gts"], data["res"]
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
        cider, _ = Cider().compute_score(gts, res)
        best = min(best, time.perf_counter() - start)
    print(f"{len(res)} candidates: BLEU-4 {bleu[3]:.6f}, CIDEr-D {cider:.6f}")
    print(f"pycocoevalcap Bleu(4)+Cider(): best of {runs} runs {best * 1000:.0f} ms")


if __name__ == "__main__":
    main()
