"""Models (shapes, parameter counts), metrics and augmentation."""

from __future__ import annotations

import pytest
import torch

from mnist_lab import augment, metrics, models


def test_default_mlp_is_784_128_64_10_with_109386_parameters():
    m = models.MLP()
    assert models.count_parameters(m) == 109_386
    shapes = [tuple(p.shape) for p in m.parameters()]
    assert shapes == [(128, 784), (128,), (64, 128), (64,), (10, 64), (10,)]
    assert [type(layer).__name__ for layer in m.layers] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]


def test_mlp_accepts_images_and_flat_rows_with_the_same_result():
    m = models.MLP()
    x = torch.rand(5, 1, 28, 28)
    assert m(x).shape == (5, 10)
    assert torch.equal(m(x), m(x.reshape(5, 784)))
    assert m.layers[:-1](x.flatten(1)).shape == (5, 64)


def test_hidden_sizes_are_configurable_and_validated():
    m = models.MLP(hidden=[300, 100])
    assert models.count_parameters(m) == 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10
    assert models.build_model(m.config).config == m.config == {"name": "mlp", "hidden": [300, 100]}


def test_cnn_shapes_and_config_round_trip():
    m = models.CNN()
    assert m(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert m(torch.rand(3, 784)).shape == (3, 10)
    m2 = models.build_model(m.config)
    assert isinstance(m2, models.CNN) and m2.config == m.config == {"name": "cnn", "channels": [16, 32, 64]}
    assert models.count_parameters(m2) == 38_458


def test_cnn_has_38458_parameters_and_other_channels_work():
    assert models.count_parameters(models.CNN()) == 38_458
    assert models.CNN(channels=[4, 8, 8])(torch.rand(2, 784)).shape == (2, 10)


def test_without_batch_norm_keeps_the_kernels_and_gives_the_convolutions_a_bias():
    """Notebook 10's ablation row: batch norm gone, each convolution's kernels kept and a bias added."""
    model = models.CNN()
    kernels = [block[0].weight for block in model.features]
    plain = models.without_batch_norm(model)
    assert plain is model and not any(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
    assert all(block[0].weight is w and block[0].bias is not None for block, w in zip(plain.features, kernels))
    assert plain(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert models.count_parameters(plain) == 38_458 - 2 * (16 + 32 + 32 + 64) + (16 + 32 + 32 + 64)


def test_layer_table_lists_shapes_and_params():
    rows = models.layer_table(models.MLP(), torch.zeros(2, 1, 28, 28))
    assert [r["output"] for r in rows] == [(2, 128), (2, 128), (2, 64), (2, 64), (2, 10)]
    assert sum(r["params"] for r in rows) == 109_386


def test_accuracy_confusion_and_precision_recall_by_hand():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    preds = torch.tensor([0, 1, 1, 1, 2, 0])
    assert metrics.accuracy(preds, labels) == pytest.approx(4 / 6)
    cm = metrics.confusion_matrix(preds, labels, num_classes=3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    pr = metrics.precision_recall(cm)
    assert pr[0]["precision"] == pytest.approx(0.5) and pr[0]["recall"] == pytest.approx(0.5)
    assert pr[1]["precision"] == pytest.approx(2 / 3) and pr[1]["recall"] == pytest.approx(1.0)
    assert pr[2]["precision"] == pytest.approx(1.0) and pr[2]["recall"] == pytest.approx(0.5)
    assert [r["support"] for r in pr] == [2, 2, 2]
    assert metrics.most_confused(cm, k=2) == [(0, 1, 1), (2, 0, 1)]
    assert metrics.accuracy(torch.tensor([]), torch.tensor([])) == 0.0
    with pytest.raises(ValueError, match="labels must be classes 0 to 2, but range from 0 to 3; pass num_classes="):
        metrics.confusion_matrix(torch.tensor([0, 1]), torch.tensor([0, 3]), num_classes=3)
    with pytest.raises(ValueError, match="predictions must be classes 0 to 9, but range from -1 to 1"):
        metrics.confusion_matrix(torch.tensor([-1, 1]), torch.tensor([0, 1]))


def test_mean_std_over_seeds_and_the_noise_rule():
    mean, std = metrics.mean_std([0.90, 0.92, 0.94])
    assert mean == pytest.approx(0.92) and std == pytest.approx(0.02)  # the sample standard deviation
    assert metrics.mean_std([0.95]) == pytest.approx((0.95, 0.0))  # one seed: no spread
    assert metrics.seed_verdict(0.03, 0.02) == "clear gain"
    assert metrics.seed_verdict(-0.03, 0.02) == "clear loss"
    assert metrics.seed_verdict(0.02, 0.02) == metrics.seed_verdict(-0.01, 0.02) == "within the seed spread"


def test_shift_blur_noise_rotate():
    img = torch.zeros(1, 1, 28, 28)
    img[0, 0, 10, 10] = 1.0
    moved = augment.shift(img, 3, -2)
    assert moved[0, 0, 8, 13] == 1.0 and moved.sum() == 1.0
    blurred = augment.gaussian_blur(img, 1.0)
    assert blurred[0, 0, 10, 10] < 0.5 and blurred.sum() == pytest.approx(1.0, abs=1e-5)
    assert torch.equal(augment.gaussian_blur(img, 0), img)
    for sigma in (9.3, 50.0):  # a kernel wider than the image: blurs to nearly flat, keeping the ink
        wide = augment.gaussian_blur(img, sigma)
        assert wide.shape == img.shape and wide.max() < 0.01 and wide.sum() == pytest.approx(1.0, abs=0.1)
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    n1, n2 = augment.add_noise(img, 0.3, g1), augment.add_noise(img, 0.3, g2)
    assert torch.equal(n1, n2) and n1.min() >= 0 and n1.max() <= 1 and not torch.equal(n1, img)
    assert torch.allclose(augment.rotate(img, 0.0), img, atol=1e-6)
    r90 = augment.rotate(img, 90.0)
    assert r90.argmax() != img.argmax() and r90.sum() == pytest.approx(1.0, abs=1e-4)


def test_random_augment_is_seeded_and_keeps_shape():
    x = torch.rand(8, 1, 28, 28)
    torch.manual_seed(1)
    a = augment.random_augment(x, 2, 10)
    torch.manual_seed(1)
    b = augment.Augment(2, 10)(x)
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, x)
    assert torch.allclose(augment.random_augment(x, 0, 0), x, atol=1e-5)
