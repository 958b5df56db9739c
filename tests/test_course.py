"""The artifact contract between notebooks: never a stale model, and the command that rebuilds it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from mnist_lab import course, models, train


def params(tmp_path, **over):
    return course.start(**{**{k: v for k, v in course.DEFAULTS.items()}, "artifacts": str(tmp_path), **over})


def test_missing_checkpoint_without_rebuild_names_the_command(tmp_path):
    P = params(tmp_path)
    with pytest.raises(RuntimeError, match=r"No trained MLP at <artifacts>/mlp.pt.*make run NOTEBOOKS=03"):
        course.load_mlp(P, rebuild=False)


def test_stale_checkpoint_is_refused_with_the_differences(tmp_path):
    P = params(tmp_path)
    model = models.MLP()
    train.save_checkpoint(tmp_path / "mlp.pt", model, epoch=10, params=course.mlp_params({**P, "lr": 0.2}))
    with pytest.raises(RuntimeError, match=r"trained with other parameters: lr=0.2 \(this notebook: 0.05\)"):
        course.load_mlp(P, rebuild=False)


def test_unfinished_checkpoint_is_not_used(tmp_path):
    P = params(tmp_path)
    train.save_checkpoint(tmp_path / "mlp.pt", models.MLP(), epoch=3, params=course.mlp_params(P))
    with pytest.raises(RuntimeError, match=r"unfinished run \(epoch 3 of 10\)"):
        course.load_mlp(P, rebuild=False)


def test_matching_checkpoint_is_loaded(tmp_path, capsys):
    P = params(tmp_path)
    model = models.MLP()
    train.save_checkpoint(tmp_path / "mlp.pt", model, epoch=10, params=course.mlp_params(P))
    loaded, ckpt = course.load_mlp(P, rebuild=False)
    assert ckpt["epoch"] == 10 and "Loaded the MLP" in capsys.readouterr().out
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b.cpu())  # load_mlp moves it to P's device: on a machine with a GPU, cuda


def test_corrupt_checkpoint_is_named(tmp_path):
    P = params(tmp_path)
    (tmp_path / "mlp.pt").write_bytes(b"truncated")
    with pytest.raises(RuntimeError, match=r"<artifacts>/mlp.pt cannot be used: .*cannot be read"):
        course.load_mlp(P, rebuild=False)


def cnn_params(tmp_path, **over):
    return params(
        tmp_path,
        **{
            **{
                "channels": [16, 32, 64],
                "cnn_batch_size": 128,
                "cnn_epochs": 15,
                "cnn_lr": 0.2,
                "cnn_momentum": 0.9,
                "augment": True,
                "max_shift": 2,
                "max_rotation": 10.0,
            },
            **over,
        },
    )


def test_a_matching_cnn_is_loaded_and_a_stale_one_retrained(tmp_path, monkeypatch, capsys):
    P = cnn_params(tmp_path)
    train.save_checkpoint(tmp_path / "cnn.pt", models.CNN(), epoch=15, params=course.cnn_params(P))
    _, ckpt = course.load_cnn(P)
    assert ckpt["epoch"] == 15 and "Loaded the CNN trained by notebook 06" in capsys.readouterr().out

    trained = []

    def fake_train_cnn(P):  # stands for the 2-minute training: writes what it would write
        trained.append(P["cnn_epochs"])
        train.save_checkpoint(tmp_path / "cnn.pt", models.CNN(), epoch=P["cnn_epochs"], params=course.cnn_params(P))

    monkeypatch.setattr(course, "train_cnn", fake_train_cnn)
    _, ckpt = course.load_cnn(cnn_params(tmp_path, cnn_epochs=3))
    out = capsys.readouterr().out
    assert "trained with other parameters: cnn_epochs=15 (this notebook: 3)" in out and "notebook 06" in out
    assert trained == [3] and ckpt["epoch"] == 3


def test_a_notebook_start_does_not_import_the_runner_tools(tmp_path):
    """course.start("06_cnn", globals()) reads the parameters cell itself: nbformat and papermill (and the
    jsonschema they pull in, about 3 s) are for the runner only."""
    code = (
        "import sys, json\n"
        "from mnist_lab import course\n"
        "cell = next(c for c in json.load(open(course.notebook_dir() / '06_cnn.ipynb'))['cells']"
        " if 'parameters' in c['metadata'].get('tags', []))\n"
        "namespace = {}\n"
        "exec(''.join(cell['source']), namespace)\n"
        f"namespace['artifacts'] = {str(tmp_path)!r}\n"
        "P = course.start('06_cnn', namespace)\n"
        "print(P['seed'], sorted(m for m in ('nbformat', 'papermill', 'jsonschema') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "[]"]  # started with the cell's seed, without the runner's imports


def test_parameter_names_come_from_the_parameters_cell_only(tmp_path):
    cells = [
        {"cell_type": "code", "metadata": {}, "source": "not_a_parameter = 1\n"},
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "lr = 0.1\nseed: int = 0\n"},
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    assert course._declared_parameters(path) == ["lr", "seed"]
    path.write_text(json.dumps({"cells": cells[:1]}))  # no parameters cell: nothing to set, as papermill says
    assert course._declared_parameters(path) == []
