"""Check a model's hand-set recipe on validation at full length: the recipe and each change, over several seeds.

Notebook 05b checks the recipe's changes in short runs (10,000 images, 3 epochs), where the schedule and the
weight decay tie. This script trains the whole recipe of notebook 05 (55,000 images, its epochs) and each change
you name, with seeds 0, 1, ... (each seed sets the weights and the batch order; the validation digits are the same
for all), and reads each change against the recipe with notebook 05b's noise rule. It chooses nothing: it prints
what validation says, for docs/results.md. The test digits are never read.

    python tools/check_recipe.py --seeds 5 --change schedule=none --change weight_decay=0 --change lr=0.1

With ``--grid FILE`` it trains every value of ``GRID`` instead (the rule and the grid declared in docs/results.md
before the runs), each with the recipe's other values, and writes the accuracies per seed to FILE: the course
keeps them in ``mnist_lab/recipe_grid.json`` (``course.VALIDATION_GRID``), where notebook 05b reads them.

    python tools/check_recipe.py --seeds 5 --grid mnist_lab/recipe_grid.json

``--model cnn`` does the same for notebook 10's CNN, over ``CNN_GRID`` (declared in docs/results.md before its
runs), and writes its runs under the key "cnn" of FILE, keeping what FILE already holds (an MLP run keeps the
CNN's key the same way): the course keeps them in
the same ``course.VALIDATION_GRID``, where notebook 10c reads them. ``--only NAME`` trains one row of the grid
(repeat it), so that two processes can share the rows:

    python tools/check_recipe.py --model cnn --seeds 3 --grid mnist_lab/recipe_grid.json

Each run takes from half a minute to a few minutes on one core, with the machine and its load: 35 runs
(five seeds of the recipe and six changes) take about half an hour to a few hours.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import tempfile
import time

import torch

from mnist_lab import course, metrics, runtime

#: The values that validation chooses from, one training value at a time (docs/results.md, declared before the runs).
GRID: dict[str, list] = {
    "lr": [0.01, 0.02, 0.05, 0.1, 0.2],
    "momentum": [0.5, 0.9, 0.95, 0.99],
    "weight_decay": [0.0, 0.0001, 0.0005, 0.001],
    "schedule": ["onecycle", "none"],
    "epochs": [5, 10, 20],
}
#: The CNN's values that validation chooses from (docs/results.md, declared before the runs): its epochs and the
#: one-cycle schedule's peak rate first, then its six other hand-set values.
CNN_GRID: dict[str, list] = {
    "epochs": [4, 8, 16],
    "lr": [0.05, 0.1, 0.2, 0.4],
    "channels": [[8, 16, 32], [16, 32, 64], [32, 64, 128]],
    "batch_size": [64, 128, 256],
    "momentum": [0.5, 0.9, 0.95],
    "weight_decay": [0.0, 0.0005, 0.001],
    "label_smoothing": [0.0, 0.1, 0.2],
    "augment": [False, True],
}
#: The CNN's last three hand-set values, declared later (docs/results.md, before their runs). ``--only`` may name
#: them; their runs are kept in docs/results.md, not yet in the library's file, so a full ``--grid`` run leaves
#: them out.
CNN_GRID_LATER: dict[str, list] = {
    "schedule": ["none", "onecycle", "cosine", "step"],
    "max_shift": [1, 2, 4],
    "max_rotation": [5.0, 10.0, 20.0],
}
GRIDS = {"mlp": GRID, "cnn": CNN_GRID}


def parse_change(text: str, model: str = "mlp") -> tuple[str, object]:
    """Return ``(name, value)`` for ``"lr=0.1"``: a name of ``model``'s recipe and a Python literal (or a word)."""
    name, sep, value = text.partition("=")
    if not sep or name not in course.RECIPES[model]:
        names = ", ".join(course.RECIPES[model])
        raise SystemExit(f"{text!r}: write NAME=VALUE with NAME one of: {names}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value  # a word, such as schedule=none


def final_val_accuracy(changes: dict, seed: int, data_root=None, model: str = "mlp") -> float:
    """Train notebook 05's MLP (or 10's CNN) with ``changes`` to its recipe and ``seed`` (``course.train_model``,
    into a folder thrown away after) and return its last epoch's validation accuracy."""
    with tempfile.TemporaryDirectory() as folder:
        _, history = course.train_model(model, {**changes, "seed": seed}, folder, data_root)
    return history[-1]["val_accuracy"]


def seed_accuracies(changes: dict, seeds: int, data_root=None, model: str = "mlp") -> list[float]:
    """Return the last epoch's validation accuracy of the recipe with ``changes``, for seeds 0 .. ``seeds`` - 1."""
    return [final_val_accuracy(changes, seed, data_root, model) for seed in range(seeds)]


def run_grid(grid: dict[str, list], seeds: int, base: dict, data_root=None, model: str = "mlp") -> dict[str, list]:
    """Train each value of ``grid`` (the recipe's other values kept) with seeds 0 .. ``seeds`` - 1 and return, for
    each name, ``[{"value": v, "accuracies": [...]}, ...]``. The recipe itself is trained once and shared."""
    recipe = {**course.RECIPES[model], **base}
    known: dict[str, list[float]] = {}

    def accuracies(name: str, value) -> list[float]:
        key = "recipe" if recipe[name] == value else f"{name}={value!r}"
        if key not in known:
            known[key] = seed_accuracies({**base, name: value}, seeds, data_root, model)
            print(f"{key:<22} {metrics.mean_std(known[key])[0]:.2%}", flush=True)
        return known[key]

    return {name: [{"value": v, "accuracies": accuracies(name, v)} for v in values] for name, values in grid.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(GRIDS), default="mlp", help="whose recipe (default mlp)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 .. N-1 (default 5)")
    parser.add_argument("--change", action="append", default=[], help="NAME=VALUE, a change to try (repeat)")
    parser.add_argument("--base", action="append", default=[], help="NAME=VALUE for every row (e.g. subset=2000)")
    parser.add_argument("--data-root", help="where MNIST is kept (default: the course's data folder)")
    parser.add_argument("--json", help="also write the accuracies per seed to this file")
    parser.add_argument("--grid", help="train the model's grid instead and write its runs to this file")
    parser.add_argument("--only", action="append", default=[], help="with --grid: train this row only (repeat)")
    args = parser.parse_args(argv)
    if args.seeds < 2:
        raise SystemExit("--seeds must be at least 2: the noise rule needs a spread over seeds")
    torch.set_num_threads(1)
    base = dict(parse_change(text, args.model) for text in args.base)
    grid = GRIDS[args.model]
    if args.model == "cnn" and args.only:  # a row declared later may be named on its own
        grid = {**grid, **CNN_GRID_LATER}
    if args.only and (not args.grid or set(args.only) - set(grid)):
        raise SystemExit(f"--only names a row of --grid's grid: one of {', '.join(grid)}")
    if args.grid:
        if args.change:
            raise SystemExit("--grid trains the grid's values: leave out --change")
        rows = {name: values for name, values in grid.items() if not args.only or name in args.only}
        runs = {"seeds": args.seeds, "base": base, "grid": run_grid(rows, args.seeds, base, args.data_root, args.model)}
        kept = runtime.read_json(args.grid) if os.path.exists(args.grid) else {}
        if args.model == "mlp":  # at the top, as before; the other models' runs stay under their keys
            runs = {**runs, **{name: kept[name] for name in GRIDS if name in kept}}
        else:  # under its own key, beside what the file holds
            runs = {**kept, args.model: runs}
        with open(args.grid, "w") as f:
            json.dump(runs, f, indent=1)
            f.write("\n")
        return 0
    rows = {"the recipe": {}} | {text: dict([parse_change(text, args.model)]) for text in args.change}
    results: dict[str, list[float]] = {}
    for label, change in rows.items():
        start = time.perf_counter()
        results[label] = seed_accuracies({**base, **change}, args.seeds, args.data_root, args.model)
        mean, std = metrics.mean_std(results[label])
        line = f"{label:<22} {mean:.2%} ± {std:.2%}  ({time.perf_counter() - start:.0f} s)"
        if label == "the recipe":
            base_mean, base_std = mean, std
        else:
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
