"""Records (part of `make bench`): test accuracy against training seconds of the default MLP and CNN recipes, seeds
0, 1, 2, and the seconds each run needs to reach 97% and 98% (MLP), 99% and 99.5% (CNN) test accuracy; writes
benchmarks/records.json and the plot benchmarks/records.png.

Each run trains as course.train_model trains it (checked at the start), and its test accuracy is measured after
every epoch. The seconds are fit's (training and its validation pass); the test evaluations are not timed and
change nothing in training. A record reads the test set after every epoch: it describes a recipe, it chooses nothing.

    python benchmarks/records.py                  # 6 minutes on 2 cores
    python benchmarks/records.py --models cnn --seeds 0
    python benchmarks/records.py --quick          # smoke run (2,000 images, 1 epoch): writes build/bench/
    python benchmarks/records.py --show           # print the table of the saved records again, redraw the plot
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import common

from mnist_lab import course, runtime, train

TARGETS = {"mlp": [0.97, 0.98], "cnn": [0.99, 0.995]}
FLOOR = {"mlp": 95.0, "cnn": 98.0}  #: the lowest accuracy (%) each panel of the plot shows
NAMES = {"mlp": "MLP 784-128-64-10 (notebook 05)", "cnn": "CNN 16-32-32-64 (notebook 10)"}


def record(kind: str, seed: int, quick: dict) -> dict:
    """Train ``kind``'s default recipe with ``seed``; return its seconds and accuracies after each epoch."""
    test_loader = course.loaders({**course.RECIPES[kind], **quick})[2]
    score = lambda model, row: row.update(test_accuracy=train.evaluate(model, test_loader)["accuracy"])  # noqa: E731
    history = common.train_as_course(kind, {**quick, "seed": seed}, on_epoch_end=score)[1]
    run = {"seed": seed, "seconds": [], "val_accuracy": [r["val_accuracy"] for r in history]}
    run["test_accuracy"] = [r["test_accuracy"] for r in history]
    for row in history:
        run["seconds"].append(row["seconds"] + (run["seconds"][-1] if run["seconds"] else 0.0))
    pairs = list(zip(run["seconds"], run["test_accuracy"]))
    run["seconds_to"] = {str(t): next((s for s, a in pairs if a >= t), None) for t in TARGETS[kind]}
    print(f"  {kind} seed {seed}: test {pairs[-1][1]:.2%} after {pairs[-1][0]:.0f} s", flush=True)
    return run


def reached(values: list[float | None]) -> str:
    """Return "12 s (max 14)" over the runs, or "2 of 3 runs" when some never reached the target."""
    hit = [v for v in values if v is not None]
    if len(hit) < len(values):
        return f"{len(hit)} of {len(values)} runs"
    return f"{statistics.mean(hit):.0f} s" + (f" (max {max(hit):.0f})" if len(hit) > 1 else "")


def render(result: dict) -> str:
    """Return the records as a Markdown table."""
    lines = [
        f"Machine: {common.describe(result['machine'])}. Command: `{result['command']}`.",
        "",
        "| model, default recipe | seeds | final test accuracy | seconds of fit | time to target test accuracy |",
        "|---|---|---:|---:|---|",
    ]
    for kind in sorted(result["records"], key=list(NAMES).index):
        runs = result["records"][kind]
        finals = [r["test_accuracy"][-1] for r in runs]
        to = ", ".join(f"{float(t):.1%}: {reached([r['seconds_to'][t] for r in runs])}" for t in runs[0]["seconds_to"])
        seconds = statistics.mean(r["seconds"][-1] for r in runs)
        name, seeds = f"{NAMES[kind]}, {len(runs[0]['seconds'])} epochs", ",".join(str(r["seed"]) for r in runs)
        lines.append(f"| {name} | {seeds} | {common.pct(finals)} | {seconds:.0f} s | {to} |")
    return "\n".join(lines)


def plot(result: dict, path: Path) -> None:
    """Save test accuracy (%) against seconds of training, a panel per model, a line per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = {kind: result["records"][kind] for kind in sorted(result["records"], key=list(NAMES).index)}
    fig, axes = plt.subplots(1, len(records), figsize=(5 * len(records), 4), squeeze=False)
    for ax, (kind, runs) in zip(axes[0], records.items()):
        for run, color in zip(runs, ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")):
            accuracy = [100 * a for a in run["test_accuracy"]]
            ax.plot(run["seconds"], accuracy, marker=".", color=color, label=f"seed {run['seed']}")
        for target in TARGETS[kind]:
            ax.axhline(100 * target, color="black", lw=0.6, ls=":")
            ax.annotate(f"{target:.1%}", (0, 100 * target), xycoords=("axes fraction", "data"), fontsize=8, va="bottom")
        lowest = min(100 * a for run in runs for a in run["test_accuracy"])
        ax.set_ylim(FLOOR[kind], 100)
        if lowest < FLOOR[kind]:
            note = f"clipped at {FLOOR[kind]:.0f}%: lower points (down to {lowest:.1f}%) are off the chart"
            ax.text(0.02, 0.97, note, transform=ax.transAxes, va="top", fontsize=8, color="dimgray")
        ax.set(title=f"{NAMES[kind]}, {len(runs[0]['seconds'])} epochs", ylabel="test accuracy (%)")
        ax.set_xlabel("seconds of training (fit, with validation)")
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"Test accuracy after each epoch; {result['machine']['cpu']}, {result['machine']['cores']} cores")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="mlp,cnn")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 images, 1 epoch, seed 0")
    parser.add_argument("--show", action="store_true", help="print the saved records' table, redraw their plot")
    parser.add_argument("--out", help="records file (default benchmarks/records.json; build/bench/ with --quick)")
    args = parser.parse_args()
    out = common.out_path(args, "records.json")
    if args.show:
        print(render(runtime.read_json(out)))
        plot(runtime.read_json(out), out.with_suffix(".png"))
        return 0
    quick = common.QUICK_CHANGES if args.quick else {}
    seeds = [0] if args.quick else [int(s) for s in args.seeds.split(",")]
    result = {"machine": common.machine(), "command": " ".join(["python", *sys.argv]), "quick": quick, "records": {}}
    print(f"Machine: {common.describe(result['machine'])}", flush=True)
    for kind in args.models.split(","):
        common.check_same_as_course(kind)
        result["records"][kind] = [record(kind, seed, quick) for seed in seeds]
    runtime.write_json(out, result)
    plot(result, out.with_suffix(".png"))
    print("\n" + render(result) + f"\n\nwrote {out} and {out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
