"""tools/check_recipe.py: the full-length check of the MLP's recipe that docs/results.md reports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from check_recipe import CNN_GRID, CNN_GRID_LATER, GRID, main, parse_change, run_grid  # tools/check_recipe.py

from mnist_lab import course, metrics, models, runtime


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


def test_the_grid_trains_each_value_once_and_shares_the_recipe(tiny_root, capsys, tmp_path):
    grid = {"lr": [0.0001, 0.05], "momentum": [0.9]}  # 0.05 and 0.9: the recipe's, trained once
    runs = run_grid(grid, 2, {"val_size": 100, "epochs": 1}, tiny_root)
    assert [row["value"] for row in runs["lr"]] == [0.0001, 0.05]
    assert runs["lr"][1]["accuracies"] == runs["momentum"][0]["accuracies"]  # the same runs
    assert capsys.readouterr().out.count("\n") == 2  # the recipe and lr=0.0001, each trained once


def test_the_grid_and_a_change_are_not_mixed():
    with pytest.raises(SystemExit, match="leave out --change"):
        main(["--grid", "x.json", "--change", "lr=0.1"])


def test_the_library_keeps_a_run_of_the_declared_grid():
    kept = runtime.read_json(course.VALIDATION_GRID)["grid"]
    assert {name: [row["value"] for row in rows] for name, rows in kept.items()} == GRID
    assert all(len(row["accuracies"]) == 5 for rows in kept.values() for row in rows)
    recipe_runs = [row["accuracies"] for name, rows in kept.items() for row in rows
                   if row["value"] == course.RECIPES["mlp"][name]]  # fmt: skip
    assert len(recipe_runs) == len(GRID)  # each grid holds the recipe's value
    assert all(runs == recipe_runs[0] for runs in recipe_runs)  # one set of runs, shared


def test_what_notebook_05b_reads_from_the_grid():
    """05b cell 25: "Validation chooses notebook 05's rate, momentum, weight decay and schedule (printed);
    momentum 0.99's runs failed to train. [...] For the epochs it chooses 20, at twice the time" """
    kept = runtime.read_json(course.VALIDATION_GRID)["grid"]
    chosen = {name: max(rows, key=lambda row: metrics.mean_std(row["accuracies"])[0])["value"]
              for name, rows in kept.items()}  # fmt: skip
    recipe = course.RECIPES["mlp"]
    assert {name: value == recipe[name] for name, value in chosen.items()} == {
        "lr": True,
        "momentum": True,
        "weight_decay": True,
        "schedule": True,
        "epochs": False,
    }
    assert chosen["epochs"] == 2 * recipe["epochs"]
    failed = next(row for row in kept["momentum"] if row["value"] == 0.99)["accuracies"]
    assert max(failed) < 0.15  # about a guess's 10%: no seed trained


def test_a_cnn_change_names_the_cnns_recipe():
    assert parse_change("label_smoothing=0", "cnn") == ("label_smoothing", 0)
    with pytest.raises(SystemExit, match="NAME=VALUE with NAME one of: seed, channels"):
        parse_change("hidden=[64]", "cnn")


def test_only_trains_the_rows_it_names_and_the_cnns_runs_go_beside_the_mlps(tiny_root, capsys, tmp_path):
    out = tmp_path / "grid.json"
    out.write_text(json.dumps({"seeds": 5, "base": {}, "grid": {"lr": []}}))  # an MLP grid already there
    main(["--model", "cnn", "--seeds", "2", "--grid", str(out), "--only", "epochs", "--base", "val_size=100",
          "--base", "channels=[2, 2, 2]", "--data-root", str(tiny_root)])  # fmt: skip
    kept = json.loads(out.read_text())
    assert kept["grid"] == {"lr": []}  # the MLP's runs are kept as they were
    runs = kept["cnn"]
    assert runs["seeds"] == 2 and list(runs["grid"]) == ["epochs"]
    assert [row["value"] for row in runs["grid"]["epochs"]] == CNN_GRID["epochs"]
    assert all(len(row["accuracies"]) == 2 for row in runs["grid"]["epochs"])


def test_only_trains_a_row_declared_later_and_a_full_grid_leaves_it_out(tiny_root, capsys, tmp_path):
    out = tmp_path / "grid.json"
    main(["--model", "cnn", "--seeds", "2", "--grid", str(out), "--only", "max_shift", "--base", "val_size=100",
          "--base", "channels=[2, 2, 2]", "--base", "epochs=1", "--data-root", str(tiny_root)])  # fmt: skip
    runs = json.loads(out.read_text())["cnn"]
    assert list(runs["grid"]) == ["max_shift"]
    assert [row["value"] for row in runs["grid"]["max_shift"]] == CNN_GRID_LATER["max_shift"]
    assert not set(CNN_GRID_LATER) & set(CNN_GRID)  # the library's file holds only the first grid's rows


def test_only_names_a_row_of_the_models_grid():
    with pytest.raises(SystemExit, match="one of epochs, lr, channels"):
        main(["--model", "cnn", "--grid", "x.json", "--only", "hidden"])


def test_the_library_keeps_a_run_of_the_declared_cnn_grid():
    runs = runtime.read_json(course.VALIDATION_GRID)["cnn"]
    assert runs["seeds"] == 3 and runs["base"] == {}
    kept = runs["grid"]
    assert {name: [row["value"] for row in rows] for name, rows in kept.items()} == CNN_GRID
    assert all(len(row["accuracies"]) == 3 for rows in kept.values() for row in rows)
    recipe_runs = [row["accuracies"] for name, rows in kept.items() for row in rows
                   if row["value"] == course.RECIPES["cnn"][name]]  # fmt: skip
    # each row trained the recipe again (four processes, two sessions): the same three runs every time
    assert len(recipe_runs) == len(CNN_GRID) and all(runs == recipe_runs[0] for runs in recipe_runs)


def cnn_rows() -> dict[str, dict[str, tuple[float, float, int]]]:
    """For each training value of the CNN's grid: each value tried (as text, as 10c prints it), its mean and
    standard deviation over seeds, and the validation digits it read right over its three runs."""
    kept = runtime.read_json(course.VALIDATION_GRID)["cnn"]["grid"]
    return {name: {str(row["value"]): (*metrics.mean_std(row["accuracies"]), round(5000 * sum(row["accuracies"])))
                   for row in rows} for name, rows in kept.items()}  # fmt: skip


def verdict(rows: dict, value: str, ours: str) -> tuple[str, bool]:
    """10c's reading of ``value`` against notebook 10's value ``ours``: the noise rule's verdict and whether it is
    weak (a gap between half and twice its noise)."""
    gap, noise = rows[value][0] - rows[ours][0], rows[value][1] + rows[ours][1]
    return metrics.seed_verdict(gap, noise), 0.5 <= abs(gap) / noise < 2


def test_what_notebook_10c_reads_from_the_cnn_grid():
    """10c's reading of the full-length runs (the same on every machine: the library keeps them):
    "It takes notebook 10's value for six settings and another for two (printed). For the epochs and the peak
    rate, other values share the highest mean exactly [...] For the other four, the recipe's value has the highest
    mean alone, but each time the next best lies within the seed spread: a close call. A few values lose clearly
    (printed)." and "The two values it changes: the wider CNN, with twice the channels in every block, a clear gain
    but weak, for over three times the parameters (printed); and the larger weight decay, by 0.01 points, within
    the seed spread. The tie rule would change the channels only (printed)." Ties are exact in digits (each tied
    value read 14,926 of 15,000 validation digits right)."""
    rows, recipe = cnn_rows(), course.RECIPES["cnn"]
    ours = {name: str(recipe[name]) for name in rows}
    top = {name: [v for v, (_, _, n) in r.items() if n == max(n for _, _, n in r.values())] for name, r in rows.items()}
    assert top == {"epochs": ["8", "16"], "lr": ["0.05", "0.2", "0.4"], "channels": ["[32, 64, 128]"],
                   "batch_size": ["128"], "momentum": ["0.9"], "weight_decay": ["0.001"],
                   "label_smoothing": ["0.1"], "augment": ["True"]}  # fmt: skip
    for name in ("batch_size", "momentum", "label_smoothing", "augment"):
        runner_up = max((v for v in rows[name] if v != ours[name]), key=lambda v: rows[name][v][0])
        assert verdict(rows[name], runner_up, ours[name])[0] == "within the seed spread"
    losses = {(name, v): verdict(r, v, ours[name])[1] for name, r in rows.items() for v in r
              if v != ours[name] and verdict(r, v, ours[name])[0] == "clear loss"}  # fmt: skip
    assert 2 <= len(losses) <= 4 and sum(losses.values()) > len(losses) / 2  # a few, most of them weak
    assert verdict(rows["channels"], "[32, 64, 128]", ours["channels"]) == ("clear gain", True)
    wide, narrow = models.count_parameters(models.CNN([32, 64, 128])), models.count_parameters(models.CNN([16, 32, 64]))
    assert 3.5 <= wide / narrow < 4
    assert verdict(rows["weight_decay"], "0.001", ours["weight_decay"])[0] == "within the seed spread"
    # "by 0.01 points, within the seed spread (printed)"
    assert f"{100 * (rows['weight_decay']['0.001'][0] - rows['weight_decay']['0.0005'][0]):.2f}" == "0.01"
    assert rows["weight_decay"]["0.001"][0] > rows["weight_decay"]["0.0005"][0]
    # the tie rule's reading (printed): only the values that beat notebook 10's beyond the seed spread change it
    beaten = [
        (name, v)
        for name, r in rows.items()
        for v in r
        if v != ours[name] and verdict(r, v, ours[name])[0] == "clear gain"
    ]
    assert beaten == [("channels", "[32, 64, 128]")]
    # what Further research asks the student to find: "Does the wider CNN beat the recipe on each seed?" (it does)
    kept = runtime.read_json(course.VALIDATION_GRID)["cnn"]["grid"]["channels"]
    runs = {str(row["value"]): row["accuracies"] for row in kept}
    assert all(w > o for w, o in zip(runs["[32, 64, 128]"], runs["[16, 32, 64]"]))


def test_what_the_digits_section_of_10e_reads():
    """10e: "The seed spreads are a few digits of one run (printed), and most gaps in notebook 10c's table are no
    larger. Three seeds pin such gaps down only roughly: the noise rule finds most of them within the seed spread,
    and its clear verdicts near that size are weak." and exercise 1's answer: 13 more digits over the three seeds
    for 8 epochs than for 4."""
    rows, recipe = cnn_rows(), course.RECIPES["cnn"]
    largest_spread = max(std for r in rows.values() for _, std, _ in r.values()) * 5000  # digits a run
    assert largest_spread < 10
    near = [verdict(r, v, str(recipe[name])) for name, r in rows.items() for v, (_, _, n) in r.items()
            if v != str(recipe[name]) and abs(n - r[str(recipe[name])][2]) / 3 <= largest_spread]  # fmt: skip
    assert len(near) > (sum(len(r) for r in rows.values()) - len(rows)) / 2  # most gaps (measured: 13 of 16)
    assert sum(v == "within the seed spread" for v, _ in near) > len(near) / 2
    assert all(weak for v, weak in near if v != "within the seed spread")
    assert rows["epochs"]["8"][2] - rows["epochs"]["4"][2] == 13
    # the solution's comment, "within the noise", and 10c's "Half the epochs, 4, cannot be told apart from 8
    # (within the seed spread, weak)."
    assert verdict(rows["epochs"], "4", "8") == ("within the seed spread", True)
    # the solution's comment: "And on seed 2 the run of 4 epochs read one digit more"
    kept = {
        row["value"]: row["accuracies"] for row in runtime.read_json(course.VALIDATION_GRID)["cnn"]["grid"]["epochs"]
    }
    assert round(5000 * kept[4][2]) - round(5000 * kept[8][2]) == 1


def test_what_10e_says_of_notebook_10s_run():
    """10e: "the stored run of the recipe with seed 0 is not quite notebook 10's run" and "The course's run of
    notebook 10 read a few digits fewer (printed). With it, notebook 10's epochs and peak rate no longer share the
    top (printed). For the epochs the rule takes another value. For the peak rate two other values share the top,
    and the rule names no single value. Momentum's top becomes an exact tie, which the clause keeps." (notebook
    10's committed run, the default of 10e's setting, against the library's: the same on every machine)"""
    folder = Path(__file__).resolve().parents[1] / "notebooks"
    notebook = json.loads((folder / "10_cnn_training.ipynb").read_text())
    printed = "".join("".join(o.get("text", "")) for c in notebook["cells"] for o in c.get("outputs", []))
    last = re.findall(r"epoch 8/8 .* val acc (\d+\.\d+)%", printed)[-1]
    recipe = course.RECIPES["cnn"]
    kept = runtime.read_json(course.VALIDATION_GRID)["cnn"]["grid"]
    seed_0 = [row["accuracies"][0] for row in kept["epochs"] if row["value"] == recipe["epochs"]][0]
    assert 1 <= round(5000 * seed_0) - round(50 * float(last)) <= 5  # digits (measured: 4977 against 4974)
    # 10e's setting holds notebook 10's printed accuracy, which must be the committed one
    notebook_10e = json.loads((folder / "10e_digits.ipynb").read_text())
    code = "".join("".join(c["source"]) for c in notebook_10e["cells"] if c["cell_type"] == "code")
    quoted = re.search(r"notebook_10_accuracy: float = (0\.\d+)", code).group(1)
    assert f"{100 * float(quoted):.2f}" == last

    def tops(recipe_seed_0: int) -> dict[str, list[str]]:
        """For each setting, the values with the most digits right, the recipe's seed-0 run at this many digits."""
        out = {}
        for name, rows in kept.items():
            digits = {str(row["value"]): [round(5000 * a) for a in row["accuracies"]] for row in rows}
            digits[str(recipe[name])][0] = recipe_seed_0
            top = max(sum(d) for d in digits.values())
            out[name] = [v for v, d in digits.items() if sum(d) == top]
        return out

    stored, swapped = tops(round(5000 * seed_0)), tops(round(50 * float(last)))
    ours = {name: str(recipe[name]) for name in kept}
    assert all(ours[name] in stored[name] for name in ("epochs", "lr"))  # exact ties, kept by the clause
    assert all(ours[name] not in swapped[name] for name in ("epochs", "lr"))
    assert len(swapped["lr"]) > 1 and len(swapped["epochs"]) == 1
    assert stored["momentum"] == ["0.9"] and len(swapped["momentum"]) > 1 and "0.9" in swapped["momentum"]
    changed = [name for name in kept if stored[name] != swapped[name]]
    assert changed == ["epochs", "lr", "momentum"]  # the other five readings stay


def test_what_10c_says_of_10bs_parts():
    """10c: "Half the channels loses the most, and it is the one clear verdict that is not weak. Here label
    smoothing 0 is a clear loss, weak, and augmentation off is within the seed spread, weak; notebook 10b's short
    runs found neither beyond the seed spread on clean digits." (10b's side: its guard in
    check_executed_notebooks.py asserts no clear verdict on clean digits) and exercise 1: the wider CNN's gain
    over its noise, 1.1 (a clear gain, weak)."""
    rows, recipe = cnn_rows(), course.RECIPES["cnn"]
    ours = {name: str(recipe[name]) for name in rows}
    assert verdict(rows["label_smoothing"], "0.0", "0.1") == ("clear loss", True)
    assert verdict(rows["augment"], "False", "True") == ("within the seed spread", True)
    assert verdict(rows["channels"], "[8, 16, 32]", "[16, 32, 64]") == ("clear loss", False)
    clear = [(name, v) for name, r in rows.items() for v in r if v != ours[name]
             and verdict(r, v, ours[name])[0] != "within the seed spread"]  # fmt: skip
    assert [c for c in clear if not verdict(rows[c[0]], c[1], ours[c[0]])[1]] == [("channels", "[8, 16, 32]")]
    gaps = {(name, v): r[v][0] - r[ours[name]][0] for name, r in rows.items() for v in r}
    assert min(gaps, key=gaps.get) == ("channels", "[8, 16, 32]")
    wide, base = rows["channels"]["[32, 64, 128]"], rows["channels"]["[16, 32, 64]"]
    assert f"{(wide[0] - base[0]) / (wide[1] + base[1]):.1f}" == "1.1"


def test_an_mlp_grid_run_keeps_the_cnns_runs_in_its_file(tiny_root, capsys, tmp_path):
    out = tmp_path / "grid.json"
    out.write_text(json.dumps({"seeds": 5, "base": {}, "grid": {}, "cnn": {"seeds": 3, "grid": {"lr": []}}}))
    main(["--seeds", "2", "--grid", str(out), "--only", "schedule", "--base", "val_size=100", "--base", "epochs=1",
          "--data-root", str(tiny_root)])  # fmt: skip
    kept = json.loads(out.read_text())
    assert kept["cnn"] == {"seeds": 3, "grid": {"lr": []}}  # not the MLP run's to overwrite
    assert kept["seeds"] == 2 and list(kept["grid"]) == ["schedule"]


def test_what_12b_says_of_05bs_runs():
    """12b: "notebook 05b gave the MLP's own schedule, rate, momentum and weight decay the highest means (the last
    three only within the seed spread), and more epochs a higher one, also within it." (the MLP's runs in the
    library, the same on every machine)"""
    kept = runtime.read_json(course.VALIDATION_GRID)["grid"]
    recipe = course.RECIPES["mlp"]
    rows = {name: {row["value"]: metrics.mean_std(row["accuracies"]) for row in r} for name, r in kept.items()}
    for name in ("schedule", "lr", "momentum", "weight_decay"):
        assert max(rows[name], key=lambda v: rows[name][v][0]) == recipe[name]
    for name in ("lr", "momentum", "weight_decay"):
        ours, runner_up = (
            recipe[name],
            max((v for v in rows[name] if v != recipe[name]), key=lambda v: rows[name][v][0]),
        )
        gap, noise = rows[name][ours][0] - rows[name][runner_up][0], rows[name][ours][1] + rows[name][runner_up][1]
        assert metrics.seed_verdict(gap, noise) == "within the seed spread"
    more = max(v for v in rows["epochs"] if v > recipe["epochs"])
    gap = rows["epochs"][more][0] - rows["epochs"][recipe["epochs"]][0]
    assert 0 < gap and metrics.seed_verdict(gap, rows["epochs"][more][1] + rows["epochs"][recipe["epochs"]][1]) == (
        "within the seed spread"
    )
