"""Parameter validation: every bad value is a ValueError naming the parameter, the value and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnist_lab.params import validate_params


@pytest.mark.parametrize(
    "name, value, allowed",
    [
        ("epochs", -1, "an integer >= 1"),
        ("epochs", 2.5, "an integer >= 1"),
        ("batch_size", 0, "an integer >= 1"),
        ("lr", "abc", "a number > 0"),
        ("lr", 0, "a number > 0"),
        ("lr", float("nan"), "a number > 0"),
        ("momentum", 1.0, "< 1"),
        ("epochs", 1001, "an integer >= 1 and <= 1000"),
        ("momentum", -0.1, "a number >= 0 and < 1"),
        ("schedule", "warp", "one of ['none', 'onecycle', 'cosine', 'step']"),
        ("hidden", [128, -4], "non-empty list of positive integers"),
        ("hidden", "128,64", "non-empty list of positive integers"),
        ("hidden", [], "non-empty list of positive integers"),
        ("augment", "yes", "True or False"),
        ("device", "tpu", "one of 'auto', 'cpu', 'mps', 'cuda' or 'cuda:N'"),
        ("device", "cuda:x", "one of 'auto', 'cpu', 'mps', 'cuda' or 'cuda:N'"),
        ("subset", 0, "an integer >= 1 (or None)"),
        ("blur_sigmas", [0, -1], "list of numbers >= 0"),
        ("study_name", 3, "a string (or None)"),
    ],
)
def test_bad_values_name_parameter_value_and_rule(name, value, allowed):
    with pytest.raises(ValueError) as err:
        validate_params({name: value})
    msg = str(err.value)
    assert msg.startswith(f"Parameter {name}=") and allowed in msg


def test_a_data_folder_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    for name in ("data_root", "artifacts"):
        with pytest.raises(ValueError, match=f"Parameter {name}=.* it must be a folder, but .* is a file"):
            validate_params({name: str(f)})


def test_good_values_are_normalised():
    p = validate_params(
        {
            "epochs": 3.0,
            "lr": 1,
            "schedule": "OneCycle",
            "hidden": (32, 16),
            "subset": None,
            "data_root": None,
            "seed": 0,
            "device": "CUDA:1",
        }
    )
    assert p["epochs"] == 3 and isinstance(p["epochs"], int)
    assert p["lr"] == 1.0 and isinstance(p["lr"], float)
    assert p["schedule"] == "onecycle" and p["hidden"] == [32, 16] and p["subset"] is None
    assert p["device"] == "cuda:1"  # the check takes the GPU numbers that runtime.choose_device takes
    assert p["data_root"].endswith("data")
    assert validate_params({"artifacts": Path("/tmp/x")})["artifacts"] == "/tmp/x"  # a Path is a folder path too


def test_unknown_parameter_names_are_refused():
    with pytest.raises(ValueError, match=r"Unknown parameter\(s\) \['epoch'\]"):
        validate_params({"epoch": 3})
