#!/usr/bin/env python3
"""The reference for `scanscribe score --metrics bleu,cider`: pycocoevalcap 1.2 on the
same files, end to end (reading the JSON lines, the PTB tokenizer through Java, BLEU-1..4
and CIDEr-D). Each candidate is scored against that subject's own description of the
image, as scanscribe does. Prints the scores and the seconds taken."""

import json
import sys
import time

start = time.perf_counter()
from pycocoevalcap.bleu.bleu import Bleu  # noqa: E402
from pycocoevalcap.cider.cider import Cider  # noqa: E402
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer  # noqa: E402


def read(path):
    with open(path) as f:
        return {(r["image"], r["subject"]): r["description"] for r in map(json.loads, f) if r}


candidates, references = read(sys.argv[1]), read(sys.argv[2])
keys = sorted(k for k in candidates if k in references)
tokenizer = PTBTokenizer()
res = tokenizer.tokenize({i: [{"caption": candidates[k]}] for i, k in enumerate(keys)})
gts = tokenizer.tokenize({i: [{"caption": references[k]}] for i, k in enumerate(keys)})
bleu, _ = Bleu(4).compute_score(gts, res)
cider, _ = Cider().compute_score(gts, res)
elapsed = time.perf_counter() - start
print(json.dumps({"pairs": len(keys), "bleu": bleu, "cider": cider, "seconds": elapsed}))
