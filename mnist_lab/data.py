"""MNIST as tensors: getting the files, the split of notebook 01, and the in-memory loader of notebook 01b.

torchvision downloads the four MNIST files, checks each one's MD5 and extracts them. Without internet, a
folder holding the four ``.gz`` files (``mirror``, or ``$MNIST_LAB_MIRROR``) is copied into ``raw/`` first,
and torchvision then checks and extracts them with no network.
"""

from __future__ import annotations

import os
import shutil
from collections import namedtuple
from collections.abc import Iterator
from pathlib import Path

import torch
from torchvision import datasets
from torchvision.datasets.utils import check_integrity

from . import runtime

#: Evaluation needs no gradients, so it can read larger batches than training does.
EVAL_BATCH_SIZE = 500
FILES = dict(datasets.MNIST.resources)  #: the four ``.gz`` files and their MD5


class DatasetError(RuntimeError):
    """The MNIST files are missing or damaged. The message says which file, and how to fix it."""


def _check_file(name: str, md5: str, raw: Path, mirror: Path | None) -> None:
    """Copy ``name`` from ``mirror`` when ``raw`` lacks it (after checking its MD5); refuse a damaged ``.gz``."""
    gz, source = raw / name, mirror / name if mirror else None
    if gz.exists() or (raw / name.removesuffix(".gz")).exists() or source is None:
        if gz.exists() and not (raw / name.removesuffix(".gz")).exists() and not check_integrity(str(gz), md5):
            raise DatasetError(f"{gz} is damaged: its MD5 is not {md5}. Delete it and run again.")
    elif not source.is_file():
        raise DatasetError(f"{source} is missing: {runtime.MIRROR_ENV} must name a folder holding all four files.")
    elif not check_integrity(str(source), md5):
        raise DatasetError(f"{source} is damaged: its MD5 is not {md5}. Replace it with a good copy.")
    else:
        raw.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, gz)


def get_mnist(root: str | os.PathLike | None = None, mirror: str | os.PathLike | None = None) -> Path:
    """Put the four MNIST files in ``<root>/MNIST/raw``, checked and extracted; return the data root.

    ``root`` defaults to ``runtime.data_root()``; ``mirror`` (or ``$MNIST_LAB_MIRROR``) is a folder to copy the
    ``.gz`` files from instead of downloading them. A damaged file raises ``DatasetError`` naming it.
    """
    root = runtime.data_root(root)
    raw = root / "MNIST" / "raw"
    if root.exists() and not root.is_dir():
        raise DatasetError(f"The data root {root} is a file, not a folder: choose another data_root.")
    mirror = mirror or os.environ.get(runtime.MIRROR_ENV)
    for name, md5 in FILES.items():
        _check_file(name, md5, raw, Path(mirror).expanduser() if mirror else None)
    try:
        for train in (True, False):
            datasets.MNIST(root, train=train, download=True)
    except RuntimeError as exc:
        raise DatasetError(
            f"MNIST is not in {raw} and could not be downloaded. Ways to get it: connect to the internet and run "
            f"again; or set {runtime.MIRROR_ENV} to a folder holding the four files ({', '.join(FILES)}); or copy "
            f"them into {raw}."
        ) from exc
    return root


def to_float_images(pixels: torch.Tensor) -> torch.Tensor:
    """Return uint8 images ``(N, 28, 28)`` as floats ``(N, 1, 28, 28)`` in [0, 1], the values ``ToTensor()`` gives.
    Notebook 01 converts by hand and checks that they are equal; notebook 01b calls this copy."""
    return pixels.unsqueeze(1).to(torch.float32).div(255)


def split_indices(n: int, val_size: int = 5000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(train_idx, val_idx)``: a seeded random split of ``range(n)``, each part sorted. Notebook 01 draws this
    split by hand; notebook 01b calls this copy."""
    if not 0 <= val_size < n:
        raise ValueError(f"val_size={val_size} must be at least 0 and less than the {n} training images.")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[val_size:].sort().values, perm[:val_size].sort().values


def sample(indices: torch.Tensor, size: int | None, seed: int = 0) -> torch.Tensor:
    """Return a seeded random sample of ``size`` of ``indices``, in their order (all of them when ``size`` is None).
    Notebook 05b's ablation trains on such a sample."""
    if size is None or size >= len(indices):
        return indices
    keep = torch.randperm(len(indices), generator=torch.Generator().manual_seed(seed))[:size]
    return indices[keep.sort().values]


#: The three splits as tensors on the CPU: float images ``(N, 1, 28, 28)`` in [0, 1], int64 labels.
Splits = namedtuple("Splits", "train_images train_labels val_images val_labels test_images test_labels")


def load_splits(root: str | os.PathLike | None = None, val_size: int = 5000, subset: int | None = None) -> Splits:
    """Return the training file split into training and validation images (the same split every time), and the test
    images. ``subset`` keeps a seeded sample of that many images of each split, for quick runs."""
    root = get_mnist(root)
    train, test = (datasets.MNIST(root, train=t) for t in (True, False))
    train_idx, val_idx = split_indices(len(train.targets), val_size)
    parts = [(train, train_idx), (train, val_idx), (test, torch.arange(len(test.targets)))]
    tensors = []
    for ds, idx in parts:
        idx = sample(idx, subset)
        tensors += [to_float_images(ds.data[idx]), ds.targets[idx].long()]
    return Splits(*tensors)


class TensorLoader:
    """Batches sliced from tensors in memory: the fast loader notebook 01b writes and checks against ``DataLoader``.

    Iterating yields ``(images, labels)`` batches. With ``shuffle``, each epoch's order is a permutation seeded by
    ``(seed, epoch)``; ``set_epoch`` picks the epoch, so a resumed run sees the same batches.
    """

    def __init__(self, images, labels, batch_size: int = 32, shuffle: bool = False, seed: int = 0) -> None:
        if len(images) != len(labels) or batch_size < 1:
            raise ValueError(f"{len(images)} images, {len(labels)} labels, batch_size={batch_size}: check them.")
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.shuffle, self.seed, self.epoch = shuffle, seed, 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next pass yields."""
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-len(self.labels) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = torch.arange(len(self.labels))
        if self.shuffle:
            order = torch.randperm(
                len(order), generator=torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
            )
        self.epoch += 1
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            yield self.images.index_select(0, idx), self.labels.index_select(0, idx)


def make_loaders(
    root=None, batch_size: int = 32, val_size: int = 5000, subset: int | None = None, seed: int = 0
) -> tuple[TensorLoader, TensorLoader, TensorLoader]:
    """Return ``(train, val, test)`` loaders on the CPU: the training one shuffled with ``seed``, the others in
    batches of ``EVAL_BATCH_SIZE``. Notebooks 01 and 01b build them by hand."""
    s = load_splits(root, val_size, subset)
    return (
        TensorLoader(s.train_images, s.train_labels, batch_size, shuffle=True, seed=seed),
        TensorLoader(s.val_images, s.val_labels, EVAL_BATCH_SIZE),
        TensorLoader(s.test_images, s.test_labels, EVAL_BATCH_SIZE),
    )
