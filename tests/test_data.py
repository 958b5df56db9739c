"""Data: the mirror copy, damaged files named, the split, the paths, and the in-memory loader."""

from __future__ import annotations

import pytest
import torch
from conftest import N_TEST, N_TRAIN
from torch.utils.data import DataLoader, TensorDataset
from torchvision import datasets, transforms

from mnist_lab import data, runtime


def test_a_mirror_is_copied_checked_and_extracted_by_torchvision(tmp_path, tiny_mirror):
    mirror, t = tiny_mirror
    root = data.get_mnist(tmp_path / "d", mirror=mirror)
    raw = root / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(list(data.FILES) + [n[:-3] for n in data.FILES])
    s = data.load_splits(root, val_size=20)
    assert (len(s.train_labels), len(s.val_labels), len(s.test_labels)) == (N_TRAIN - 20, 20, N_TEST)
    assert s.train_images.shape[1:] == (1, 28, 28) and s.train_images.dtype == torch.float32
    assert torch.equal(s.test_images[:, 0], t["test_x"].float() / 255) and torch.equal(s.test_labels, t["test_y"])


def test_the_mirror_and_the_data_root_can_come_from_the_environment(tmp_path, tiny_mirror, monkeypatch):
    monkeypatch.setenv(runtime.MIRROR_ENV, str(tiny_mirror[0]))
    monkeypatch.setenv(runtime.DATA_ENV, str(tmp_path / "envroot"))
    assert data.get_mnist() == tmp_path / "envroot"
    assert (tmp_path / "envroot" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").is_file()


def test_in_memory_images_equal_totensor(tiny_root):
    ds = datasets.MNIST(tiny_root, train=True, transform=transforms.ToTensor())
    fast = data.to_float_images(ds.data)
    for i in range(len(ds)):
        image, label = ds[i]
        assert torch.equal(image, fast[i]) and label == int(ds.targets[i])


def test_no_files_and_no_network_is_an_error_that_lists_the_ways(tmp_path, tiny_mirror):
    with pytest.raises(data.DatasetError) as err:
        data.get_mnist(tmp_path / "empty")
    for needle in ("could not be downloaded", "MNIST_LAB_MIRROR", "train-images-idx3-ubyte.gz", "copy them into"):
        assert needle in str(err.value)


def test_a_damaged_mirror_file_is_named_and_not_copied(tmp_path, tiny_mirror):
    mirror, _ = tiny_mirror
    bad = mirror / "train-labels-idx1-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:-10])  # truncated
    with pytest.raises(data.DatasetError, match=r"mirror/train-labels-idx1-ubyte.gz is damaged: its MD5 is not"):
        data.get_mnist(tmp_path / "d", mirror=mirror)
    assert not (tmp_path / "d" / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz").exists()
    bad.unlink()
    with pytest.raises(data.DatasetError, match=r"train-labels-idx1-ubyte.gz is missing: MNIST_LAB_MIRROR must"):
        data.get_mnist(tmp_path / "e", mirror=mirror)


def test_a_damaged_file_in_the_data_root_is_named(tmp_path, tiny_mirror):
    raw = tmp_path / "d" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(b"not a gzip file")
    with pytest.raises(data.DatasetError, match=r"raw/t10k-images-idx3-ubyte.gz is damaged.*Delete it and run again"):
        data.get_mnist(tmp_path / "d", mirror=tiny_mirror[0])
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(data.DatasetError, match="is a file, not a folder"):
        data.get_mnist(f)


def test_the_split_is_fixed_disjoint_and_complete():
    train_idx, val_idx = data.split_indices(100, 10)
    assert torch.equal(val_idx, data.split_indices(100, 10)[1]) and len(val_idx) == 10
    assert sorted(train_idx.tolist() + val_idx.tolist()) == list(range(100))
    with pytest.raises(ValueError, match="val_size=100"):
        data.split_indices(100, 100)


def test_subset_is_a_seeded_sample_of_each_split_in_its_order(tiny_root):
    full, part = data.load_splits(tiny_root, val_size=20), data.load_splits(tiny_root, val_size=20, subset=10)
    assert (len(part.train_labels), len(part.val_labels), len(part.test_labels)) == (10, 10, 10)
    rows = {tuple(x.flatten().tolist()): i for i, x in enumerate(full.test_images)}
    picked = [rows[tuple(x.flatten().tolist())] for x in part.test_images]
    assert picked == sorted(picked) and max(picked) >= 10  # from the whole split, not the first ten
    assert torch.equal(data.load_splits(tiny_root, val_size=20, subset=10).train_labels, part.train_labels)


def test_the_tensor_loader_gives_the_batches_of_a_dataloader(tiny_root):
    s = data.load_splits(tiny_root, val_size=20)
    plain = DataLoader(TensorDataset(s.val_images, s.val_labels), batch_size=7)
    fast = data.TensorLoader(s.val_images, s.val_labels, batch_size=7)
    assert len(fast) == len(plain) == 3
    for (fx, fy), (px, py) in zip(fast, plain, strict=True):
        assert torch.equal(fx, px) and torch.equal(fy, py)


def test_the_shuffle_is_seeded_by_epoch_so_a_resumed_run_sees_the_same_batches(tiny_root):
    train, _, _ = data.make_loaders(tiny_root, batch_size=8, val_size=20)
    orders = []
    for epoch in (1, 2, 1):
        train.set_epoch(epoch)
        orders.append(torch.cat([labels for _, labels in train]))
    assert torch.equal(orders[0], orders[2]) and not torch.equal(orders[0], orders[1])
    assert torch.equal(orders[0].sort().values, orders[1].sort().values)
    with pytest.raises(ValueError, match="batch_size=0"):
        data.TensorLoader(torch.zeros(4, 1, 28, 28), torch.zeros(4), batch_size=0)


def test_paths_in_a_checkout_do_not_depend_on_the_current_folder(tmp_path, monkeypatch):
    for name in (runtime.DATA_ENV, runtime.ARTIFACTS_ENV):
        monkeypatch.delenv(name, raising=False)
    here = runtime.data_root(), runtime.artifacts_dir()
    monkeypatch.chdir(tmp_path)
    assert (runtime.data_root(), runtime.artifacts_dir()) == here == (runtime.checkout() / "data", here[1])
    assert runtime.data_root("rel") == runtime.checkout() / "rel"


def test_outside_a_checkout_data_goes_to_a_user_folder_and_artifacts_beside_the_notebook(tmp_path, monkeypatch):
    for name in (runtime.DATA_ENV, runtime.ARTIFACTS_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(runtime, "checkout", lambda: None)  # installed from a wheel
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    assert runtime.data_root() == tmp_path / "cache" / "mnist-lab"
    assert runtime.artifacts_dir() == tmp_path / "artifacts"
    monkeypatch.setenv(runtime.DATA_ENV, str(tmp_path / "shared-data"))
    assert runtime.data_root() == tmp_path / "shared-data"


def test_json_files_are_written_whole_or_not_at_all_without_touching_the_umask(tmp_path, monkeypatch):
    import os

    monkeypatch.setattr(os, "umask", lambda *a: pytest.fail("the process umask was changed (other threads see it)"))
    path = runtime.write_json(tmp_path / "m.json", {"a": 1})

    def fail(tmp):
        tmp.write_text("{half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        runtime.replace_file(path, fail)
    assert runtime.read_json(path) == {"a": 1} and [p.name for p in tmp_path.iterdir()] == ["m.json"]
