"""A held-out test set in Localized Narratives format, made without scanscribe's cohort.

Scenes: outdoor drawings (sky and ground, houses, trees, cars, boats, the sun, clouds,
flowers, mountains, people, birds), none of which the cohort generator draws.
Annotators: Localized-Narratives-style speakers ("In this image I can see ..."), each
with their own habits the cohort does not have: the order in which they point
(left to right, front to back, top down, biggest first, a favourite kind first), their
opening, their words for things, whether they count, give colours or say where, how
they join phrases, and how their mouse moves. The mouse trace points at each object
while it is named, as in Localized Narratives (Pont-Tuset et al. 2020).

Writes into OUT: images/<id>.png, narratives-{train,val,test}.jsonl (one narrative a
line: dataset_id, image_id, annotator_id, caption, timed_caption, traces) and
objects.json (image id -> labels such as "red house"). Seen annotators describe
train, val and test images; unseen annotators only test images.

Usage: python make_ln_set.py OUT [--seed 2026] [--images 80] [--annotators 30]
       [--unseen 6] [--per-image 8]
"""

import argparse
import json
import math
import os
import random

from PIL import Image, ImageDraw

SIZE = 448
COLOURS = {
    "red": (200, 40, 40), "blue": (40, 80, 200), "yellow": (235, 200, 40),
    "green": (50, 150, 60), "white": (240, 240, 240), "black": (30, 30, 30),
    "orange": (240, 140, 30), "pink": (235, 120, 170), "purple": (130, 60, 160),
    "brown": (120, 75, 40), "grey": (130, 130, 130),
}
# kind -> (possible colours, words annotators use for it)
KINDS = {
    "house": (["red", "white", "yellow", "blue", "brown"], ["house", "building", "home", "hut"]),
    "tree": (["green"], ["tree", "plant"]),
    "car": (["red", "blue", "black", "white", "yellow"], ["car", "vehicle", "automobile"]),
    "boat": (["white", "red", "blue"], ["boat", "ship", "sailboat"]),
    "sun": (["yellow", "orange"], ["sun"]),
    "cloud": (["white", "grey"], ["cloud"]),
    "flower": (["red", "pink", "purple", "yellow"], ["flower", "blossom"]),
    "mountain": (["grey", "brown"], ["mountain", "hill"]),
    "person": (["black", "blue", "red"], ["person", "man", "woman", "human"]),
    "bird": (["black"], ["bird"]),
}
SKY_KINDS = {"sun", "cloud", "bird"}


def draw_object(d, kind, colour, x, y, s):
    c = COLOURS[colour]
    if kind == "house":
        d.rectangle([x - s, y - s * 0.6, x + s, y + s], fill=c, outline=(0, 0, 0))
        d.polygon([(x - s * 1.2, y - s * 0.6), (x + s * 1.2, y - s * 0.6), (x, y - s * 1.5)], fill=(110, 40, 30))
        d.rectangle([x - s * 0.25, y + s * 0.3, x + s * 0.25, y + s], fill=(80, 50, 30))
    elif kind == "tree":
        d.rectangle([x - s * 0.15, y, x + s * 0.15, y + s], fill=COLOURS["brown"])
        d.ellipse([x - s * 0.7, y - s * 1.1, x + s * 0.7, y + s * 0.2], fill=c)
    elif kind == "car":
        d.rectangle([x - s, y - s * 0.3, x + s, y + s * 0.3], fill=c, outline=(0, 0, 0))
        d.rectangle([x - s * 0.5, y - s * 0.65, x + s * 0.4, y - s * 0.3], fill=c, outline=(0, 0, 0))
        for wx in (x - s * 0.6, x + s * 0.6):
            d.ellipse([wx - s * 0.25, y + s * 0.1, wx + s * 0.25, y + s * 0.6], fill=(20, 20, 20))
    elif kind == "boat":
        d.polygon([(x - s, y), (x + s, y), (x + s * 0.6, y + s * 0.5), (x - s * 0.6, y + s * 0.5)], fill=c, outline=(0, 0, 0))
        d.line([(x, y), (x, y - s * 1.3)], fill=(60, 40, 20), width=3)
        d.polygon([(x + 2, y - s * 1.2), (x + 2, y - s * 0.1), (x + s * 0.8, y - s * 0.1)], fill=(250, 250, 250))
    elif kind == "sun":
        for k in range(12):
            a = k * math.pi / 6
            d.line([(x + math.cos(a) * s * 0.7, y + math.sin(a) * s * 0.7),
                    (x + math.cos(a) * s * 1.1, y + math.sin(a) * s * 1.1)], fill=c, width=3)
        d.ellipse([x - s * 0.6, y - s * 0.6, x + s * 0.6, y + s * 0.6], fill=c)
    elif kind == "cloud":
        for dx, dy, r in ((-0.5, 0.1, 0.5), (0.0, -0.15, 0.6), (0.5, 0.1, 0.5)):
            d.ellipse([x + (dx - r) * s, y + (dy - r * 0.7) * s, x + (dx + r) * s, y + (dy + r * 0.7) * s], fill=c)
    elif kind == "flower":
        d.line([(x, y), (x, y + s)], fill=COLOURS["green"], width=3)
        for k in range(5):
            a = k * 2 * math.pi / 5
            px, py = x + math.cos(a) * s * 0.35, y + math.sin(a) * s * 0.35
            d.ellipse([px - s * 0.25, py - s * 0.25, px + s * 0.25, py + s * 0.25], fill=c)
        d.ellipse([x - s * 0.15, y - s * 0.15, x + s * 0.15, y + s * 0.15], fill=COLOURS["yellow"])
    elif kind == "mountain":
        d.polygon([(x - s * 1.4, y + s * 0.8), (x + s * 1.4, y + s * 0.8), (x, y - s)], fill=c)
        d.polygon([(x - s * 0.3, y - s * 0.6), (x + s * 0.3, y - s * 0.6), (x, y - s)], fill=(250, 250, 250))
    elif kind == "person":
        d.ellipse([x - s * 0.2, y - s, x + s * 0.2, y - s * 0.6], fill=(230, 190, 150))
        d.rectangle([x - s * 0.25, y - s * 0.6, x + s * 0.25, y + s * 0.2], fill=c)
        d.line([(x - s * 0.1, y + s * 0.2), (x - s * 0.2, y + s)], fill=(40, 40, 40), width=3)
        d.line([(x + s * 0.1, y + s * 0.2), (x + s * 0.2, y + s)], fill=(40, 40, 40), width=3)
    elif kind == "bird":
        d.arc([x - s * 0.6, y - s * 0.3, x, y + s * 0.3], 200, 340, fill=c, width=3)
        d.arc([x, y - s * 0.3, x + s * 0.6, y + s * 0.3], 200, 340, fill=c, width=3)


def make_scene(rng):
    sky = rng.choice([("blue", (150, 200, 240)), ("grey", (170, 175, 185)), ("orange", (245, 190, 140))])
    ground = rng.choice([("green", (110, 170, 90)), ("brown", (170, 140, 100)), ("blue", (70, 120, 190))])
    horizon = rng.uniform(0.45, 0.6)
    objects = []
    kinds = rng.sample(sorted(KINDS), rng.randint(3, 6))
    for kind in kinds:
        for _ in range(rng.choice([1, 1, 1, 2])):
            colours, _ = KINDS[kind]
            colour = rng.choice(colours)
            s = rng.uniform(0.06, 0.13) * SIZE * (1.4 if kind in ("mountain", "house") else 1.0)
            x = rng.uniform(0.12, 0.88) * SIZE
            if kind in SKY_KINDS:
                y = rng.uniform(0.1, horizon - 0.12) * SIZE
            elif kind == "boat" and ground[0] == "blue":
                y = rng.uniform(horizon + 0.1, 0.85) * SIZE
            else:
                y = rng.uniform(horizon + 0.05, 0.82) * SIZE
            objects.append({"kind": kind, "colour": colour, "x": x / SIZE, "y": y / SIZE, "size": s / SIZE})
    return {"sky": sky, "ground": ground, "horizon": horizon, "objects": objects}


def render(scene, path):
    img = Image.new("RGB", (SIZE, SIZE), scene["sky"][1])
    d = ImageDraw.Draw(img)
    d.rectangle([0, scene["horizon"] * SIZE, SIZE, SIZE], fill=scene["ground"][1])
    for o in sorted(scene["objects"], key=lambda o: o["y"]):
        draw_object(d, o["kind"], o["colour"], o["x"] * SIZE, o["y"] * SIZE, o["size"] * SIZE)
    img.save(path)


ORDERS = ["left_to_right", "front_to_back", "top_down", "biggest_first", "favourite_first"]
OPENINGS = ["In this image I can see", "In this picture we can see", "This is an image of",
            "Here we can see", "In this image there is", "I can see"]
JOINERS = [", ", " and ", ". We can also see ", ", beside that ", ". Also there is "]


def make_annotator(rng, index):
    return {
        "id": str(100 + index),
        "order": rng.choice(ORDERS),
        "favourite": rng.choice(sorted(KINDS)),
        "opening": rng.choice(OPENINGS),
        "joiner": rng.choice(JOINERS),
        "words": {k: rng.choice(w[:2] if rng.random() < 0.6 else w) for k, (_, w) in KINDS.items()},
        "colour_rate": rng.choice([0.1, 0.5, 0.9]),
        "where_rate": rng.choice([0.0, 0.4, 0.8]),
        "counts": rng.random() < 0.5,
        "mentions": rng.randint(2, 5),
        "sky_ground": rng.random() < 0.5,
        "pace_s": rng.uniform(0.25, 0.45),
        "jitter": rng.uniform(0.005, 0.03),
    }


def where(o):
    x, y = o["x"], o["y"]
    h = "on the left" if x < 0.35 else ("on the right" if x > 0.65 else "in the middle")
    v = "at the top" if y < 0.3 else ("at the bottom" if y > 0.75 else "")
    return f"{h} side" if not v else f"{v} {h.replace('on the ', '')}"


def order_objects(a, objects):
    key = {
        "left_to_right": lambda o: o["x"],
        "front_to_back": lambda o: -o["y"],
        "top_down": lambda o: o["y"],
        "biggest_first": lambda o: -o["size"],
        "favourite_first": lambda o: (o["kind"] != a["favourite"], -o["size"]),
    }[a["order"]]
    return sorted(objects, key=key)


def narrate(a, scene, rng):
    """Caption, timed utterances and the mouse trace of annotator `a` on `scene`."""
    ordered = order_objects(a, scene["objects"])
    groups = []  # (kind, colour, [objects])
    for o in ordered:
        for g in groups:
            if a["counts"] and g[0] == o["kind"] and g[1] == o["colour"]:
                g[2].append(o)
                break
        else:
            groups.append((o["kind"], o["colour"], [o]))
    groups = groups[: a["mentions"]]
    phrases = []
    for kind, colour, objs in groups:
        word = a["words"][kind]
        colour_word = f"{colour} " if rng.random() < a["colour_rate"] else ""
        if len(objs) > 1:
            phrase = f"two {colour_word}{word}s"
        else:
            article = "an" if (colour_word or word)[0] in "aeiou" else "a"
            phrase = f"{article} {colour_word}{word}"
        if rng.random() < a["where_rate"]:
            phrase += f" {where(objs[0])}"
        phrases.append((phrase, objs))
    text_parts = [f"{a['opening']} {phrases[0][0]}"] + [p for p, _ in phrases[1:]]
    caption = text_parts[0]
    for part in text_parts[1:]:
        caption += a["joiner"] + part
    if a["sky_ground"]:
        caption += f". The sky is {scene['sky'][0]}"
        phrases.append((f"the sky is {scene['sky'][0]}", [{"x": 0.5, "y": scene["horizon"] / 2}]))
    caption += "."
    # Utterances and trace: point at each phrase's objects while saying it.
    t = rng.uniform(0.3, 0.8)
    timed, trace = [], []
    px, py = 0.5, 0.5
    for phrase, objs in phrases:
        words = phrase.split()
        duration = len(words) * a["pace_s"]
        start = t
        targets = [(o["x"], o["y"]) for o in objs]
        # move to the first target over 0.3 s
        tx, ty = targets[0]
        for k in range(1, 7):
            f = k / 6
            trace.append({"x": px + (tx - px) * f, "y": py + (ty - py) * f, "t": round(t, 3)})
            t += 0.05
        per = max(duration / len(targets), 0.4)
        for tx, ty in targets:
            end = t + per
            while t < end:
                trace.append({"x": round(tx + rng.gauss(0, a["jitter"]), 4),
                              "y": round(ty + rng.gauss(0, a["jitter"]), 4), "t": round(t, 3)})
                t += 0.04
            px, py = tx, ty
        for w in words:
            timed.append({"utterance": w, "start_time": round(start, 3), "end_time": round(start + a["pace_s"], 3)})
            start += a["pace_s"]
        t = max(t, start) + rng.uniform(0.1, 0.4)
    return caption, timed, [trace]


def labels(scene):
    return [f"{o['colour']} {o['kind']}" for o in scene["objects"]]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--images", type=int, default=80)
    p.add_argument("--annotators", type=int, default=30)
    p.add_argument("--unseen", type=int, default=6)
    p.add_argument("--per-image", type=int, default=8)
    args = p.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(os.path.join(args.out, "images"), exist_ok=True)
    scenes = [make_scene(rng) for _ in range(args.images)]
    ids = [f"{9000 + i}" for i in range(args.images)]
    for scene, image_id in zip(scenes, ids):
        render(scene, os.path.join(args.out, "images", f"{image_id}.png"))
    annotators = [make_annotator(rng, i) for i in range(args.annotators)]
    seen, unseen = annotators[: -args.unseen], annotators[-args.unseen:]
    order = list(range(args.images))
    rng.shuffle(order)
    n_train, n_val = round(0.7 * args.images), round(0.1 * args.images)
    split_of = {}
    for rank, i in enumerate(order):
        split_of[i] = "train" if rank < n_train else ("val" if rank < n_train + n_val else "test")
    lines = {"train": [], "val": [], "test": []}
    for i, scene in enumerate(scenes):
        pool = seen if split_of[i] != "test" else annotators
        who = rng.sample(pool, min(args.per_image, len(pool)))
        if split_of[i] == "test":
            who = [a for a in who if a not in unseen] + unseen  # unseen annotators see every test image
        for a in who:
            caption, timed, traces = narrate(a, scene, rng)
            lines[split_of[i]].append(json.dumps({
                "dataset_id": "scanscribe_heldout", "image_id": ids[i], "annotator_id": a["id"],
                "caption": caption, "timed_caption": timed, "traces": traces}))
    for split, rows in lines.items():
        with open(os.path.join(args.out, f"narratives-{split}.jsonl"), "w") as f:
            f.write("\n".join(rows) + "\n")
    with open(os.path.join(args.out, "objects.json"), "w") as f:
        json.dump({image_id: labels(s) for image_id, s in zip(ids, scenes)}, f, indent=1)
    print(f"{args.out}: {args.images} images, {len(seen)} seen + {len(unseen)} unseen annotators, "
          + ", ".join(f"{len(v)} {k}" for k, v in lines.items()) + " narratives")


if __name__ == "__main__":
    main()
