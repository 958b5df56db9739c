"""One device rule, tested without a GPU: the data stays on the CPU, the model and each batch
move to the device, and predictions come back to the CPU before they meet labels.

The stand-in accelerator of tests/device_check.py makes a mixed operation fail here as it
would on cuda or mps; the papermill tests run every notebook on it too.
"""

from __future__ import annotations

import pytest
import torch
from device_check import SHADOW, DeviceMixError, ShadowDevice, on_shadow

from mnist_lab import augment, course, data, models, train
from mnist_lab.augment import Augment


def tiny_loaders(n: int = 96):
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(n, 1, 28, 28, generator=gen), torch.randint(0, 10, (n,), generator=gen)
    return data.TensorLoader(x, y, 16, shuffle=True), data.TensorLoader(x, y, 32)


def test_the_stand_in_accelerator_catches_what_cuda_would_refuse():
    model, (_, loader) = models.MLP(hidden=[8]), tiny_loaders()
    images, labels = next(iter(loader))
    with torch.no_grad():
        on_the_cpu = model(images).argmax(1)  # the same model, computed where no stand-in is involved
    with ShadowDevice():
        model.to(SHADOW)
        with pytest.raises(DeviceMixError):
            model(images)  # a CPU batch into a model on the device
        preds = model(images.to(SHADOW)).argmax(1)
        assert on_shadow(preds)
        with pytest.raises(DeviceMixError):
            (preds == labels).sum()  # predictions on the device against labels on the CPU
        with pytest.raises(DeviceMixError):
            preds.numpy()
        # brought back, the predictions are what the CPU computes: the stand-in moves tensors, it changes no value
        assert torch.equal(preds.cpu(), on_the_cpu) and not on_shadow(preds.cpu())
        assert (preds.cpu() == labels).sum().item() == (on_the_cpu == labels).sum().item()
        assert preds.device == SHADOW and not on_shadow(labels)


def stop_at_2(model, row):
    if row["epoch"] == 2:
        raise KeyboardInterrupt


def test_fit_evaluate_and_predict_on_a_device_with_data_on_the_cpu(tmp_path):
    train_loader, val_loader = tiny_loaders()
    mlp, cnn = models.MLP(hidden=[16]), models.CNN(channels=[4, 8, 8])
    mlp_recipe = dict(lr=0.05, momentum=0.9, weight_decay=5e-4, schedule="onecycle", device=SHADOW, verbose=False)
    with ShadowDevice():
        with pytest.raises(train.TrainingInterrupted):  # Ctrl-C after epoch 1, on the device
            train.fit(
                mlp,
                train_loader,
                val_loader,
                epochs=3,
                checkpoint=tmp_path / "mlp.pt",
                on_epoch_end=stop_at_2,
                **mlp_recipe,
            )
        train.fit(
            cnn,
            train_loader,
            val_loader,
            epochs=1,
            lr=0.05,
            momentum=0.9,
            schedule="onecycle",
            device=SHADOW,
            augment=Augment(2, 10.0),
            verbose=False,
        )
        logits, labels = train.predict(cnn, val_loader, SHADOW)
        assert not on_shadow(logits) and logits.shape == (96, 10) and torch.equal(labels, val_loader.labels)
        accuracy = train.evaluate(mlp, val_loader, device=SHADOW)["accuracy"]
        assert accuracy == (train.predict(mlp, val_loader, SHADOW)[0].argmax(1) == labels).sum().item() / 96
        blurred = data.TensorLoader(augment.gaussian_blur(val_loader.images, 1.5), val_loader.labels, 32)
        on_blurred = train.evaluate(mlp, blurred, device=SHADOW)  # damaged copies made on the CPU
        # resume on the device: the checkpoint (and its RNG state) is read on the CPU
        resumed = models.MLP(hidden=[16])
        history = train.fit(resumed, train_loader, val_loader, epochs=3, resume=tmp_path / "mlp.pt", **mlp_recipe)
        assert [h["epoch"] for h in history] == [1, 2, 3]
    assert not on_shadow(train_loader.images)  # the data never moved
    # The evaluation on the device counts what the same model, computed on the CPU alone, gets right.
    mlp.cpu()
    with torch.no_grad():
        logits = mlp(blurred.images)
    right = (logits.argmax(1) == blurred.labels).sum().item()
    loss = torch.nn.functional.cross_entropy(logits, blurred.labels).item()
    assert not torch.equal(blurred.images, val_loader.images)
    assert on_blurred["accuracy"] == right / len(blurred.labels)
    assert on_blurred["loss"] == pytest.approx(loss, rel=1e-5)


def test_course_loaders_keep_the_data_on_the_cpu_whatever_the_device(tiny_root):
    recipe = {**course.RECIPES["mlp"], "val_size": 20}
    loaders = course.loaders(recipe, tiny_root)
    assert [loader.images.device.type for loader in loaders] == ["cpu"] * 3
    assert [loader.labels.device.type for loader in loaders] == ["cpu"] * 3
