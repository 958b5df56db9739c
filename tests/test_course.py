"""The artifact contract between notebooks: never a stale model, and the command that rebuilds it."""

from __future__ import annotations

import pytest

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
        assert (a == b).all()


def test_corrupt_checkpoint_is_named(tmp_path):
    P = params(tmp_path)
    (tmp_path / "mlp.pt").write_bytes(b"truncated")
    with pytest.raises(RuntimeError, match=r"<artifacts>/mlp.pt cannot be used: .*cannot be read"):
        course.load_mlp(P, rebuild=False)
