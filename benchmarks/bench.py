"""Speed and accuracy spread of the course's default recipes (part of `make bench`); writes benchmarks/results.json.

Speed: median seconds per training epoch of the default MLP (55,000 images) at batches of 32, 128 and 512 through
  (a) torchvision's DataLoader with ToTensor(), (b) the in-memory data.TensorLoader through train.train_one_epoch,
  (c) a bare loop over pre-sliced batches (no loader, no metrics), (d) train.fit (one epoch, with its validation
  pass), and (b) again on one thread. The columns of a batch size run interleaved, epoch by epoch, in one process:
  a shared machine's speed drifts over minutes, and this way the drift hits every column alike.
Spread: the default MLP and CNN recipes (course.RECIPES) trained by course.train_model itself with seeds 0, 1, 2,
  on this machine's float path ("native") and on another one ("other": common.OTHER_FLOAT_PATH), each path and model
  in its own process: validation accuracy (what the course chooses on), test accuracy, seconds per epoch of fit.

    python benchmarks/bench.py                        # both parts: 50 minutes on 2 cores
    python benchmarks/bench.py --parts spread --seeds 0,1
    python benchmarks/bench.py --quick                # smoke run, a few minutes: writes build/bench/results.json
    python benchmarks/bench.py --show                 # print the tables of the saved results again
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time

import common
import torch
from torch.utils.data import DataLoader, Subset
from torchvision import datasets
from torchvision.transforms import ToTensor

from mnist_lab import course, data, models, runtime, train

COLUMNS = ["DataLoader + ToTensor", "in-memory", "bare loop", "fit", "in-memory, 1 thread"]


def mlp_loaders(batch: int, subset: int | None) -> dict:
    """Return, per column, what it reads: the same training images (the course's split) as each column needs them."""
    s = data.load_splits(subset=subset)
    mnist = datasets.MNIST(data.get_mnist(), train=True, transform=ToTensor())
    idx = data.sample(data.split_indices(len(mnist))[0], subset)  # the images load_splits keeps, in its order
    memory = lambda: data.TensorLoader(s.train_images, s.train_labels, batch, shuffle=True)  # noqa: E731
    return {
        "DataLoader + ToTensor": DataLoader(Subset(mnist, idx.tolist()), batch, shuffle=True),
        "in-memory": memory(),
        "bare loop": list(zip(s.train_images.split(batch), s.train_labels.split(batch))),
        "fit": (memory(), data.TensorLoader(s.val_images, s.val_labels, data.EVAL_BATCH_SIZE)),
        "in-memory, 1 thread": memory(),
    }


def one_epoch(column: str, model, opt, loader) -> None:
    """Train ``model`` for one epoch the way ``column`` does."""
    if column == "bare loop":  # no loader, no shuffle, no loss read back, no accuracy
        for x, y in loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    elif column == "fit":
        train.fit(model, *loader, epochs=1, lr=0.01, momentum=0.9, device="cpu", verbose=False)
    else:
        train.train_one_epoch(model, loader, opt)


def speed(batch: int, repeats: int, subset: int | None) -> dict[str, list[float]]:
    """Return, per column, the seconds of ``repeats`` epochs, after one untimed warm-up epoch each."""
    runtime.seed_everything(0)
    threads, loaders = torch.get_num_threads(), mlp_loaders(batch, subset)
    nets = {column: models.MLP() for column in COLUMNS}
    opts = {column: torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9) for column, net in nets.items()}
    times: dict[str, list[float]] = {column: [] for column in COLUMNS}
    for repeat in range(repeats + 1):
        for column in COLUMNS:
            torch.set_num_threads(1 if column.endswith("1 thread") else threads)
            start = time.perf_counter()
            one_epoch(column, nets[column], opts[column], loaders[column])
            if repeat:
                times[column].append(time.perf_counter() - start)
    torch.set_num_threads(threads)
    return times


def spread_worker(kind: str, seeds: list[int], changes: dict) -> dict:
    """Train ``kind``'s default recipe with ``course.train_model`` for each seed (in this process, whose float path
    the parent chose); return the validation and test accuracy and the seconds of each run."""
    runs = []
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            model, history = course.train_model(kind, {**changes, "seed": seed}, tmp)
        test_loader = course.loaders({**course.RECIPES[kind], **changes, "seed": seed})[2]
        seconds = [row["seconds"] for row in history]
        runs.append(
            {
                "seed": seed,
                "val_accuracy": history[-1]["val_accuracy"],
                "test_accuracy": train.evaluate(model, test_loader)["accuracy"],
                "seconds_per_epoch": statistics.median(seconds),
                "seconds": sum(seconds),
            }
        )
        said = f"val {runs[-1]['val_accuracy']:.2%}, test {runs[-1]['test_accuracy']:.2%} in {sum(seconds):.0f} s"
        print(f"  {kind} seed {seed}: {said}", file=sys.stderr, flush=True)
    return {"threads": torch.get_num_threads(), "cpu_capability": torch.backends.cpu.get_cpu_capability(), "runs": runs}


def render(result: dict) -> str:
    """Return the results as Markdown tables."""
    lines = [f"Machine: {common.describe(result['machine'])}."]
    if "speed" in result:
        part = result["speed"]
        lines += [
            "",
            f"`{part['command']}`: seconds per training epoch of the default MLP ({part['train_images']:,} images), "
            f"median of {part['repeats']} timed epoch(s) after a warm-up; the columns of a row ran interleaved, "
            "epoch by epoch, in one process.",
            "",
            "| batch | " + " | ".join(COLUMNS) + " | DataLoader / in-memory | fit / bare loop |",
            "|---:|" + "---:|" * (len(COLUMNS) + 2),
        ]
        for row in part["rows"]:
            m = {column: statistics.median(row["seconds"][column]) for column in COLUMNS}
            cells = " | ".join(f"{m[column]:.2f} s" for column in COLUMNS)
            ratios = f"{m['DataLoader + ToTensor'] / m['in-memory']:.1f}× | {m['fit'] / m['bare loop']:.2f}×"
            lines.append(f"| {row['batch']} | {cells} | {ratios} |")
    if "spread" in result:
        part = result["spread"]
        lines += [
            "",
            f"`{part['command']}`: the default recipes trained by course.train_model (changes: "
            f"{part['changes'] or 'none'}); seconds per epoch of fit (training and validation pass); other float "
            f"path: {' '.join(f'{k}={v}' for k, v in common.OTHER_FLOAT_PATH.items())}. {part.get('note', '')}",
            "",
            "| model | float path | seeds | validation accuracy, each | validation, mean ± std | test accuracy, "
            "each | test, mean ± std | s/epoch |",
            "|---|---|---|---|---:|---|---:|---:|",
        ]
        for g in part["groups"]:
            runs = g["runs"]
            val, test = [r["val_accuracy"] for r in runs], [r["test_accuracy"] for r in runs]
            lines.append(
                f"| {g['kind'].upper()} | {g['float_path']} ({g['cpu_capability']}, {g['threads']} thr.) | "
                f"{','.join(str(r['seed']) for r in runs)} | {', '.join(f'{a:.2%}' for a in val)} | "
                f"{common.pct(val)} | {', '.join(f'{a:.2%}' for a in test)} | {common.pct(test)} | "
                f"{statistics.median(r['seconds_per_epoch'] for r in runs):.1f} s |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="speed,spread", help="speed, spread or both; a part not run is kept")
    parser.add_argument("--batches", default="32,128,512", help="batch sizes of the speed rows")
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per speed column (median reported)")
    parser.add_argument("--models", default="mlp,cnn", help="models of the spread")
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the spread")
    parser.add_argument("--float-paths", default="native,other", help="native, other (common.OTHER_FLOAT_PATH)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 images, 1 epoch, batch 32")
    parser.add_argument("--show", action="store_true", help="print the tables of the saved results and stop")
    parser.add_argument("--out", help="results file (default benchmarks/results.json; build/bench/ with --quick)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(spread_worker(**json.loads(args.worker))))
        return 0
    out = common.out_path(args, "results.json")
    if args.show:
        print(render(runtime.read_json(out)))
        return 0
    if args.quick:
        args.batches, args.repeats, args.seeds = "32", 1, "0,1"
    subset, changes = (common.QUICK_CHANGES["subset"], common.QUICK_CHANGES) if args.quick else (None, {})
    parts, seeds, command = (
        args.parts.split(","),
        [int(s) for s in args.seeds.split(",")],
        " ".join(["python", *sys.argv]),
    )
    result = {**(runtime.read_json(out) if out.exists() else {}), "machine": common.machine()}
    print(f"Machine: {common.describe(result['machine'])}", flush=True)
    if "speed" in parts:
        images = len(data.load_splits(subset=subset).train_labels)
        result["speed"] = {"command": command, "repeats": args.repeats, "train_images": images, "rows": []}
        for batch in [int(b) for b in args.batches.split(",")]:
            result["speed"]["rows"].append({"batch": batch, "seconds": speed(batch, args.repeats, subset)})
            print(f"  batch {batch}: " + json.dumps(result["speed"]["rows"][-1]["seconds"]), flush=True)
    if "spread" in parts:
        result["spread"] = {"command": command, "changes": changes, "groups": []}
        for path in args.float_paths.split(","):
            for kind in args.models.split(","):
                job = {"kind": kind, "seeds": seeds, "changes": changes}
                env = common.OTHER_FLOAT_PATH if path == "other" else None
                result["spread"]["groups"].append(
                    {"kind": kind, "float_path": path, **common.spawn(__file__, job, env)}
                )
    runtime.write_json(out, result)
    print("\n" + render(result) + f"\n\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
