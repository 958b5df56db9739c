"""tools/check_recipe.py: the full-length check of the MLP's recipe that docs/results.md reports."""

from __future__ import annotations

import json

import pytest
from check_recipe import main, parse_change  # tools/check_recipe.py

from mnist_lab import metrics


def test_a_change_is_a_recipe_name_and_a_value():
    assert parse_change("lr=0.1") == ("lr", 0.1)
    assert parse_change("schedule=none") == ("schedule", "none")
    assert parse_change("hidden=[256, 128]") == ("hidden", [256, 128])


@pytest.mark.parametrize("text", ["lr", "rate=0.1", "=3"])
def test_a_bad_change_names_the_recipe_names(text):
    with pytest.raises(SystemExit, match="NAME=VALUE with NAME one of: seed, hidden"):
        parse_change(text)


def test_one_seed_is_refused():
    with pytest.raises(SystemExit, match="at least 2"):
        main(["--seeds", "1"])


def test_it_reads_each_change_against_the_recipe(tiny_root, capsys, tmp_path):
    out = tmp_path / "runs.json"
    main(["--seeds", "2", "--base", "val_size=100", "--base", "epochs=1", "--change", "lr=0.0001",
          "--data-root", str(tiny_root), "--json", str(out)])  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("the recipe") and lines[1].startswith("lr=0.0001")
    runs = json.loads(out.read_text())
    assert list(runs) == ["the recipe", "lr=0.0001"] and all(len(v) == 2 for v in runs.values())
    (recipe, recipe_std), (changed, changed_std) = (metrics.mean_std(v) for v in runs.values())
    gain, noise = 100 * (recipe - changed), 100 * (recipe_std + changed_std)
    assert lines[1].endswith(f"the recipe's lead {gain:+.2f} points, noise {noise:.2f}: "
                             + metrics.seed_verdict(gain, noise))  # fmt: skip
