"""MNIST through torchvision: getting the files, checking them, and loading batches.

Two loaders give the same batches semantics:

* the teaching path, torchvision's ``MNIST`` + ``transforms.ToTensor()`` + ``DataLoader``
  (a PIL image per sample, converted one at a time), and
* ``TensorLoader``, the fast path: each split kept as one float tensor, batches sliced
  from a seeded permutation each epoch. Its values equal ``ToTensor()``'s exactly.

Getting the files never trusts what it finds: every ``.gz`` is MD5-checked, every
extracted file has its IDX header and size checked, and files are written under a
temporary name and renamed only when complete.
"""

from __future__ import annotations

import gzip
import os
import shutil
import struct
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Sampler, Subset

from . import runtime

#: Evaluation needs no gradients, so its batches can be larger than training's, but not too large on a CPU:
#: notebook 06's CNN read 10,000 images in 0.59 s in batches of 500 and 1.02 s in batches of 1,000 (2-core
#: EPYC; 200-625 all took about 0.6 s). The MLP takes 0.02 s either way.
EVAL_BATCH_SIZE = 500

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049


def _torchvision_resources() -> list[tuple[str, str]]:
    """Return torchvision's ``(filename, md5)`` list for MNIST."""
    from torchvision.datasets import MNIST

    return [(Path(name).name, md5) for name, md5 in MNIST.resources]


MNIST_FILES: dict[str, str] = dict(_torchvision_resources())


class DatasetError(RuntimeError):
    """The MNIST files are missing, corrupt or cannot be fetched. The message says how to fix it."""


def how_to_get_files(raw: Path) -> str:
    """Return the list of ways to put the MNIST files in ``raw`` (used in error messages)."""
    names = "\n".join(f"      {name}" for name in MNIST_FILES)
    return (
        "Ways to get the MNIST files:\n"
        "  1. Connect to the internet and run `make data` (torchvision downloads them).\n"
        f"  2. Point {runtime.MIRROR_ENV} at a folder holding the four .gz files, e.g.\n"
        f"       make data {runtime.MIRROR_ENV}=/path/to/MNIST/raw\n"
        f"  3. Copy the four files by hand into {raw}:\n{names}\n"
        f"  (The data root is {raw.parent.parent}; change it with {runtime.DATA_ENV}.)"
    )


def md5sum(path: Path) -> str:
    """Return the hex MD5 of the file at ``path`` (torchvision's own integrity check)."""
    from torchvision.datasets.utils import calculate_md5

    return calculate_md5(path)


def check_idx_file(path: Path, name: str | None = None) -> tuple[int, ...]:
    """Check an extracted IDX file's magic number and size; return its shape.

    Raises ``DatasetError`` naming the file when the header is wrong or the file is
    truncated or too long. ``name`` is the file name to judge by (default: the path's).
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        header = fh.read(8)
        if len(header) < 8:
            raise DatasetError(f"{path} is too short to be an IDX file ({size} bytes).")
        magic, count = struct.unpack(">II", header)
        if magic == IMAGE_MAGIC:
            dims = fh.read(8)
            if len(dims) < 8:
                raise DatasetError(f"{path} is truncated inside its header ({size} bytes).")
            rows, cols = struct.unpack(">II", dims)
            shape, header_len = (count, rows, cols), 16
        elif magic == LABEL_MAGIC:
            shape, header_len = (count,), 8
        else:
            raise DatasetError(
                f"{path} has magic number {magic}, not {IMAGE_MAGIC} (images) or {LABEL_MAGIC} (labels): "
                "it is not an MNIST IDX file."
            )
    expected = 1
    for d in shape:
        expected *= d
    expected += header_len
    if size != expected:
        raise DatasetError(
            f"{path} is {size} bytes but its header {shape} says {expected}: the file is "
            f"{'truncated' if size < expected else 'too long'}."
        )
    want_magic = IMAGE_MAGIC if "images" in (name or path.name) else LABEL_MAGIC
    if magic != want_magic:
        raise DatasetError(f"{path} has magic number {magic} but its name says it should be {want_magic}.")
    return shape


def _quarantine(path: Path) -> Path:
    """Move a bad file aside (``<name>.corrupt``) so that it is never used again; return the new path."""
    bad = path.with_name(path.name + ".corrupt")
    os.replace(path, bad)
    return bad


def _copy_verified(src: Path, dst: Path, md5: str) -> None:
    """Copy ``src`` to ``dst`` through a temporary name, checking the MD5 of the copy."""
    with runtime.atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
        got = md5sum(tmp)
        if got != md5:
            raise DatasetError(
                f"{src} has MD5 {got}, expected {md5}: the mirror's copy is corrupt or truncated. "
                "Replace it with a good copy of the file (or remove it and download)."
            )


def _download_verified(name: str, dst: Path, md5: str) -> None:
    """Download ``name`` from torchvision's MNIST mirrors to ``dst`` through a temporary name."""
    from torchvision.datasets import MNIST
    from torchvision.datasets.utils import download_url

    errors = []
    for mirror in MNIST.mirrors:
        tmp_dir = Path(tempfile.mkdtemp(prefix=f".download-{name}-", dir=dst.parent))  # one per process
        try:
            download_url(mirror + name, root=str(tmp_dir), filename=name, md5=md5)
            got = md5sum(tmp_dir / name)
            if got != md5:
                raise DatasetError(f"downloaded {name} has MD5 {got}, expected {md5}")
            os.replace(tmp_dir / name, dst)
            return
        except Exception as exc:  # network errors come in many types
            errors.append(f"{mirror}: {type(exc).__name__}: {exc}")
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)
    raise DatasetError("; ".join(errors))


def _extract(gz: Path, out: Path) -> None:
    """Decompress ``gz`` to ``out`` through a temporary name and check the IDX header."""
    with runtime.atomic_path(out) as tmp:
        try:
            with gzip.open(gz, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except (OSError, EOFError) as exc:
            raise DatasetError(f"{gz} cannot be decompressed ({exc}); it is corrupt.") from exc
        try:
            check_idx_file(tmp, name=out.name)
        except DatasetError as exc:
            raise DatasetError(
                f"{gz} decompresses to a bad IDX file: {str(exc).replace(str(tmp), out.name)} "
                "Replace the .gz with a good copy (or delete it and run `make data`)."
            ) from None


def ensure_mnist(
    root: str | os.PathLike | None = None,
    mirror: str | os.PathLike | None = None,
    download: bool = True,
    checksums: Mapping[str, str] | None = None,
) -> Path:
    """Make sure the four MNIST files are in ``<root>/MNIST/raw``, verified and extracted.

    For each file: an extracted file with a good header is used as it is; else the
    ``.gz`` is used if its MD5 matches; else it is copied from ``mirror`` (or
    ``$MNIST_LAB_MIRROR``); else downloaded (if ``download``). A corrupt file is moved
    aside to ``<name>.corrupt`` and never used. Returns the raw folder.

    ``checksums`` maps each ``.gz`` name to its MD5 (torchvision's by default; the unit
    tests pass their own for tiny fixture files).
    """
    checksums = dict(checksums or MNIST_FILES)
    root = runtime.data_root(root)
    if root.exists() and not root.is_dir():
        raise DatasetError(f"The data root {root} is a file, not a folder. Set {runtime.DATA_ENV} to a folder.")
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    mirror_value = mirror if mirror not in (None, "") else os.environ.get(runtime.MIRROR_ENV) or None
    mirror_dir = Path(mirror_value).expanduser() if mirror_value else None
    if mirror_dir is not None and not mirror_dir.is_dir():
        raise DatasetError(
            f"{runtime.MIRROR_ENV}={mirror_dir} is not a folder. Point it at the folder that holds "
            f"the four MNIST .gz files ({', '.join(checksums)})."
        )
    missing = [
        problem for name, md5 in checksums.items() if (problem := _ensure_file(raw, name, md5, mirror_dir, download))
    ]
    if missing:
        lines = "\n".join(f"  - {problem}" for problem in missing)
        raise DatasetError(
            f"MNIST files are missing from {raw} and could not be fetched:\n{lines}\n{how_to_get_files(raw)}"
        )
    return raw


def _ensure_file(raw: Path, name: str, md5: str, mirror_dir: Path | None, download: bool) -> str | None:
    """Put one verified, extracted MNIST file in ``raw``; return ``None``, or why it could not be fetched."""
    gz, out = raw / name, raw / name[: -len(".gz")]
    if out.exists():
        try:
            check_idx_file(out)
            return None
        except DatasetError as exc:
            warnings.warn(f"{exc} Moved it to {_quarantine(out).name}; extracting it again.", stacklevel=3)
    if gz.exists() and (got := md5sum(gz)) != md5:
        bad = _quarantine(gz)
        warnings.warn(
            f"{gz} has MD5 {got}, expected {md5} (truncated or wrong file). Moved it to {bad.name}; fetching it again.",
            stacklevel=3,
        )
    problems = []
    if not gz.exists() and mirror_dir is not None:
        if (mirror_dir / name).is_file():
            _copy_verified(mirror_dir / name, gz, md5)
        else:
            problems.append(f"not in the mirror {mirror_dir}")
    if not gz.exists():
        try:
            if not download:
                raise DatasetError("downloading is turned off")
            _download_verified(name, gz, md5)
        except DatasetError as exc:
            problems.append(f"download failed ({exc})" if download else str(exc))
            return f"{name}: " + "; ".join(problems)
    _extract(gz, out)
    return None


def mnist_dataset(root: str | os.PathLike | None = None, train: bool = True, transform=None, **ensure_kwargs):
    """Return torchvision's ``MNIST`` dataset (train or test) after ``ensure_mnist``.

    ``transform`` defaults to ``transforms.ToTensor()`` (pixels scaled to [0, 1]).
    Notebook 01 loads both splits with it.
    """
    from torchvision import datasets, transforms

    ensure_mnist(root, **ensure_kwargs)
    if transform is None:
        transform = transforms.ToTensor()
    return datasets.MNIST(str(runtime.data_root(root)), train=train, transform=transform, download=False)


def split_indices(n: int, val_size: int = 5000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(train_idx, val_idx)``: a seeded split of ``range(n)``, the same every time. Notebook 01 makes the
    validation split with it."""
    if not 0 <= val_size < n:
        raise ValueError(f"val_size={val_size} must be at least 0 and less than the {n} training images.")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[val_size:].sort().values, perm[:val_size].sort().values


def sample(indices: torch.Tensor, subset: int | None, seed: int = 0) -> torch.Tensor:
    """Return a seeded random sample of ``subset`` of ``indices``, kept in their order (all when ``subset`` is None).
    Notebook 03's ablation trains on such a sample."""
    if subset is None or subset >= len(indices):
        return indices
    keep = torch.randperm(len(indices), generator=torch.Generator().manual_seed(seed))[:subset]
    return indices[keep.sort().values]


def kept_indices(n_train: int, n_test: int, val_size: int, split_seed: int, subset: int | None) -> tuple:
    """Return ``(train_idx, val_idx, test_idx)``: the seeded split, each split a seeded sample of ``subset``."""
    train_idx, val_idx = split_indices(n_train, val_size, split_seed)
    return tuple(sample(idx, subset, split_seed) for idx in (train_idx, val_idx, torch.arange(n_test)))


class EpochSampler(Sampler[int]):
    """A random sampler whose order depends only on ``(seed, epoch)``.

    ``fit`` calls ``set_epoch`` before each epoch, so a resumed run sees the same
    batches as an uninterrupted one.
    """

    def __init__(self, n: int, seed: int = 0) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next iteration yields."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        gen = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        self.epoch += 1
        return iter(torch.randperm(self.n, generator=gen).tolist())

    def __len__(self) -> int:
        return self.n


class TensorLoader:
    """Batches sliced from tensors held in memory; the fast stand-in for a ``DataLoader``.

    Iterating yields ``(images, labels)`` with ``images`` of shape ``(B, 1, 28, 28)``
    in [0, 1]. With ``shuffle`` the order is a permutation seeded by ``(seed, epoch)``.
    Notebook 01 explains it and checks its batches against ``DataLoader``'s.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} labels.")
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size} must be a positive integer.")
        self.images, self.labels = images, labels
        self.batch_size, self.shuffle, self.seed, self.drop_last = batch_size, shuffle, seed, drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next iteration yields."""
        self.epoch = epoch

    def __len__(self) -> int:
        n, b = self.images.shape[0], self.batch_size
        return n // b if self.drop_last else -(-n // b)

    @property
    def num_samples(self) -> int:
        """Return the number of samples in one pass."""
        return len(self) * self.batch_size if self.drop_last else self.images.shape[0]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        images, labels, b = self.images, self.labels, self.batch_size
        if not self.shuffle:
            self.epoch += 1
            for i in range(len(self)):
                yield images[i * b : (i + 1) * b], labels[i * b : (i + 1) * b]
            return
        gen = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(images.shape[0], generator=gen).to(images.device)
        self.epoch += 1
        # Gather each batch when it is needed: cheaper than copying the whole shuffled set every epoch.
        for i in range(len(self)):
            idx = order[i * b : (i + 1) * b]
            yield images.index_select(0, idx), labels.index_select(0, idx)


def to_float_images(data: torch.Tensor) -> torch.Tensor:
    """Return uint8 images ``(N, 28, 28)`` as float ``(N, 1, 28, 28)`` in [0, 1], exactly as ``ToTensor()``. Notebook 01
    computes the pixel statistics with it."""
    return data.unsqueeze(1).to(torch.float32).div(255)


@dataclass
class MNISTSplits:
    """The three splits as tensors: float images ``(N, 1, 28, 28)`` in [0, 1] and int64 labels."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    val_images: torch.Tensor
    val_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor

    def sizes(self) -> dict[str, int]:
        """Return the number of images in each split."""
        return {
            "train": len(self.train_labels),
            "val": len(self.val_labels),
            "test": len(self.test_labels),
        }


def load_tensors(
    root: str | os.PathLike | None = None,
    val_size: int = 5000,
    split_seed: int = 0,
    subset: int | None = None,
    **ensure_kwargs,
) -> MNISTSplits:
    """Return all three splits as in-memory tensors (the fast path).

    ``subset`` keeps a seeded random sample of ``subset`` images of each split (for quick runs and tests;
    the first test images are easier than the rest, so they are not taken in order).
    Notebooks 05 and 07 read the splits with it.
    """
    train = mnist_dataset(root, train=True, **ensure_kwargs)
    test = mnist_dataset(root, train=False, **ensure_kwargs)
    raw, labels = train.data, train.targets.long()  # uint8: select first, convert only what is kept
    train_idx, val_idx, test_idx = kept_indices(len(labels), len(test.targets), val_size, split_seed, subset)
    test_raw, test_labels = test.data[test_idx], test.targets.long()[test_idx]
    return MNISTSplits(
        to_float_images(raw[train_idx]),
        labels[train_idx],
        to_float_images(raw[val_idx]),
        labels[val_idx],
        to_float_images(test_raw),
        test_labels,
    )


def make_loaders(
    root: str | os.PathLike | None = None,
    batch_size: int = 32,
    val_size: int = 5000,
    split_seed: int = 0,
    seed: int = 0,
    fast: bool = True,
    eval_batch_size: int = EVAL_BATCH_SIZE,
    subset: int | None = None,
    **ensure_kwargs,
) -> tuple:
    """Return ``(train_loader, val_loader, test_loader)``, on the CPU.

    ``fast=True`` gives ``TensorLoader``s (in memory); ``fast=False`` gives torchvision
    ``MNIST`` + ``ToTensor()`` + ``DataLoader``. Both use the same split and yield the
    same values; the training loader is shuffled with a ``(seed, epoch)`` order.
    Notebook 01 compares its two kinds of loader.
    """
    if fast:
        s = load_tensors(root, val_size, split_seed, subset, **ensure_kwargs)
        return (
            TensorLoader(s.train_images, s.train_labels, batch_size, shuffle=True, seed=seed),
            TensorLoader(s.val_images, s.val_labels, eval_batch_size),
            TensorLoader(s.test_images, s.test_labels, eval_batch_size),
        )
    train_full = mnist_dataset(root, train=True, **ensure_kwargs)
    test = mnist_dataset(root, train=False, **ensure_kwargs)
    train_idx, val_idx, test_idx = kept_indices(len(train_full), len(test), val_size, split_seed, subset)
    return (
        DataLoader(Subset(train_full, train_idx), batch_size, sampler=EpochSampler(len(train_idx), seed)),
        DataLoader(Subset(train_full, val_idx), eval_batch_size),
        DataLoader(Subset(test, test_idx), eval_batch_size),
    )
