"""Check the MLP's hand-set recipe on validation at full length: the recipe and each change, over several seeds.

Notebook 05b checks the recipe's changes in short runs (10,000 images, 3 epochs), where the schedule and the
weight decay tie. This script trains the whole recipe of notebook 05 (55,000 images, its epochs) and each change
you name, with seeds 0, 1, ... (each seed sets the weights and the batch order; the validation digits are the same
for all), and reads each change against the recipe with notebook 05b's noise rule. It chooses nothing: it prints
what validation says, for docs/results.md. The test digits are never read.

    python tools/check_recipe.py --seeds 5 --change schedule=none --change weight_decay=0 --change lr=0.1

Each run takes from half a minute to a few minutes on one core, with the machine and its load: 35 runs
(five seeds of the recipe and six changes) take about half an hour to a few hours.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import tempfile
import time

import torch

from mnist_lab import course, metrics


def parse_change(text: str) -> tuple[str, object]:
    """Return ``(name, value)`` for ``"lr=0.1"``: a name of the MLP's recipe and a Python literal (or a word)."""
    name, sep, value = text.partition("=")
    if not sep or name not in course.RECIPES["mlp"]:
        names = ", ".join(course.RECIPES["mlp"])
        raise SystemExit(f"{text!r}: write NAME=VALUE with NAME one of: {names}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value  # a word, such as schedule=none


def final_val_accuracy(changes: dict, seed: int, data_root=None) -> float:
    """Train notebook 05's MLP with ``changes`` to its recipe and ``seed`` (``course.train_model``, into a folder
    thrown away after) and return its last epoch's validation accuracy."""
    with tempfile.TemporaryDirectory() as folder:
        _, history = course.train_model("mlp", {**changes, "seed": seed}, folder, data_root)
    return history[-1]["val_accuracy"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 .. N-1 (default 5)")
    parser.add_argument("--change", action="append", default=[], help="NAME=VALUE, a change to try (repeat)")
    parser.add_argument("--base", action="append", default=[], help="NAME=VALUE for every row (e.g. subset=2000)")
    parser.add_argument("--data-root", help="where MNIST is kept (default: the course's data folder)")
    parser.add_argument("--json", help="also write the accuracies per seed to this file")
    args = parser.parse_args(argv)
    if args.seeds < 2:
        raise SystemExit("--seeds must be at least 2: the noise rule needs a spread over seeds")
    torch.set_num_threads(1)
    base = dict(parse_change(text) for text in args.base)
    rows = {"the recipe": {}} | {text: dict([parse_change(text)]) for text in args.change}
    results: dict[str, list[float]] = {}
    for label, change in rows.items():
        start = time.perf_counter()
        results[label] = [final_val_accuracy({**base, **change}, seed, args.data_root) for seed in range(args.seeds)]
        mean, std = metrics.mean_std(results[label])
        line = f"{label:<22} {mean:.2%} ± {std:.2%}  ({time.perf_counter() - start:.0f} s)"
        if label != "the recipe":
            base_mean, base_std = metrics.mean_std(results["the recipe"])
            gain, noise = 100 * (base_mean - mean), 100 * (base_std + std)
            verdict = metrics.seed_verdict(gain, noise)
            line += f"  the recipe's lead {gain:+.2f} points, noise {noise:.2f}: {verdict}"
        print(line, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
