"""On the real MNIST (the data root as `make data` leaves it): one epoch of the default MLP."""

from __future__ import annotations

import pytest
import torch

from mnist_lab import data, models, runtime, train


@pytest.mark.integration
def test_one_epoch_of_the_default_mlp_reaches_90_percent_on_full_mnist():
    runtime.seed_everything(0)
    tl, vl, te = data.make_loaders(batch_size=32, download=False)
    assert (len(tl.images), len(vl.images), len(te.images)) == (55_000, 5_000, 10_000)
    model = models.MLP()
    recipe = dict(train.DEFAULT_RECIPE, epochs=1)
    hist = train.fit(model, tl, vl, **recipe, device="cpu", progress=False, verbose=False)
    test_acc = train.evaluate(model, te, device="cpu")["accuracy"]
    print(f"one epoch of the default recipe: val {hist[0]['val_accuracy']:.4f} test {test_acc:.4f}")
    assert test_acc >= 0.90


@pytest.mark.integration
def test_real_files_are_verified_against_torchvisions_md5s():
    raw = runtime.data_root() / "MNIST" / "raw"
    for name, md5 in data.MNIST_FILES.items():
        assert data.md5sum(raw / name) == md5
    assert data.check_idx_file(raw / "train-images-idx3-ubyte") == (60_000, 28, 28)
    assert data.check_idx_file(raw / "t10k-labels-idx1-ubyte") == (10_000,)
    ds = data.mnist_dataset(train=False, download=False)
    assert torch.equal(data.to_float_images(ds.data[:5]), torch.stack([ds[i][0] for i in range(5)]))
