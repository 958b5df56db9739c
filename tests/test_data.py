"""Data: mirror copy, integrity checks, clear errors, the split, and loader equality."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import torch
from conftest import N_TEST, N_TRAIN
from torchvision import transforms

from mnist_lab import data, runtime


def test_mirror_copy_extracts_and_loads_the_same_pixels(tmp_path, tiny_mirror):
    mirror, md5s, t = tiny_mirror
    raw = data.ensure_mnist(tmp_path / "d", mirror=mirror, download=False, checksums=md5s)
    assert sorted(p.name for p in raw.iterdir()) == sorted(list(md5s) + [n[:-3] for n in md5s])
    assert not list(raw.glob(".*"))  # no temporary files left behind
    s = data.load_tensors(tmp_path / "d", val_size=20, mirror=mirror, download=False, checksums=md5s)
    assert s.sizes() == {"train": N_TRAIN - 20, "val": 20, "test": N_TEST}
    assert s.train_images.shape[1:] == (1, 28, 28) and s.train_images.dtype == torch.float32
    assert torch.equal(s.test_images[:, 0], t["test_x"].float() / 255)
    assert torch.equal(s.test_labels, t["test_y"].long())


def test_mirror_from_environment_variable(tmp_path, tiny_mirror, monkeypatch):
    mirror, md5s, _ = tiny_mirror
    monkeypatch.setenv(runtime.MIRROR_ENV, str(mirror))
    monkeypatch.setenv(runtime.DATA_ENV, str(tmp_path / "envroot"))
    raw = data.ensure_mnist(download=False, checksums=md5s)
    assert raw == tmp_path / "envroot" / "MNIST" / "raw"
    assert (raw / "t10k-labels-idx1-ubyte").is_file()


def test_in_memory_values_equal_totensor(tiny_root):
    root, kw = tiny_root
    ds = data.mnist_dataset(root, train=True, transform=transforms.ToTensor(), **kw)
    fast = data.to_float_images(ds.data)
    for i in range(len(ds)):
        img, label = ds[i]
        assert torch.equal(img, fast[i]), i
        assert label == int(ds.targets[i])


@pytest.mark.parametrize("batch_size", [1, 7, 32])
def test_fast_loader_yields_exactly_the_dataloader_batches(tiny_root, batch_size):
    root, kw = tiny_root
    common = dict(batch_size=batch_size, val_size=20, split_seed=3, seed=5, eval_batch_size=16)
    fast = data.make_loaders(root, fast=True, **common, **kw)
    slow = data.make_loaders(root, fast=False, **common, **kw)
    for f_loader, s_loader in zip(fast, slow):
        assert len(f_loader) == len(s_loader)
        for epoch in (1, 2):
            for ld in (f_loader, s_loader):
                for obj in (ld, getattr(ld, "sampler", None)):
                    if hasattr(obj, "set_epoch"):
                        obj.set_epoch(epoch)
            pairs = list(zip(f_loader, s_loader))
            assert len(pairs) == len(s_loader)
            for (fx, fy), (sx, sy) in pairs:
                assert torch.equal(fx, sx) and torch.equal(fy, sy)


def test_shuffle_differs_between_epochs_and_repeats_for_same_epoch(tiny_root):
    root, kw = tiny_root
    train, _, _ = data.make_loaders(root, batch_size=8, val_size=20, **kw)
    train.set_epoch(1)
    a = torch.cat([y for _, y in train])
    train.set_epoch(2)
    b = torch.cat([y for _, y in train])
    train.set_epoch(1)
    c = torch.cat([y for _, y in train])
    assert torch.equal(a, c) and not torch.equal(a, b)
    assert torch.equal(a.sort().values, b.sort().values)


def test_split_is_seeded_disjoint_and_complete():
    tr, va = data.split_indices(100, 10, seed=0)
    tr2, va2 = data.split_indices(100, 10, seed=0)
    assert torch.equal(tr, tr2) and torch.equal(va, va2)
    assert len(va) == 10 and len(set(tr.tolist()) | set(va.tolist())) == 100
    assert not set(tr.tolist()) & set(va.tolist())
    assert not torch.equal(va, data.split_indices(100, 10, seed=1)[1])
    with pytest.raises(ValueError, match="val_size=100"):
        data.split_indices(100, 100)


def test_missing_files_without_network_lists_the_ways(tmp_path):
    with pytest.raises(data.DatasetError) as err:
        data.ensure_mnist(tmp_path / "empty", download=False)
    msg = str(err.value)
    for needle in (
        "train-images-idx3-ubyte.gz",
        "make data",
        "MNIST_LAB_MIRROR",
        "Copy the four files",
        str(tmp_path / "empty" / "MNIST" / "raw"),
    ):
        assert needle in msg


def test_failed_download_is_reported_with_the_ways(tmp_path, monkeypatch):
    from torchvision.datasets import MNIST

    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])  # nothing listens there: refused at once
    with pytest.raises(data.DatasetError) as err:
        data.ensure_mnist(tmp_path / "r", download=True)
    assert "download failed" in str(err.value) and "MNIST_LAB_MIRROR" in str(err.value)
    assert not [p for p in (tmp_path / "r" / "MNIST" / "raw").iterdir()]  # nothing half-written


def test_corrupt_mirror_file_is_named_and_not_copied(tmp_path, tiny_mirror):
    mirror, md5s, _ = tiny_mirror
    bad = mirror / "train-labels-idx1-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:-10])  # truncated
    with pytest.raises(data.DatasetError, match="train-labels-idx1-ubyte.gz has MD5") as err:
        data.ensure_mnist(tmp_path / "d", mirror=mirror, download=False, checksums=md5s)
    assert "Replace it with a good copy" in str(err.value)
    raw = tmp_path / "d" / "MNIST" / "raw"
    assert not (raw / "train-labels-idx1-ubyte.gz").exists()
    assert not list(raw.glob(".*"))


def test_corrupt_gz_in_raw_is_moved_aside_and_fetched_again(tiny_root, tiny_mirror):
    root, kw = tiny_root
    raw = root / "MNIST" / "raw"
    (raw / "t10k-images-idx3-ubyte").unlink()
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(b"not a gzip file")
    with pytest.warns(UserWarning, match="t10k-images-idx3-ubyte.gz has MD5"):
        data.ensure_mnist(root, **kw)
    assert (raw / "t10k-images-idx3-ubyte.gz.corrupt").read_bytes() == b"not a gzip file"
    assert data.md5sum(raw / "t10k-images-idx3-ubyte.gz") == kw["checksums"]["t10k-images-idx3-ubyte.gz"]
    assert data.check_idx_file(raw / "t10k-images-idx3-ubyte") == (N_TEST, 28, 28)


def test_corrupt_gz_without_a_source_is_an_error_naming_the_file(tiny_root):
    root, kw = tiny_root
    raw = root / "MNIST" / "raw"
    (raw / "train-images-idx3-ubyte").unlink()
    (raw / "train-images-idx3-ubyte.gz").write_bytes(b"garbage")
    with pytest.warns(UserWarning), pytest.raises(data.DatasetError, match="train-images-idx3-ubyte.gz: "):
        data.ensure_mnist(root, download=False, checksums=kw["checksums"])
    assert not (raw / "train-images-idx3-ubyte.gz").exists()  # the bad file is not left to be used again


@pytest.mark.parametrize("damage", ["truncate", "magic"])
def test_bad_extracted_file_is_detected_and_rebuilt(tiny_root, damage):
    root, kw = tiny_root
    path = root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    blob = path.read_bytes()
    path.write_bytes(blob[:-100] if damage == "truncate" else b"\x00\x00\x08\x01" + blob[4:])
    with pytest.raises(data.DatasetError, match="train-images-idx3-ubyte"):
        data.check_idx_file(path)
    with pytest.warns(UserWarning, match="train-images-idx3-ubyte"):
        data.ensure_mnist(root, **kw)
    assert path.read_bytes() == blob
    assert (path.parent / "train-images-idx3-ubyte.corrupt").exists()


def test_gz_that_decompresses_to_a_wrong_file_is_named(tmp_path, tiny_mirror):
    mirror, md5s, _ = tiny_mirror
    blob = gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 20, mtime=0)
    (mirror / "train-images-idx3-ubyte.gz").write_bytes(blob)
    import hashlib

    md5s = dict(md5s, **{"train-images-idx3-ubyte.gz": hashlib.md5(blob).hexdigest()})
    with pytest.raises(data.DatasetError, match="train-images-idx3-ubyte.gz decompresses to a bad IDX file"):
        data.ensure_mnist(tmp_path / "d", mirror=mirror, download=False, checksums=md5s)
    assert not (tmp_path / "d" / "MNIST" / "raw" / "train-images-idx3-ubyte").exists()


def test_data_root_that_is_a_file_and_bad_mirror_are_clear_errors(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(data.DatasetError, match="is a file, not a folder"):
        data.ensure_mnist(f)
    with pytest.raises(data.DatasetError, match="MNIST_LAB_MIRROR=.* is not a folder"):
        data.ensure_mnist(tmp_path / "d", mirror=tmp_path / "nope")


def test_paths_do_not_depend_on_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.delenv(runtime.DATA_ENV, raising=False)
    monkeypatch.delenv(runtime.ARTIFACTS_ENV, raising=False)
    a = runtime.data_root(), runtime.artifacts_dir(create=False)
    monkeypatch.chdir(tmp_path)
    assert (runtime.data_root(), runtime.artifacts_dir(create=False)) == a
    assert a[0] == runtime.repo_root() / "data"
    assert runtime.data_root("rel") == runtime.repo_root() / "rel"


def test_tensor_loader_rejects_bad_arguments():
    with pytest.raises(ValueError, match="batch_size=0"):
        data.TensorLoader(torch.zeros(4, 1, 28, 28), torch.zeros(4), batch_size=0)
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        data.TensorLoader(torch.zeros(4, 1, 28, 28), torch.zeros(3))
    ld = data.TensorLoader(torch.zeros(10, 1, 28, 28), torch.zeros(10), batch_size=4)
    assert len(ld) == 3 and [x.shape[0] for x, _ in ld] == [4, 4, 2]


def test_an_interrupted_copy_never_looks_complete(tmp_path, tiny_mirror, monkeypatch):
    mirror, md5s, _ = tiny_mirror
    real_copy = data.shutil.copyfile

    def copy_then_ctrl_c(src, dst):
        Path(dst).write_bytes(Path(src).read_bytes()[:50])  # half the file...
        raise KeyboardInterrupt  # ...then Ctrl-C

    monkeypatch.setattr(data.shutil, "copyfile", copy_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        data.ensure_mnist(tmp_path / "d", mirror=mirror, download=False, checksums=md5s)
    raw = tmp_path / "d" / "MNIST" / "raw"
    assert list(raw.iterdir()) == []  # neither the partial file nor a temporary one is left
    monkeypatch.setattr(data.shutil, "copyfile", real_copy)
    data.ensure_mnist(tmp_path / "d", mirror=mirror, download=False, checksums=md5s)  # a rerun completes
    assert data.check_idx_file(raw / "train-images-idx3-ubyte") == (N_TRAIN, 28, 28)


def test_subset_is_a_seeded_random_sample_of_each_split(tiny_root):
    root, kw = tiny_root
    full = data.load_tensors(root, val_size=20, **kw)
    part = data.load_tensors(root, val_size=20, subset=10, **kw)
    assert part.sizes() == {"train": 10, "val": 10, "test": 10}
    assert not torch.equal(part.test_images, full.test_images[:10])  # not the first ten (the easier ones)
    rows = {tuple(x.flatten().tolist()): i for i, x in enumerate(full.test_images)}
    picked = [rows[tuple(x.flatten().tolist())] for x in part.test_images]
    assert picked == sorted(picked) and max(picked) >= 10  # a sample from the whole split, in its order
    again = data.load_tensors(root, val_size=20, subset=10, **kw)
    assert torch.equal(again.train_images, part.train_images) and torch.equal(again.test_labels, part.test_labels)


def test_each_download_has_its_own_temporary_folder(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils

    folders = []

    def fake_download(url, root, filename, md5):
        folders.append(root)
        raise OSError("offline")

    monkeypatch.setattr(tv_utils, "download_url", fake_download)
    for _ in range(2):  # two runs at once would each get their own
        with pytest.raises(data.DatasetError):
            data.ensure_mnist(tmp_path / "r", download=True)
    assert len(set(folders)) == len(folders) > 1
    assert not list((tmp_path / "r" / "MNIST" / "raw").iterdir())  # and each is removed afterwards
