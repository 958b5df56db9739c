"""What makes notebook 06's CNN fast and accurate: each choice of its recipe measured against the recipe
without it (part of `make bench`).

    python benchmarks/cnn_recipes.py            # speed rows, then accuracy rows (3 seeds each, ~20 minutes)
    python benchmarks/cnn_recipes.py --speed    # speed rows only (about a minute)

Speed rows: seconds per training epoch (55,000 images, batch 128, with augmentation) of variants of the
network, all timed interleaved in one process, epoch by epoch, so a slow spell hits them alike.
Accuracy rows: the default recipe of notebook 06 with one thing taken away, seeds 0, 1, 2 one after
another in one process, through the same `fit` as the notebook; test accuracy mean ± std and training
seconds. The default recipe itself is the CNN row of benchmarks/records.py. Writes
benchmarks/cnn_recipes.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402


def build(variant: str):
    """Return a fresh network for ``variant`` (the library's CNN unless the variant changes the network)."""
    import torch
    from torch import nn

    from mnist_lab import models

    if variant in ("default", "contiguous memory"):
        model = models.CNN()
        if variant == "contiguous memory":
            model.to(memory_format=torch.contiguous_format)
            model.forward = lambda x: model.head(model.features(x.reshape(x.shape[0], 1, 28, 28).contiguous()))
        return model

    def block(c_in, c_out, pool, pool_last=False):
        if pool_last:  # the order most tutorials use: conv → batchnorm → ReLU → pool
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
                *([nn.MaxPool2d(2)] if pool else []),
            )
        return models.conv_block(c_in, c_out, pool)

    pool_last = variant == "pool after ReLU"
    blocks = [block(1, 16, True, pool_last), block(16, 32, True, pool_last)]
    if variant != "no extra 7×7 conv":
        blocks.append(block(32, 32, False, pool_last))
    blocks.append(block(32, 64, True, pool_last))
    model = models.CNN()  # keeps .config and forward; only the layers change
    model.features = nn.Sequential(*blocks).to(memory_format=torch.channels_last)
    return model


def speed(variants: list[str], epochs: int) -> dict:
    import torch

    from mnist_lab import augment, data, runtime, train

    runtime.seed_everything(0)
    tl, _, _ = data.make_loaders(batch_size=128, download=False)
    aug = augment.Augment(2, 10.0)
    nets = {v: build(v) for v in variants}
    opts = {v: torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) for v, m in nets.items()}
    times = {v: [] for v in variants}
    for epoch in range(1, epochs + 1):
        for v in variants:
            tl.set_epoch(epoch)
            t0 = time.perf_counter()
            train.train_one_epoch(nets[v], tl, opts[v], device="cpu", augment=aug)
            times[v].append(time.perf_counter() - t0)
    return {v: {"times": t, "median": statistics.median(t)} for v, t in times.items()}


def accuracy(variant: str, seeds: list[int]) -> dict:
    import torch

    make, recipe, batch, aug = bench._cnn_recipe()
    recipe = dict(recipe)
    if variant == "no label smoothing":
        recipe["loss_fn"] = torch.nn.CrossEntropyLoss()
    if variant == "no augmentation":
        aug = None
    runs = []
    for seed in seeds:
        curve = bench._test_curve(lambda: build(variant), recipe, batch, augment=aug, seed=seed)
        runs.append({"seed": seed, "test_accuracy": curve[-1][1], "train_seconds": sum(s for s, _ in curve)})
        print(
            f"  {variant} seed {seed}: {curve[-1][1]:.2%} in {runs[-1]['train_seconds']:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    return {"variant": variant, "runs": runs}


SPEED_VARIANTS = ["default", "pool after ReLU", "contiguous memory", "no extra 7×7 conv"]
ACCURACY_VARIANTS = ["no label smoothing", "no extra 7×7 conv", "no augmentation"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--speed", action="store_true", help="only the speed rows")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per speed row (median reported)")
    parser.add_argument("--variants", default=",".join(ACCURACY_VARIANTS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default=str(HERE / "cnn_recipes.json"))
    args = parser.parse_args()
    if args.one:
        spec = json.loads(args.one)
        out = (
            speed(spec["variants"], spec["epochs"])
            if spec["row"] == "speed"
            else accuracy(spec["variant"], spec["seeds"])
        )
        print(json.dumps(out))
        return 0
    info = bench.machine()
    print(
        f"Machine: {info['cpu']}, {info['cores']} cores, torch {info['torch']}, {info['threads']} threads", flush=True
    )
    result = {
        "machine": info,
        "speed": bench.spawn({"row": "speed", "variants": SPEED_VARIANTS, "epochs": args.epochs}, script=__file__),
    }
    lines = ["| network variant | seconds per epoch (median) | vs default |", "|---|---:|---:|"]
    base = result["speed"]["default"]["median"]
    for v in SPEED_VARIANTS:
        s = result["speed"][v]["median"]
        lines.append(f"| {v} | {s:.1f} s | {s / base:.2f}× |")
    if not args.speed:
        seeds = [int(s) for s in args.seeds.split(",")]
        result["accuracy"] = [
            bench.spawn({"row": "accuracy", "variant": v, "seeds": seeds}, script=__file__)
            for v in args.variants.split(",")
            if v
        ]
        lines += [
            "",
            "| recipe | test accuracy, each seed | mean ± std | training seconds, mean |",
            "|---|---|---:|---:|",
        ]
        for row in result["accuracy"]:
            accs = [r["test_accuracy"] for r in row["runs"]]
            std = statistics.stdev(accs) if len(accs) > 1 else 0.0
            lines.append(
                f"| default without: {row['variant'].removeprefix('no ')} | "
                + ", ".join(f"{a:.2%}" for a in accs)
                + f" | {statistics.mean(accs):.2%} ± {std:.2%} | "
                f"{statistics.mean(r['train_seconds'] for r in row['runs']):.0f} s |"
            )
    print("\n" + "\n".join(lines))
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
