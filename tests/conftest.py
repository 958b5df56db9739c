"""Shared fixtures: a tiny MNIST in the real file format (gzip'd IDX: big-endian header, uint8 pixels)."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import pytest
import torch

N_TRAIN, N_TEST = 120, 40


def idx_images(images: torch.Tensor) -> bytes:
    """Return uint8 images (N, 28, 28) as an IDX3 file's bytes."""
    n, rows, cols = images.shape
    return struct.pack(">IIII", 2051, n, rows, cols) + images.to(torch.uint8).numpy().tobytes()


def idx_labels(labels: torch.Tensor) -> bytes:
    """Return uint8 labels (N,) as an IDX1 file's bytes."""
    return struct.pack(">II", 2049, labels.shape[0]) + labels.to(torch.uint8).numpy().tobytes()


def synthetic_digits(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (uint8 images, labels): class k is a bright block at a class-specific place, plus noise."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    labels = labels[torch.randperm(n, generator=gen)]
    images = torch.randint(0, 60, (n, 28, 28), generator=gen, dtype=torch.int64)
    for i, k in enumerate(labels.tolist()):
        r, c = 2 + (k // 5) * 12, 2 + (k % 5) * 5
        images[i, r : r + 6, c : c + 4] = 200 + k * 5
    return images.to(torch.uint8), labels


def pytest_addoption(parser):
    parser.addoption(
        "--stand-in-accelerator",
        action="store_true",
        help="device='auto' picks the stand-in accelerator of tests/device_check.py, as on a machine with a GPU",
    )


def pytest_configure(config):
    """With --stand-in-accelerator, the tests run as on a machine with a GPU: a test that mixes a tensor on the
    device with one on the CPU fails here, not first on a GPU (make test-fast runs the unit tests so)."""
    if config.getoption("--stand-in-accelerator"):
        import device_check

        device_check.install()


@pytest.fixture(autouse=True)
def no_mirror_from_the_environment(monkeypatch):
    """Tests say which mirror they use: CI exports MNIST_LAB_MIRROR for `make data`, and a test of "no files and
    no source" must not quietly find the real files through it."""
    monkeypatch.delenv("MNIST_LAB_MIRROR", raising=False)


@pytest.fixture()
def tiny_mirror(tmp_path: Path, monkeypatch) -> tuple[Path, dict[str, torch.Tensor]]:
    """A folder with the four MNIST .gz names holding a tiny synthetic set, whose MD5s torchvision and the library
    then expect (instead of the real files'); returns (folder, tensors)."""
    from torchvision import datasets

    from mnist_lab import data

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    tr_x, tr_y = synthetic_digits(N_TRAIN, 1)
    te_x, te_y = synthetic_digits(N_TEST, 2)
    files = {
        "train-images-idx3-ubyte.gz": idx_images(tr_x),
        "train-labels-idx1-ubyte.gz": idx_labels(tr_y),
        "t10k-images-idx3-ubyte.gz": idx_images(te_x),
        "t10k-labels-idx1-ubyte.gz": idx_labels(te_y),
    }
    md5s = {}
    for name, payload in files.items():
        blob = gzip.compress(payload, mtime=0)
        (mirror / name).write_bytes(blob)
        md5s[name] = hashlib.md5(blob).hexdigest()
    monkeypatch.setattr(datasets.MNIST, "resources", list(md5s.items()))
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])  # nothing listens there: refused at once
    monkeypatch.setattr(data, "FILES", md5s)
    return mirror, {"train_x": tr_x, "train_y": tr_y, "test_x": te_x, "test_y": te_y}


@pytest.fixture()
def tiny_root(tmp_path: Path, tiny_mirror) -> Path:
    """A data root holding the tiny set, checked and extracted."""
    from mnist_lab import data

    return data.get_mnist(tmp_path / "data", mirror=tiny_mirror[0])
