"""Speed benchmark of the course (`make bench`): prints a table and writes benchmarks/results.json.

Every row runs in its own subprocess (so its peak resident memory is its own), is
repeated ``--repeats`` times, and reports the median. All rows are measured in the
same run on the same machine, so the ratios between them are meaningful.

Rows:
  * seconds per training epoch of the default MLP at batch 32, 128 and 512 with
    (a) torchvision MNIST + ToTensor() + DataLoader (the seed pipeline),
    (b) mnist_lab's in-memory TensorLoader through train_one_epoch,
    (c) a bare loop over pre-sliced tensors (no loader, no logging, no metrics),
    and (d) the default `fit` (progress bar, periodic loss, validation);
  * time to reach 97% and 98% test accuracy with the notebooks' default recipe;
  * the CNN of notebook 06: seconds per epoch and time to its accuracy targets;
  * the spread of both default recipes' test accuracy over seeds (``--seeds``, default 0,1,2) and
    float paths (``--float-paths``): "native" is this machine as it is, "other" changes the
    float rounding as another CPU would (OTHER_FLOAT_PATH below), so the numbers a user elsewhere
    gets are measured here, and the targets are checked against their mean and minimum.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Environment that changes PyTorch's float rounding on this machine as another CPU would: no
#: vectorised kernels, MKL's reproducible code path, one thread (each alone changes the weights' bits).
OTHER_FLOAT_PATH = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "OMP_NUM_THREADS": "1"}
#: The targets the default recipes are held to (mean over seeds; min for each seed).
TARGETS = {"mlp": {"mean": 0.98, "each": 0.978}, "cnn": {"mean": 0.995, "each": 0.993}}


# --------------------------------------------------------------------------- one measurement (subprocess)


def _epoch_seconds(kinds: list[str], batch: int, repeats: int) -> dict[str, list[float]]:
    """Return, per loader kind, the seconds of ``repeats`` training epochs of the default MLP.

    The kinds are interleaved epoch by epoch (round-robin) in this one process, so that a slow
    spell of a shared machine hits every kind alike and their ratios stay meaningful.
    """
    import torch
    from torch import nn

    from mnist_lab import data, models, runtime, train

    runtime.seed_everything(0)
    jobs = {}
    for kind in kinds:
        model = models.MLP()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        if kind in ("bare", "bare_1thread"):
            s = data.load_tensors(download=False)
            loader = (list(s.train_images.split(batch)), list(s.train_labels.split(batch)))
        else:
            loader = data.make_loaders(batch_size=batch, fast=not kind.startswith("dataloader"), download=False)
        jobs[kind] = (model, opt, loader)
    loss_fn = nn.CrossEntropyLoss()

    threads = torch.get_num_threads()

    def one_epoch(kind: str, epoch: int) -> None:
        torch.set_num_threads(1 if kind.endswith("_1thread") else threads)
        model, opt, loader = jobs[kind]
        if kind.startswith("bare"):  # pre-sliced tensors: no loader, no shuffle, no logging, no metrics
            for x, y in zip(*loader):
                opt.zero_grad(set_to_none=True)
                loss_fn(model(x), y).backward()
                opt.step()
        elif kind == "fit":  # the default fit: progress bar, loss every 500 steps, validation pass
            train.fit(
                model,
                loader[0],
                loader[1],
                epochs=1,
                lr=0.01,
                momentum=0.9,
                device="cpu",
                progress=True,
                log_every=500,
                verbose=True,
            )
        else:
            train.set_epoch(loader[0], epoch)
            train.train_one_epoch(model, loader[0], opt, device="cpu")

    times: dict[str, list[float]] = {k: [] for k in kinds}
    for kind in kinds:  # warm-up epoch, not timed
        one_epoch(kind, 0)
    for epoch in range(1, repeats + 1):
        for kind in kinds:
            t0 = time.perf_counter()
            one_epoch(kind, epoch)
            times[kind].append(time.perf_counter() - t0)
    torch.set_num_threads(threads)
    return times


def _test_curve(
    make_model, recipe: dict, batch: int, fast: bool = True, augment=None, validate: bool = False, seed: int = 0
) -> list[tuple[float, float]]:
    """Seed, train ``make_model()`` with ``recipe`` and return ``(epoch seconds, test accuracy)`` per epoch.

    With ``validate`` each epoch also runs the validation pass (and its seconds count)."""
    from mnist_lab import data, runtime, train

    runtime.seed_everything(seed)  # as the notebooks do: the seed sets the initial weights and the shuffle
    tl, vl, te = data.make_loaders(batch_size=batch, fast=fast, download=False, seed=seed)
    curve: list[tuple[float, float]] = []

    def record(m, row):
        curve.append((row["seconds"], train.evaluate(m, te, device="cpu")["accuracy"]))

    train.fit(
        make_model(),
        tl,
        vl if validate else None,
        device="cpu",
        progress=False,
        log_every=None,
        verbose=False,
        augment=augment,
        on_epoch_end=record,
        **recipe,
    )
    return curve


def _cnn_recipe() -> tuple:
    """Return ``(make_model, recipe, batch, augment)`` of notebook 06's default CNN for ``_test_curve``."""
    import torch

    from mnist_lab import augment, models
    from mnist_lab.course import CNN_RECIPE

    recipe = {k: v for k, v in CNN_RECIPE.items() if k in ("epochs", "lr", "momentum", "weight_decay", "schedule")}
    recipe["loss_fn"] = torch.nn.CrossEntropyLoss(label_smoothing=CNN_RECIPE["label_smoothing"])
    return (
        lambda: models.CNN(channels=CNN_RECIPE["channels"]),
        recipe,
        CNN_RECIPE["batch_size"],
        augment.Augment(CNN_RECIPE["max_shift"], CNN_RECIPE["max_rotation"]),
    )


def _time_to_accuracy(model_name: str, targets: list[float], seed: int = 0) -> dict:
    """Train with the notebook's default recipe; return the training seconds until each test-accuracy target."""
    from mnist_lab import models, train

    if model_name == "mlp":
        curve = _test_curve(models.MLP, dict(train.DEFAULT_RECIPE), batch=32, seed=seed)
    else:
        make, recipe, batch, aug = _cnn_recipe()
        curve = _test_curve(make, recipe, batch, augment=aug, seed=seed)
    out = {
        "epochs": len(curve),
        "final_test_accuracy": curve[-1][1],
        "train_seconds": sum(s for s, _ in curve),
        "per_epoch_test_accuracy": [a for _, a in curve],
    }
    cum = 0.0
    for i, (seconds, acc) in enumerate(curve, start=1):
        cum += seconds
        for t in targets:
            out.setdefault(f"seconds_to_{t}", None)
            if acc >= t and out[f"seconds_to_{t}"] is None:
                out[f"seconds_to_{t}"] = cum
                out[f"epoch_to_{t}"] = i
    return out


def _loaders_row() -> dict:
    """Default MLP recipe with the DataLoader and with the in-memory loader: test accuracy after a
    1-epoch run and after each epoch of a 10-epoch run, and seconds per epoch, in one process."""
    from mnist_lab import models, train

    out = {}
    for fast in (False, True):
        res = {}
        for epochs in (1, 10):
            curve = _test_curve(
                models.MLP, dict(train.DEFAULT_RECIPE, epochs=epochs), batch=32, fast=fast, validate=True
            )
            res[f"{epochs}_epochs"] = {
                "test_accuracy": curve[-1][1],
                "seconds_per_epoch": statistics.median(s for s, _ in curve),
                "per_epoch": [{"seconds": s, "test_accuracy": a} for s, a in curve],
            }
        out["in-memory" if fast else "DataLoader + ToTensor"] = res
    return out


def run_one(spec: dict) -> dict:
    """Measure one row described by ``spec``; return its numbers (called in a subprocess)."""
    import torch

    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    if spec["row"] == "epoch":
        times = _epoch_seconds(spec["kinds"], spec["batch"], spec["repeats"])
        result = {k: {"times": v, "median": statistics.median(v)} for k, v in times.items()}
    elif spec["row"] == "cnn_epoch":
        from mnist_lab import augment, data, models, runtime, train
        from mnist_lab.course import CNN_RECIPE

        runtime.seed_everything(0)
        model = models.CNN(channels=CNN_RECIPE["channels"])
        tl, _, _ = data.make_loaders(batch_size=CNN_RECIPE["batch_size"], download=False)
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        aug = augment.Augment(CNN_RECIPE["max_shift"], CNN_RECIPE["max_rotation"])
        times = []
        for epoch in range(1, spec["repeats"] + 1):
            tl.set_epoch(epoch)
            t0 = time.perf_counter()
            train.train_one_epoch(model, tl, opt, device="cpu", augment=aug)
            times.append(time.perf_counter() - t0)
        result = {"times": times, "median": statistics.median(times)}
    elif spec["row"] == "loaders":
        result = _loaders_row()
    else:
        result = _time_to_accuracy(spec["model"], spec["targets"], spec.get("seed", 0))
    from mnist_lab import runtime

    result["peak_rss_mb"] = runtime.peak_rss_mb()
    result["threads"] = torch.get_num_threads()
    return result


# --------------------------------------------------------------------------- orchestration


def machine() -> dict:
    """Return CPU model, cores, torch version and threads of this machine."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def spawn(spec: dict, env: dict | None = None, script: str = __file__) -> dict:
    """Run ``script --one spec`` in a fresh interpreter (with ``env`` added to the environment); return its JSON
    result. Its progress lines (stderr) pass through."""
    proc = subprocess.run(
        [sys.executable, script, "--one", json.dumps(spec)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark row {spec} failed (its error is printed above)")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per row (median reported)")
    parser.add_argument("--batches", default="32,128,512")
    parser.add_argument("--skip-accuracy", action="store_true", help="skip the time-to-accuracy rows")
    parser.add_argument("--skip-cnn", action="store_true")
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the accuracy-spread rows")
    parser.add_argument("--float-paths", default="native,other", help="native, other (see OTHER_FLOAT_PATH)")
    parser.add_argument("--spread-only", action="store_true", help="only the accuracy-spread rows")
    parser.add_argument("--spread-models", default="mlp,cnn", help="models of the accuracy-spread rows")
    parser.add_argument("--out", default=str(HERE / "results.json"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(json.loads(args.one))))
        return 0

    info = machine()
    print(
        f"Machine: {info['cpu']}, {info['cores']} cores, torch {info['torch']}, {info['threads']} threads, "
        f"Python {info['python']}",
        flush=True,
    )
    rows = []
    kinds = ["dataloader", "memory", "bare", "fit", "memory_1thread", "bare_1thread"]
    if args.spread_only:
        args.batches, args.skip_accuracy = "", True
    for batch in [int(b) for b in args.batches.split(",") if b]:
        out = spawn({"row": "epoch", "kinds": kinds, "batch": batch, "repeats": args.repeats})
        res = {k: dict(out[k], peak_rss_mb=out["peak_rss_mb"]) for k in kinds}
        for kind, r in res.items():
            print(
                f"  batch {batch:>3} {kind:<15} {r['median']:7.2f} s/epoch  (runs: "
                + ", ".join(f"{t:.2f}" for t in r["times"])
                + ")",
                flush=True,
            )
        rows.append({"batch": batch, **res})
    acc = {}
    loaders = None
    if not args.skip_accuracy:
        loaders = spawn({"row": "loaders"})
        for name, res in loaders.items():
            if name in ("peak_rss_mb", "threads"):
                continue
            print(
                f"  {name:<22} 1 epoch: {res['1_epochs']['test_accuracy']:.2%}, "
                f"10 epochs: {res['10_epochs']['test_accuracy']:.2%}, "
                f"{res['10_epochs']['seconds_per_epoch']:.2f} s/epoch",
                flush=True,
            )
        acc["mlp"] = spawn({"row": "accuracy", "model": "mlp", "targets": [0.97, 0.98]})
        print(
            f"  MLP default recipe: {acc['mlp']['final_test_accuracy']:.2%} after {acc['mlp']['epochs']} epochs",
            flush=True,
        )
    cnn_epoch = None
    if not args.skip_cnn and not args.spread_only:
        cnn_epoch = spawn({"row": "cnn_epoch", "repeats": max(1, args.repeats - 1)})
        print(f"  CNN epoch {cnn_epoch['median']:7.2f} s", flush=True)
        if not args.skip_accuracy:
            acc["cnn"] = spawn({"row": "accuracy", "model": "cnn", "targets": [0.99, 0.995]})
            print(f"  CNN default recipe: {acc['cnn']['final_test_accuracy']:.2%}", flush=True)

    models = [m for m in args.spread_models.split(",") if m and not (m == "cnn" and args.skip_cnn)]
    spread = measure_spread(models, args.seeds, args.float_paths)
    table = (render(info, rows, acc, cnn_epoch, loaders) + "\n\n" if rows or acc else "") + render_spread(spread)
    print("\n" + table)
    Path(args.out).write_text(
        json.dumps(
            {
                "machine": info,
                "epochs": rows,
                "accuracy": acc,
                "cnn_epoch": cnn_epoch,
                "loaders": loaders,
                "spread": spread,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {args.out}")
    return 0


def render(info: dict, rows: list, acc: dict, cnn_epoch: dict | None, loaders: dict | None = None) -> str:
    """Return the results as a Markdown table."""
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores, torch {info['torch']}, {info['threads']} threads.",
        "Median seconds per training epoch (55,000 images) of the default MLP, with the peak resident memory",
        "of that process: all columns of a row run interleaved, epoch by epoch, in one process, so a slow",
        "spell of a shared machine hits them alike and the ratios hold (the peak is shared too).",
        "",
        "| batch | DataLoader + ToTensor (a) | in-memory (b) | bare loop (c) | default `fit` (d) | a/b | b/c | d/c "
        "| in-memory, 1 thread | bare, 1 thread | peak memory |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        a, b, c, d, b1, c1 = (
            r[k]["median"] for k in ("dataloader", "memory", "bare", "fit", "memory_1thread", "bare_1thread")
        )
        lines.append(
            f"| {r['batch']} | {a:.2f} s | {b:.2f} s | {c:.2f} s | {d:.2f} s | {a / b:.1f}× | {b / c:.2f}× "
            f"| {d / c:.2f}× | {b1:.2f} s | {c1:.2f} s | {r['fit']['peak_rss_mb']:.0f} MB |"
        )
    lines.append("")
    lines.append(
        "(d) includes the progress bar, the loss printed every 500 steps and a validation pass. "
        f"The 1-thread columns set torch.set_num_threads(1) instead of {info['threads']}."
    )
    if loaders:
        lines += [
            "",
            "Default MLP recipe (batch 32) on both loaders (the same batches, so the same accuracy):",
            "",
            "| loader | test acc, 1-epoch run | test acc, 10-epoch run | s/epoch (incl. validation) |",
            "|---|---:|---:|---:|",
        ]
        for name, res in loaders.items():
            if name in ("peak_rss_mb", "threads"):
                continue
            lines.append(
                f"| {name} | {res['1_epochs']['test_accuracy']:.2%} | {res['10_epochs']['test_accuracy']:.2%} "
                f"| {res['10_epochs']['seconds_per_epoch']:.2f} s |"
            )
    if acc or cnn_epoch:
        lines += [
            "",
            "| model, default recipe | epochs | final test accuracy | training seconds to target |",
            "|---|---:|---:|---|",
        ]
        if "mlp" in acc:
            m = acc["mlp"]
            lines.append(
                f"| MLP 784-128-64-10, batch 32 | {m['epochs']} | {m['final_test_accuracy']:.2%} | "
                + _targets(m, [0.97, 0.98])
                + f" (total {m['train_seconds']:.0f} s, "
                f"peak {m['peak_rss_mb']:.0f} MB) |"
            )
        if "cnn" in acc:
            m = acc["cnn"]
            lines.append(
                f"| CNN (notebook 06) | {m['epochs']} | {m['final_test_accuracy']:.2%} | "
                + _targets(m, [0.99, 0.995])
                + f" (total {m['train_seconds']:.0f} s, "
                f"peak {m['peak_rss_mb']:.0f} MB) |"
            )
        if cnn_epoch:
            lines.append(
                f"\nCNN training epoch with augmentation: {cnn_epoch['median']:.1f} s "
                f"(peak {cnn_epoch['peak_rss_mb']:.0f} MB)."
            )
    return "\n".join(lines)


def measure_spread(models: list[str], seeds: str, float_paths: str) -> list[dict]:
    """Train the default recipes of ``models`` for every seed and float path; return one row per run."""
    runs = []
    for model in models:
        targets = [0.97, 0.98] if model == "mlp" else [0.99, 0.995]
        for path in [p for p in float_paths.split(",") if p]:
            for seed in [int(s) for s in seeds.split(",") if s]:
                env = OTHER_FLOAT_PATH if path == "other" else None
                r = spawn({"row": "accuracy", "model": model, "targets": targets, "seed": seed}, env=env)
                runs.append({"model": model, "float_path": path, "seed": seed, **r})
                print(
                    f"  {model} seed {seed} ({path} float path): test {r['final_test_accuracy']:.2%} "
                    f"in {r['train_seconds']:.0f} s",
                    flush=True,
                )
    return runs


def render_spread(runs: list[dict]) -> str:
    """Return the accuracy spread over seeds and float paths as a Markdown table, with the targets."""
    if not runs:
        return ""
    lines = [
        "Test accuracy of the default recipes over seeds and float paths (each run in its own process; "
        f"'other' = {' '.join(f'{k}={v}' for k, v in OTHER_FLOAT_PATH.items())}):",
        "",
        "| model | float path | seeds | test accuracy, each | mean ± std | training seconds, mean | target |",
        "|---|---|---|---|---:|---:|---|",
    ]
    for model in ("mlp", "cnn"):
        mine = [r for r in runs if r["model"] == model]
        groups = [(p, [r for r in mine if r["float_path"] == p]) for p in dict.fromkeys(r["float_path"] for r in mine)]
        for path, group in groups + ([("all", mine)] if len(groups) > 1 else []):
            accs = [r["final_test_accuracy"] for r in group]
            std = statistics.stdev(accs) if len(accs) > 1 else 0.0
            t = TARGETS[model]
            met = statistics.mean(accs) >= t["mean"] and min(accs) >= t["each"]
            lines.append(
                f"| {model.upper()} | {path} | {','.join(str(r['seed']) for r in group)} | "
                + ", ".join(f"{a:.2%}" for a in accs)
                + f" | {statistics.mean(accs):.2%} ± {std:.2%} | "
                f"{statistics.mean(r['train_seconds'] for r in group):.0f} s | mean ≥ {t['mean']:.1%}, "
                f"each ≥ {t['each']:.1%}: {'met' if met else 'MISSED'} |"
            )
    return "\n".join(lines)


def _targets(m: dict, targets: list[float]) -> str:
    parts = []
    for t in targets:
        s = m.get(f"seconds_to_{t}")
        parts.append(f"{t:.1%}: " + (f"{s:.0f} s (epoch {m[f'epoch_to_{t}']})" if s is not None else "not reached"))
    return ", ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
