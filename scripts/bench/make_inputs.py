#!/usr/bin/env python3
"""Inputs for scripts/bench-vs-reference.sh, written once into OUT (default
target/bench-inputs):

- captions: references.jsonl and candidates.jsonl, 20,000 (image, subject) pairs of
  scene-like sentences (seeded), in the dataset record format scanscribe and the
  reference script both read;
- gaze: gaze-<n>.csv for each sample count, scanscribe's gaze CSV (both eyes,
  display-normalized) at 500 Hz: fixations of 150-400 ms joined by saccades, with
  tremor and a few invalid samples, on a 1920x1080 screen.
"""

import json
import os
import sys

import numpy as np

SEED = 20261204
COLOURS = ["red", "blue", "green", "yellow", "orange", "purple", "black", "white", "grey", "brown"]
OBJECTS = ["house", "tree", "car", "dog", "circle", "triangle", "square", "cloud", "boat", "bird",
           "star", "flower", "cat", "ball", "chair", "table", "window", "door", "hill", "river"]
OPENERS = ["in this image i can see", "there is", "a picture of", "we can see", "this shows"]
LINKS = ["and", "next to", "above", "below", "beside", "behind", "near", "then"]


def sentence(rng):
    words = [OPENERS[rng.integers(len(OPENERS))]]
    for k in range(rng.integers(2, 6)):
        if k:
            words.append(LINKS[rng.integers(len(LINKS))])
        words.append("a " + COLOURS[rng.integers(len(COLOURS))] + " " + OBJECTS[rng.integers(len(OBJECTS))])
    return " ".join(words) + "."


def captions(out, pairs=20_000):
    rng = np.random.default_rng(SEED)
    subjects = 20
    images = pairs // subjects
    with open(os.path.join(out, "references.jsonl"), "w") as refs, \
         open(os.path.join(out, "candidates.jsonl"), "w") as cands:
        for image in range(images):
            for subject in range(subjects):
                key = {"image": f"images/{image:05d}.png", "subject": f"s{subject:02d}"}
                refs.write(json.dumps({**key, "description": sentence(rng)}) + "\n")
                cands.write(json.dumps({**key, "description": sentence(rng)}) + "\n")


def gaze(out, n):
    rng = np.random.default_rng(SEED + n)
    rate_hz = 500
    t = 1_000_000_000 + np.arange(n, dtype=np.int64) * (1_000_000 // rate_hz)
    x = np.empty(n)
    y = np.empty(n)
    i = 0
    px, py = 0.5, 0.5
    while i < n:
        fix = int(rng.integers(75, 200))  # 150-400 ms at 500 Hz
        sac = int(rng.integers(10, 25))
        nx, ny = rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.95)
        end = min(i + sac, n)
        steps = np.linspace(0, 1, end - i, endpoint=False)
        x[i:end] = px + (nx - px) * steps
        y[i:end] = py + (ny - py) * steps
        i = end
        end = min(i + fix, n)
        x[i:end] = nx
        y[i:end] = ny
        i = end
        px, py = nx, ny
    x += rng.normal(0, 0.0008, n)
    y += rng.normal(0, 0.0008, n)
    valid = rng.random(n) > 0.01
    pupil = 3.0 + rng.normal(0, 0.05, n)
    path = os.path.join(out, f"gaze-{n}.csv")
    with open(path, "w") as f:
        f.write("system_time_us,device_time_us,left_x,left_y,left_valid,left_pupil_mm,"
                "right_x,right_y,right_valid,right_pupil_mm\n")
        chunk = 200_000
        for s in range(0, n, chunk):
            e = min(s + chunk, n)
            rows = []
            for k in range(s, e):
                if valid[k]:
                    eye = f"{x[k]:.5f},{y[k]:.5f},1,{pupil[k]:.3f}"
                else:
                    eye = ",,0,"
                rows.append(f"{t[k]},{t[k]},{eye},{eye}\n")
            f.write("".join(rows))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "target/bench-inputs"
    counts = [int(c) for c in sys.argv[2:]] or [100_000, 1_000_000, 10_000_000]
    os.makedirs(out, exist_ok=True)
    if not os.path.exists(os.path.join(out, "candidates.jsonl")):
        captions(out)
    for n in counts:
        if not os.path.exists(os.path.join(out, f"gaze-{n}.csv")):
            gaze(out, n)


if __name__ == "__main__":
    main()
