"""Tuning: the learning-rate range test, and Optuna studies that resume and share work."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch

from mnist_lab import data, models, tuning

optuna = pytest.importorskip("optuna")


def tiny_splits(seed: int = 0) -> data.MNISTSplits:
    """A small separable 10-class problem in the MNIST tensor format."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(600) % 10
    x = 0.3 * torch.rand(600, 1, 28, 28, generator=gen)
    for k in range(10):
        x[y == k, 0, k * 2 : k * 2 + 3, :] += 0.7
    x = x.clamp(0, 1)
    return data.MNISTSplits(x[:400], y[:400], x[400:500], y[400:500], x[500:], y[500:])


def test_lr_range_test_sweeps_upward_and_suggests_a_rate_below_the_blow_up():
    s = tiny_splits()
    loader = data.TensorLoader(s.train_images, s.train_labels, 20, shuffle=True)
    out = tuning.lr_range_test(models.MLP(hidden=[16]), loader, lr_min=1e-4, lr_max=10, steps=60)
    lrs = out["lrs"]
    assert all(b > a for a, b in zip(lrs, lrs[1:])) and lrs[0] == pytest.approx(1e-4)
    best_lr = lrs[out["losses"].index(min(out["losses"]))]
    assert out["suggested_lr"] == pytest.approx(best_lr / 10)
    assert min(out["losses"]) < out["losses"][0]


def test_a_second_run_resumes_instead_of_repeating_trials(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    objective = tuning.make_objective(tiny_splits(), trial_epochs=2, seed=0)
    study = tuning.open_study(url, "s", seed=0)
    assert tuning.run_study(study, objective, 5) == 5
    first = [(t.number, t.params, t.state.name) for t in study.get_trials()]
    again = tuning.open_study(url, "s", seed=0)
    assert tuning.run_study(again, objective, 5) == 0  # nothing repeated
    assert [(t.number, t.params, t.state.name) for t in again.get_trials()] == first
    assert tuning.run_study(again, objective, 7) == 2  # a larger budget continues the same study
    rows = tuning.trials_table(again)
    assert [r["number"] for r in rows] == list(range(7))
    assert all(0 <= r["val_accuracy"] <= 1 and r["state"] in ("complete", "pruned") for r in rows)


def test_the_sampler_is_seeded(tmp_path):
    objective = tuning.make_objective(tiny_splits(), trial_epochs=1, seed=0)
    params = []
    for name in ("a", "b"):
        study = tuning.open_study(f"sqlite:///{tmp_path / name}.db", "s", seed=3)
        tuning.run_study(study, objective, 3)
        params.append([t.params for t in study.get_trials()])
    assert params[0] == params[1]


WORKER = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {tests!r})
    from test_tuning import tiny_splits
    from mnist_lab import tuning
    study = tuning.open_study({url!r}, "shared", seed=0, worker=int(sys.argv[1]))
    ran = tuning.run_study(study, tuning.make_objective(tiny_splits(), trial_epochs=2, seed=0), 10)
    print(json.dumps({{"ran": ran}}))
""")


def test_two_workers_share_one_sqlite_study_without_losing_or_repeating_trials(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    tuning.open_study(url, "shared", seed=0)  # create the schema once, as the first notebook run would
    script = WORKER.format(tests=str(__import__("pathlib").Path(__file__).parent), url=url)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(w)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for w in (1, 2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
        results.append(int(out.strip().splitlines()[-1].split(":")[1].strip(" }")))
    study = tuning.open_study(url, "shared", seed=0)
    trials = study.get_trials()
    assert sum(results) == len(trials)  # every trial a worker ran is in the study: none lost
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)  # none failed or left running
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    assert 10 <= len(trials) <= 11  # the budget, plus at most one trial in flight when it was reached
    assert min(results) >= 1  # both workers did work
    keys = [tuple(sorted(t.params.items())) for t in trials]
    assert len(set(keys)) == len(keys)  # no configuration evaluated twice
