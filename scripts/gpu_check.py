#!/usr/bin/env python3
"""The PyTorch side of scripts/gpu-check.sh, run on the GPU machine (torch and
transformers there, no network). Subcommands:

  make-model TEMPLATE OUT      random Qwen2-VL at Qwen2-VL-2B-Instruct's shapes, bf16,
                               tied embeddings, tokenizer and token ids from TEMPLATE
                               (the stop tokens' rows are zeroed so greedy decoding
                               runs to the token limit on both sides)
  generate DIR IMAGE N         transformers: load, prefill and greedy decode of N
                               tokens (ms/token from N and 1 new tokens)
  step DIR BATCH SEQ DESC CKPT a stage-2-like step: BATCH sequences of SEQ tokens
                               through the frozen language model, one injected
                               embedding per sequence as the only tensor with a
                               gradient, cross-entropy on the last DESC positions
                               (the head applied to those only); CKPT 1 = gradient
                               checkpointing
  compare-logs A B             largest difference between two train_log.csv files
  table RESULTS                the summary table of a results.jsonl

Each measuring subcommand prints one JSON line.
"""
import csv
import json
import os
import shutil
import sys
import time

# GPU_CHECK_DEVICE=cpu GPU_CHECK_TINY=1 runs every subcommand on a small model on the CPU
# (how the script itself is tested where there is no GPU).
DEVICE = os.environ.get("GPU_CHECK_DEVICE", "cuda")
TINY = os.environ.get("GPU_CHECK_TINY") == "1"


def sync():
    import torch

    if DEVICE == "cuda":
        torch.cuda.synchronize()


def peak_gib():
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**30, 2) if DEVICE == "cuda" else None


def log(result):
    print(json.dumps(result), flush=True)


def special_ids(template):
    with open(os.path.join(template, "config.json")) as f:
        cfg = json.load(f)
    return cfg


def make_model(template, out):
    import torch
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    started = time.time()
    t = special_ids(template)
    text = dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12)
    vision = dict(depth=32, embed_dim=1280, num_heads=16)
    if TINY:
        text = dict(hidden_size=384, intermediate_size=512, num_hidden_layers=2, num_attention_heads=3)
        vision = dict(depth=2, embed_dim=64, num_heads=2)
    config = Qwen2VLConfig(
        text_config=dict(
            vocab_size=151936,
            num_key_value_heads=1 if TINY else 2,
            **text,
            rms_norm_eps=1e-6,
            max_position_embeddings=32768,
            rope_parameters={"rope_type": "default", "mrope_section": [16, 24, 24], "rope_theta": 1000000.0},
        ),
        vision_config=dict(
            hidden_size=text["hidden_size"],
            mlp_ratio=4,
            **vision,
            patch_size=14,
            spatial_merge_size=2,
            temporal_patch_size=2,
            in_channels=3,
        ),
        image_token_id=t["image_token_id"],
        video_token_id=t["video_token_id"],
        vision_start_token_id=t["vision_start_token_id"],
        vision_end_token_id=t["vision_end_token_id"],
        eos_token_id=t["eos_token_id"],
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    with torch.device(DEVICE):
        model = Qwen2VLForConditionalGeneration._from_config(config, torch_dtype=torch.bfloat16)
    with torch.no_grad():
        embed = model.get_input_embeddings().weight
        for stop in t["eos_token_id"]:
            embed[stop].zero_()
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    for name in ("tokenizer.json", "generation_config.json"):
        src = os.path.join(template, name)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(out, name))
    with open(os.path.join(template, "preprocessor_config.json")) as f:
        pre = json.load(f)
    # Room for a 448x448 image (256 merged tokens), as the demo cohort's.
    pre["size"] = {"shortest_edge": 56 * 56, "longest_edge": 1280 * 28 * 28}
    pre["min_pixels"], pre["max_pixels"] = 56 * 56, 1280 * 28 * 28
    with open(os.path.join(out, "preprocessor_config.json"), "w") as f:
        json.dump(pre, f, indent=2)
    params = sum(p.numel() for p in model.parameters())
    log({"what": "make-model", "params": params, "seconds": round(time.time() - started, 1)})


def chat_ids(tokenizer, n_image, ids_of, prompt):
    enc = lambda text: tokenizer.encode(text, add_special_tokens=False).ids
    ids = enc("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n")
    ids += [ids_of["<|vision_start|>"]] + [ids_of["<|image_pad|>"]] * n_image + [ids_of["<|vision_end|>"]]
    return ids + enc(f"{prompt}<|im_end|>\n<|im_start|>assistant\n")


def generate(model_dir, image_path, n_tokens):
    import torch
    from PIL import Image
    from tokenizers import Tokenizer
    from transformers import AutoImageProcessor, Qwen2VLForConditionalGeneration

    started = time.time()
    model = Qwen2VLForConditionalGeneration.from_pretrained(
        model_dir, torch_dtype=torch.bfloat16, attn_implementation="sdpa"
    ).to(DEVICE).eval()
    sync()
    load = time.time() - started
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    ids_of = {s: tok.token_to_id(s) for s in ("<|vision_start|>", "<|image_pad|>", "<|vision_end|>", "<|endoftext|>")}
    processor = AutoImageProcessor.from_pretrained(model_dir)
    proc = processor(images=[Image.open(image_path).convert("RGB")], return_tensors="pt")
    grid = proc["image_grid_thw"].to(DEVICE)
    pixels = proc["pixel_values"].to(DEVICE).to(torch.bfloat16)
    n_image = int(grid[0].prod()) // 4
    ids = torch.tensor([chat_ids(tok, n_image, ids_of, "Write a description of this photo.")], device=DEVICE)
    mm = (ids == ids_of["<|image_pad|>"]).int()

    def run(new_tokens):
        sync()
        t0 = time.time()
        with torch.no_grad():
            out = model.generate(
                input_ids=ids,
                pixel_values=pixels,
                image_grid_thw=grid,
                mm_token_type_ids=mm,
                max_new_tokens=new_tokens,
                min_new_tokens=new_tokens,
                do_sample=False,
                pad_token_id=ids_of["<|endoftext|>"],
            )
        sync()
        return time.time() - t0, out.shape[1] - ids.shape[1]

    run(4)  # warm-up
    first, _ = run(1)
    total, produced = run(n_tokens)
    log(
        {
            "what": "transformers-generate",
            "load_s": round(load, 3),
            "prefill_first_token_s": round(first, 3),
            "tokens": produced,
            "ms_per_token": round(1000 * (total - first) / max(produced - 1, 1), 2),
            "prompt_tokens": ids.shape[1],
            "peak_gib": peak_gib(),
        }
    )


def step(model_dir, batch, seq, desc, checkpoint, steps=4):
    import torch
    from transformers import Qwen2VLForConditionalGeneration

    model = Qwen2VLForConditionalGeneration.from_pretrained(
        model_dir, torch_dtype=torch.bfloat16, attn_implementation="sdpa"
    ).to(DEVICE)
    for p in model.parameters():
        p.requires_grad_(False)
    lm = getattr(model.model, "language_model", model.model)
    head = model.lm_head
    if checkpoint:
        lm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        lm.train()
    else:
        lm.eval()
    hidden = model.config.text_config.hidden_size
    vocab = model.config.text_config.vocab_size
    g = torch.Generator(device=DEVICE).manual_seed(0)
    ids = torch.randint(10, 300, (batch, seq), device=DEVICE, generator=g)
    targets = torch.randint(10, 300, (batch, desc), device=DEVICE, generator=g)
    with torch.no_grad():
        base = lm.embed_tokens(ids)
    subj = (torch.randn(batch, hidden, device=DEVICE, generator=g) * 0.02).to(torch.bfloat16).requires_grad_(True)
    at = 30
    times = []
    if DEVICE == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for _ in range(steps):
        sync()
        t0 = time.time()
        embeds = torch.cat([base[:, :at], subj[:, None, :], base[:, at + 1 :]], dim=1)
        hidden_states = lm(inputs_embeds=embeds, use_cache=False).last_hidden_state
        logits = head(hidden_states[:, -desc - 1 : -1]).float()
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))
        loss.backward()
        sync()
        times.append(time.time() - t0)
        subj.grad = None
    log(
        {
            "what": "torch-step",
            "checkpoint": bool(checkpoint),
            "batch": batch,
            "seq": seq,
            "step_s": round(sorted(times[1:])[len(times[1:]) // 2], 3),
            "peak_gib": peak_gib(),
        }
    )


def compare_logs(a, b):
    def read(path):
        with open(path) as f:
            return list(csv.DictReader(f))

    ra, rb = read(a), read(b)
    worst = 0.0
    compared = 0
    for x, y in zip(ra, rb):
        for key, value in x.items():
            if "loss" not in key:
                continue
            try:
                worst = max(worst, abs(float(value) - float(y[key])))
                compared += 1
            except (TypeError, ValueError):
                pass
    log({"what": "cpu-cuda-losses", "rows": min(len(ra), len(rb)), "values": compared, "max_abs_diff": worst})


def table(results):
    rows = []
    with open(results) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
    print("\n| check | result |\n|---|---|")
    for r in rows:
        what = r.pop("what")
        print(f"| {what} | " + ", ".join(f"{k} {v}" for k, v in r.items()) + " |")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "make-model":
        make_model(*args)
    elif cmd == "generate":
        generate(args[0], args[1], int(args[2]))
    elif cmd == "step":
        step(args[0], int(args[1]), int(args[2]), int(args[3]), int(args[4]))
    elif cmd == "compare-logs":
        compare_logs(*args)
    elif cmd == "table":
        table(args[0])
    else:
        sys.exit(f"unknown subcommand {cmd}")


if __name__ == "__main__":
    main()
