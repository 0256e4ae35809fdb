#!/usr/bin/env python3
"""Make the tiny Qwen2-VL parity fixture in tests/fixtures/qwen2vl/.

A Qwen2-VL with random weights (2 vision blocks 32 wide, 2 language layers 64 wide,
grouped-query attention, M-RoPE sections [2, 3, 3]) and a small byte-level BPE
tokenizer with Qwen's special tokens plus `<subj>`, saved as a Hugging Face folder
(`model/`), and the reference outputs of `transformers` in `reference.safetensors`:

- `pixel_values`, `image_grid_thw` of `image.png` (the PIL image processor);
- `input_ids`: the chat template with the image placeholders and the paper's prompt
  with `<subj>`, followed by a few description tokens;
- `logits`: the model's logits for them;
- `subj`, `logits_subj`: a vector and the logits with the `<subj>` input embedding
  replaced by it (computed through `inputs_embeds` + explicit M-RoPE position ids,
  and checked against a forward hook on the embedding layer);
- `greedy`: `generate(do_sample=False)` tokens after the prompt;
- `proc.<name>.pixels` / `proc.<name>.grid` for `proc_<name>.png` of several sizes
  (no resize, bicubic down and up, the max_pixels and min_pixels bounds).

Run from the repository root (CPU is enough, deterministic by seed):
    python3 scripts/make_qwen2vl_fixture.py

Versions used for the committed fixture:
    torch==2.15.0 transformers==5.23.0 tokenizers==0.22.2 safetensors==0.7.0
    pillow==12.0.0 numpy==2.3.5
"""
import json
import os
import shutil

import numpy as np
import torch
from PIL import Image
from safetensors.numpy import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

OUT = os.path.join("tests", "fixtures", "qwen2vl")
MODEL = os.path.join(OUT, "model")
SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<subj>",
]
SYSTEM = "You are a helpful assistant."
PROMPT = "Write a description of this photo in the style of <subj>."
MIN_PIXELS = 56 * 56
MAX_PIXELS = 28 * 28 * 12


def make_tokenizer():
    texts = [
        "system user assistant You are a helpful assistant.",
        "Write a description of this photo in the style of",
        "a red circle left of a blue square above the green triangle",
        "I see a small dog on the grass near a tree and two people",
    ] * 4
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return tok


def test_image(h, w, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack(
        [
            127 + 120 * np.sin(x / max(w, 1) * 6.0),
            127 + 120 * np.cos(y / max(h, 1) * 5.0),
            (x * 3 + y * 7) % 256,
        ],
        axis=-1,
    )
    noisy = base + rng.normal(0, 20, base.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def main():
    torch.manual_seed(0)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(MODEL)
    tok = make_tokenizer()
    tok.save(os.path.join(MODEL, "tokenizer.json"))
    ids_of = {s: tok.token_to_id(s) for s in SPECIALS}
    vocab = 320  # > tokenizer size: free rows, as in the real checkpoint
    assert tok.get_vocab_size() <= vocab

    config = Qwen2VLConfig(
        text_config=dict(
            vocab_size=vocab,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            rms_norm_eps=1e-6,
            max_position_embeddings=512,
            rope_parameters={"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 10000.0},
        ),
        vision_config=dict(
            depth=2,
            embed_dim=32,
            hidden_size=64,
            num_heads=4,
            mlp_ratio=2,
            patch_size=14,
            spatial_merge_size=2,
            temporal_patch_size=2,
            in_channels=3,
        ),
        image_token_id=ids_of["<|image_pad|>"],
        video_token_id=ids_of["<|video_pad|>"],
        vision_start_token_id=ids_of["<|vision_start|>"],
        vision_end_token_id=ids_of["<|vision_end|>"],
        eos_token_id=[ids_of["<|im_end|>"], ids_of["<|endoftext|>"]],
        tie_word_embeddings=False,
    )
    config._attn_implementation = "eager"
    model = Qwen2VLForConditionalGeneration(config).eval()
    # Larger weights than the default init so that logits are far from uniform.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.15)
    model.save_pretrained(MODEL, safe_serialization=True)

    processor = Qwen2VLImageProcessorPil(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
    processor.save_pretrained(MODEL)

    tensors = {}
    image = test_image(84, 112, 1)
    image.save(os.path.join(OUT, "image.png"))
    proc = processor(images=[image], return_tensors="np")
    pixel_values = torch.from_numpy(proc["pixel_values"]).float()
    grid = torch.from_numpy(proc["image_grid_thw"]).long()
    n_image = int(grid[0].prod()) // 4

    enc = lambda text: tok.encode(text, add_special_tokens=False).ids
    ids = enc(f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n")
    ids += [ids_of["<|vision_start|>"]] + [ids_of["<|image_pad|>"]] * n_image + [ids_of["<|vision_end|>"]]
    prompt_ids = ids + enc(f"{PROMPT}<|im_end|>\n<|im_start|>assistant\n")
    ids = prompt_ids + enc("a red circle left of a blue square")
    input_ids = torch.tensor([ids], dtype=torch.long)
    subj_id = ids_of["<subj>"]
    assert ids.count(subj_id) == 1
    mm_types = (input_ids == ids_of["<|image_pad|>"]).int()

    with torch.no_grad():
        logits = model(
            input_ids=input_ids, pixel_values=pixel_values, image_grid_thw=grid, mm_token_type_ids=mm_types
        ).logits

        subj = torch.randn(64) * 0.5
        embeds = model.get_input_embeddings()(input_ids)
        image_embeds = model.model.get_image_features(pixel_values=pixel_values, image_grid_thw=grid)
        image_embeds = getattr(image_embeds, "pooler_output", image_embeds)
        if isinstance(image_embeds, (list, tuple)):
            image_embeds = torch.cat(list(image_embeds), 0)
        mask = (input_ids == ids_of["<|image_pad|>"]).unsqueeze(-1).expand_as(embeds)
        embeds = embeds.masked_scatter(mask, image_embeds.to(embeds.dtype))
        embeds[input_ids == subj_id] = subj
        position_ids, _ = model.model.get_rope_index(input_ids, mm_types, image_grid_thw=grid)
        logits_subj = model(inputs_embeds=embeds, position_ids=position_ids).logits

        # The same through a hook on the embedding layer.
        def hook(_module, _inputs, output):
            output = output.clone()
            output[input_ids == subj_id] = subj
            return output

        handle = model.get_input_embeddings().register_forward_hook(hook)
        logits_hook = model(
            input_ids=input_ids, pixel_values=pixel_values, image_grid_thw=grid, mm_token_type_ids=mm_types
        ).logits
        handle.remove()
        assert torch.allclose(logits_hook, logits_subj, atol=1e-5), (logits_hook - logits_subj).abs().max()
        assert (logits_subj - logits).abs().max() > 1e-2

        prompt = torch.tensor([prompt_ids], dtype=torch.long)
        generated = model.generate(
            input_ids=prompt,
            pixel_values=pixel_values,
            image_grid_thw=grid,
            mm_token_type_ids=(prompt == ids_of["<|image_pad|>"]).int(),
            max_new_tokens=12,
            do_sample=False,
            eos_token_id=[ids_of["<|im_end|>"], ids_of["<|endoftext|>"]],
            pad_token_id=ids_of["<|endoftext|>"],
        )
        greedy = generated[0, len(prompt_ids):]

    tensors["pixel_values"] = pixel_values.numpy()
    tensors["image_grid_thw"] = grid.numpy().astype(np.int64)
    tensors["input_ids"] = input_ids.numpy().astype(np.int64)
    tensors["prompt_len"] = np.array([len(prompt_ids)], dtype=np.int64)
    tensors["logits"] = logits.float().numpy()
    tensors["subj"] = subj.numpy()
    tensors["logits_subj"] = logits_subj.float().numpy()
    tensors["greedy"] = greedy.numpy().astype(np.int64)

    sizes = {"exact": (56, 84), "down": (101, 77), "up": (40, 50), "max": (300, 410), "min": (20, 33), "wide": (30, 200)}
    for seed, (name, (h, w)) in enumerate(sizes.items()):
        img = test_image(h, w, 10 + seed)
        img.save(os.path.join(OUT, f"proc_{name}.png"))
        out = processor(images=[img], return_tensors="np")
        tensors[f"proc.{name}.pixels"] = out["pixel_values"].astype(np.float32)
        tensors[f"proc.{name}.grid"] = out["image_grid_thw"].astype(np.int64)

    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, os.path.join(OUT, "reference.safetensors"))
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(
            "Made by `scripts/make_qwen2vl_fixture.py` (random weights; see its header for versions).\n"
            "`model/` is a Hugging Face Qwen2-VL folder; `reference.safetensors` holds transformers' outputs.\n"
        )
    print("ids", len(ids), "image tokens", n_image, "greedy", greedy.tolist())
    print(json.dumps({k: list(v.shape) for k, v in tensors.items()}))


if __name__ == "__main__":
    main()
