"""What each choice of the CNN recipe buys at the full budget (part of `make bench`); writes cnn_recipes.json.

Choices: the default CNN recipe (course.RECIPES["cnn"], trained as course.train_model trains it) against the same
  recipe without label smoothing, without the extra 7×7 convolution, and without augmentation, seeds 0, 1, 2, each
  run on all 55,000 training images for the recipe's 8 epochs. Scored on the validation split, clean and shifted
  3 pixels right and down, as notebook 10b scores its small ablation: the test set is never used for a choice. A
  difference counts only when it beats the seed spread (metrics.seed_verdict: larger than the two rows' standard
  deviations added together).
Speed: seconds per training epoch (batch 128, augmentation) of network variants: the default, pool after the ReLU
  (conv, batch norm, ReLU, pool, as most tutorials order them), contiguous memory instead of channels-last, and
  without the extra 7×7 convolution; interleaved epoch by epoch in one process, median.

    python benchmarks/cnn_recipes.py               # 30 minutes on 2 cores
    python benchmarks/cnn_recipes.py --parts speed
    python benchmarks/cnn_recipes.py --quick       # smoke run (2,000 images, 1 epoch): writes build/bench/
    python benchmarks/cnn_recipes.py --show        # print the tables of the saved results again
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import common
import torch
from torch import nn

from mnist_lab import augment, course, data, metrics, models, runtime, train

RECIPE = course.RECIPES["cnn"]


def without_extra_conv(model: models.CNN) -> models.CNN:
    """Remove the third block, the 3×3 convolution that works on the 7×7 maps (as notebook 10b does)."""
    model.features = nn.Sequential(*(block for i, block in enumerate(model.features) if i != 2))
    return model


def pool_after_relu(model: models.CNN) -> models.CNN:
    """Reorder each pooling block to conv → batch norm → ReLU → pool (the same parameters)."""
    for i, block in enumerate(model.features):
        if isinstance(block[1], nn.MaxPool2d):
            model.features[i] = nn.Sequential(block[0], *block[2:], block[1])
    return model


class ContiguousCNN(models.CNN):
    """The course's CNN in the usual contiguous (NCHW) memory layout instead of channels-last."""

    def __init__(self) -> None:
        super().__init__(RECIPE["channels"])
        self.to(memory_format=torch.contiguous_format)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.reshape(x.shape[0], 1, 28, 28)))


#: recipe changes and network changes of each row of the choices
CHOICES = {
    "the default recipe": ({}, None),
    "without label smoothing": ({"label_smoothing": 0.0}, None),
    "without the extra 7×7 convolution": ({}, without_extra_conv),
    "without augmentation": ({"augment": False}, None),
}
NETWORKS = {
    "default": lambda: models.CNN(RECIPE["channels"]),
    "pool after ReLU": lambda: pool_after_relu(models.CNN(RECIPE["channels"])),
    "contiguous memory": ContiguousCNN,
    "without the extra 7×7 convolution": lambda: without_extra_conv(models.CNN(RECIPE["channels"])),
}


def choices(names: list[str], seeds: list[int], quick: dict) -> list[dict]:
    """Train the default recipe and each named row for each seed; return their validation accuracies (clean and
    shifted) and seconds."""
    val = course.loaders({**RECIPE, **quick})[1]
    shifted = data.TensorLoader(augment.shift(val.images, 3, 3), val.labels, data.EVAL_BATCH_SIZE)
    rows = []
    for name in ["the default recipe", *(n for n in names if n != "the default recipe")]:
        changes, network = CHOICES[name]
        row = {"name": name, "changes": changes, "runs": []}
        for seed in seeds:
            model, history, _, _ = common.train_as_course("cnn", {**quick, **changes, "seed": seed}, network)
            run = {"seed": seed, "val_accuracy": history[-1]["val_accuracy"]}
            run["val_shifted_accuracy"] = train.evaluate(model, shifted)["accuracy"]
            run["seconds"] = sum(r["seconds"] for r in history)
            row["runs"].append(run)
            said = f"val {run['val_accuracy']:.2%}, shifted {run['val_shifted_accuracy']:.2%}, {run['seconds']:.0f} s"
            print(f"  {name}, seed {seed}: {said}", flush=True)
        rows.append(row)
    return rows


def speed(epochs: int, subset: int | None) -> dict[str, list[float]]:
    """Return the seconds of ``epochs`` training epochs of each network, interleaved, after one untimed warm-up."""
    runtime.seed_everything(0)
    train_loader = data.make_loaders(batch_size=RECIPE["batch_size"], subset=subset)[0]
    moves = augment.Augment(RECIPE["max_shift"], RECIPE["max_rotation"])
    loss_fn = nn.CrossEntropyLoss(label_smoothing=RECIPE["label_smoothing"])
    nets = {name: build() for name, build in NETWORKS.items()}
    opts = {name: torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9) for name, net in nets.items()}
    times: dict[str, list[float]] = {name: [] for name in NETWORKS}
    for epoch in range(epochs + 1):
        for name, net in nets.items():
            start = time.perf_counter()
            train.train_one_epoch(net, train_loader, opts[name], loss_fn=loss_fn, augment=moves)
            if epoch:
                times[name].append(time.perf_counter() - start)
    return times


def render(result: dict) -> str:
    """Return the results as Markdown tables."""
    lines = [f"Machine: {common.describe(result['machine'])}. Command: `{result['command']}`."]
    if result.get("choices"):
        base = result["choices"][0]
        lines += [
            "",
            f"CNN recipe, each choice taken away (quick changes: {result['quick'] or 'none'}); validation accuracy "
            "mean ± std over seeds; the verdict compares each row with the default recipe by the noise rule.",
            "",
            "| recipe | seeds | validation, clean | validation, shifted 3 px | clean: default − row | shifted: default"
            " − row | s/run |",
            "|---|---|---:|---:|---|---|---:|",
        ]
        for row in result["choices"]:
            cells = []
            for column in ("val_accuracy", "val_shifted_accuracy"):
                mine, theirs = [[r[column] for r in x["runs"]] for x in (row, base)]
                (m, s), (bm, bs) = common.mean_std(mine), common.mean_std(theirs)
                cells.append(f"{100 * (bm - m):+.2f} points, {metrics.seed_verdict(bm - m, bs + s)}")
            accs = [common.pct([r[c] for r in row["runs"]]) for c in ("val_accuracy", "val_shifted_accuracy")]
            gains = " | ".join(cells) if row is not base else "|"
            seconds = statistics.mean(r["seconds"] for r in row["runs"])
            seeds = ",".join(str(r["seed"]) for r in row["runs"])
            lines.append(f"| {row['name']} | {seeds} | {accs[0]} | {accs[1]} | {gains} | {seconds:.0f} s |")
    if result.get("speed"):
        base = statistics.median(result["speed"]["default"])
        lines += ["", "| network (batch 128, augmentation) | s/epoch, median | vs default |", "|---|---:|---:|"]
        for name, times in sorted(result["speed"].items(), key=lambda item: list(NETWORKS).index(item[0])):
            lines.append(f"| {name} | {statistics.median(times):.1f} s | {statistics.median(times) / base:.2f}× |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="choices,speed", help="choices, speed or both (default)")
    parser.add_argument("--choices", default=",".join(CHOICES), help="rows of the choices (comma-separated)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per network of the speed part")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 images, 1 epoch, seeds 0 and 1")
    parser.add_argument("--show", action="store_true", help="print the tables of the saved results and stop")
    parser.add_argument("--out", help="results file (default benchmarks/cnn_recipes.json; build/bench/ with --quick)")
    args = parser.parse_args()
    out = common.out_path(args, "cnn_recipes.json")
    if args.show:
        print(render(runtime.read_json(out)))
        return 0
    quick = common.QUICK_CHANGES if args.quick else {}
    seeds = [0, 1] if args.quick else [int(s) for s in args.seeds.split(",")]
    result = {"machine": common.machine(), "command": " ".join(["python", *sys.argv]), "quick": quick}
    print(f"Machine: {common.describe(result['machine'])}", flush=True)
    if "choices" in args.parts:
        common.check_same_as_course("cnn")
        result["choices"] = choices(args.choices.split(","), seeds, quick)
    if "speed" in args.parts:
        result["speed"] = speed(1 if args.quick else args.epochs, quick.get("subset"))
    runtime.write_json(out, result)
    print("\n" + render(result) + f"\n\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
