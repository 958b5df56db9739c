"""The training loop: learning, determinism, checkpoints, NaN stop, interrupt and resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mnist_lab import augment, data, models, runtime, train


def blobs(n: int = 400, seed: int = 0):
    """Two well separated classes in 784 dimensions (a tiny separable problem)."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=gen)
    centers = torch.zeros(2, 784)
    centers[0, :392], centers[1, 392:] = 0.6, 0.6
    x = centers[y] + 0.2 * torch.rand(n, 784, generator=gen)
    return x.reshape(n, 1, 28, 28), y


def loaders(seed: int = 0):
    x, y = blobs()
    return data.TensorLoader(x[:300], y[:300], 16, shuffle=True, seed=seed), data.TensorLoader(x[300:], y[300:], 50)


def run(epochs=3, **kw):
    runtime.seed_everything(0)
    tl, vl = loaders()
    model = models.MLP(hidden=[16, 8])
    kw.setdefault("lr", 0.05)
    hist = train.fit(model, tl, vl, epochs=epochs, device="cpu", progress=False, verbose=False, **kw)
    return model, hist


def test_fit_learns_a_separable_problem_and_reports_history():
    model, hist = run(epochs=4, momentum=0.9)
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]
    assert set(hist[0]) == {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds"}
    assert hist[-1]["val_accuracy"] == 1.0 and hist[-1]["train_loss"] < hist[0]["train_loss"]
    assert train.evaluate(model, loaders()[1])["accuracy"] == 1.0
    assert not model.training  # evaluate leaves it in eval mode


def test_fit_trains_any_module_and_writes_files_only_for_a_rebuildable_one(tmp_path):
    runtime.seed_everything(0)
    tl, vl = loaders()
    softmax_regression = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 2))  # notebook 03's baseline
    hist = train.fit(softmax_regression, tl, vl, epochs=2, lr=0.05, device="cpu", progress=False, verbose=False)
    assert hist[-1]["val_accuracy"] == 1.0
    path, before = tmp_path / "linear.pt", softmax_regression[1].weight.clone()
    with pytest.raises(train.CheckpointError, match=r"Not written to .*linear.pt: the model has no .config"):
        train.fit(
            softmax_regression, tl, vl, epochs=1, device="cpu", progress=False, verbose=False, checkpoint_path=path
        )
    assert not path.exists() and torch.equal(softmax_regression[1].weight, before)  # refused before training


def test_same_seed_gives_the_same_history_and_weights():
    m1, h1 = run(schedule="onecycle", momentum=0.9)
    m2, h2 = run(schedule="onecycle", momentum=0.9)
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert strip(h1) == strip(h2)
    for a, b in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(a, b)


def step_lrs(name: str, steps: int = 100, lr: float = 0.05) -> list[float]:
    opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=lr, momentum=0.9)
    sched = train.make_schedule(name, opt, steps)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert opt.param_groups[0]["momentum"] == 0.9, f"{name} must keep the momentum given"
    return lrs


def test_schedules_change_the_learning_rate_as_documented():
    onecycle = step_lrs("onecycle")
    assert onecycle[0] == pytest.approx(0.05 / 25)
    assert max(onecycle) == pytest.approx(0.05) and onecycle.index(max(onecycle)) == 14  # top after 15% of the steps
    assert onecycle[-1] < 0.05 / 100
    cosine = step_lrs("cosine")
    assert cosine[0] == 0.05 and cosine[50] == pytest.approx(0.025) and cosine[-1] < 0.001
    step = step_lrs("step")
    assert step[49] == 0.05 and step[50] == pytest.approx(0.005) and step[75] == pytest.approx(0.0005)
    for name in ("onecycle", "cosine", "step"):
        _, hist = run(epochs=4, schedule=name)
        lrs = [h["lr"] for h in hist]
        assert lrs[-1] < 0.05, name
    _, hist = run(epochs=2, schedule="none")
    assert [h["lr"] for h in hist] == [0.05, 0.05]
    with pytest.raises(ValueError, match="schedule='warp' is not known"):
        run(schedule="warp")


def test_loss_is_printed_every_n_steps(capsys):
    run(epochs=1, log_every=5)
    out = capsys.readouterr().out
    assert out.count("loss") == len(loaders()[0]) // 5
    assert "epoch 1 step     5/19  loss" in out


def test_checkpoint_round_trip_restores_the_model(tmp_path):
    model, hist = run(epochs=2)
    path = train.save_checkpoint(tmp_path / "ck.pt", model, epoch=2, history=hist, metrics={"test_accuracy": 1.0})
    restored, ckpt = train.load_checkpoint(path)
    assert isinstance(restored, models.MLP) and restored.config == model.config
    for a, b in zip(model.state_dict().values(), restored.state_dict().values()):
        assert torch.equal(a, b)
    assert ckpt["history"] == hist and ckpt["metrics"] == {"test_accuracy": 1.0}
    assert not list(tmp_path.glob(".*"))


def test_fit_writes_a_checkpoint_every_epoch(tmp_path):
    model, hist = run(epochs=2, checkpoint_path=tmp_path / "c.pt")
    ck = train.load_checkpoint(tmp_path / "c.pt")[1]
    assert ck["epoch"] == 2 and ck["history"] == hist


def shake(images):
    """Augmentation that draws from torch's global generator, as notebook 06's does."""
    return augment.random_augment(images, max_shift=2, max_rotation=10.0)


def test_resume_gives_the_same_result_as_an_uninterrupted_run(tmp_path):
    full_model, full_hist = run(epochs=4, momentum=0.9, schedule="onecycle", augment=shake)
    half = tmp_path / "half.pt"
    _interrupt_after(half, epochs_done=2, augment=shake)  # Ctrl-C in epoch 3 leaves the epoch-2 checkpoint
    torch.manual_seed(123)  # a different RNG state: resume must restore its own
    tl, vl = loaders()
    resumed = models.MLP(hidden=[16, 8])
    hist = train.fit(resumed, tl, vl, resume=half, augment=shake, **INTERRUPTED_RECIPE)
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert strip(hist) == strip(full_hist)
    for a, b in zip(full_model.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


def test_a_checkpoint_written_on_a_gpu_resumes_on_a_machine_without_one(tmp_path, monkeypatch):
    """A run interrupted on a GPU goes on on a laptop. On a GPU the optimizer's momentum buffers stay on the device,
    so the file tags them ``cuda:0`` (an H100's checkpoint of notebook 03 held six such tensors), and a plain
    ``torch.load`` refuses them on a machine without CUDA; ``load_checkpoint`` maps them to the CPU. The file is
    written here as a GPU writes it: the same checkpoint, its momentum buffers tagged ``cuda:0``."""
    full_model, _ = run(epochs=4, momentum=0.9, schedule="onecycle", augment=shake)
    checkpoint = _interrupt_after(tmp_path / "cpu.pt", epochs_done=2, augment=shake)[0].checkpoint
    on_gpu = {
        s["momentum_buffer"].untyped_storage().data_ptr() for s in checkpoint["optimizer_state"]["state"].values()
    }
    tag = torch.serialization.location_tag
    with monkeypatch.context() as m:
        m.setattr(torch.serialization, "location_tag", lambda s: "cuda:0" if s.data_ptr() in on_gpu else tag(s))
        torch.save(checkpoint, tmp_path / "gpu.pt")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA device"):
            torch.load(tmp_path / "gpu.pt", weights_only=True)
    torch.manual_seed(123)
    tl, vl = loaders()
    resumed = models.MLP(hidden=[16, 8])
    train.fit(resumed, tl, vl, resume=tmp_path / "gpu.pt", augment=shake, **INTERRUPTED_RECIPE)
    for a, b in zip(full_model.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


class _StopAfter:
    """A loader wrapper that raises KeyboardInterrupt in the middle of epoch ``stop_epoch``."""

    def __init__(self, inner, stop_epoch: int):
        self.inner, self.stop_epoch, self.epoch = inner, stop_epoch, 0

    def set_epoch(self, epoch):
        self.epoch = epoch
        self.inner.set_epoch(epoch)

    def __len__(self):
        return len(self.inner)

    def __iter__(self):
        for i, batch in enumerate(self.inner):
            if self.epoch == self.stop_epoch and i == 3:
                raise KeyboardInterrupt
            yield batch


#: The recipe of the interrupted runs and of the runs that resume them.
INTERRUPTED_RECIPE = dict(
    epochs=4, lr=0.05, momentum=0.9, schedule="onecycle", device="cpu", progress=False, verbose=False
)


def _interrupt_after(path, epochs_done: int, augment=None):
    """Train with a Ctrl-C in epoch ``epochs_done + 1``; return the TrainingInterrupted."""
    runtime.seed_everything(0)
    tl, vl = loaders()
    model = models.MLP(hidden=[16, 8])
    with pytest.raises(train.TrainingInterrupted) as err:
        train.fit(
            model, _StopAfter(tl, epochs_done + 1), vl, checkpoint_path=path, augment=augment, **INTERRUPTED_RECIPE
        )
    return err.value, model


def test_interrupt_keeps_history_and_the_last_completed_epoch(tmp_path):
    exc, model = _interrupt_after(tmp_path / "c.pt", epochs_done=2)
    assert "interrupted during epoch 3" in str(exc) and "resume" in str(exc)
    assert isinstance(exc, KeyboardInterrupt)
    assert [h["epoch"] for h in exc.history] == [1, 2]
    ck = train.load_checkpoint(tmp_path / "c.pt")[1]
    assert ck["epoch"] == 2 and ck["history"] == exc.history
    for k, v in model.state_dict().items():  # the model in memory is put back to epoch 2
        assert torch.equal(v, ck["state_dict"][k])
    assert exc.checkpoint["epoch"] == 2


def test_nan_loss_stops_with_advice_and_keeps_the_last_good_checkpoint(tmp_path):
    runtime.seed_everything(0)
    tl, vl = loaders()
    model = models.MLP(hidden=[16, 8])
    train.fit(
        model, tl, vl, epochs=1, lr=0.05, device="cpu", progress=False, verbose=False, checkpoint_path=tmp_path / "c.pt"
    )
    good = train.load_checkpoint(tmp_path / "c.pt")[1]
    random_state = torch.get_rng_state()
    with pytest.raises(train.TrainingDiverged, match="smaller learning rate") as err:
        train.fit(
            model,
            tl,
            vl,
            epochs=2,
            lr=1e20,
            momentum=0.9,
            device="cpu",
            progress=False,
            verbose=False,
            checkpoint_path=tmp_path / "c.pt",
            log_every=None,
            augment=shake,
        )  # shake draws random numbers
    assert "became nan in epoch 1 (by step 2)" in str(err.value) and "lr=1e+19" in str(err.value)  # the first NaN step
    assert torch.equal(torch.get_rng_state(), random_state)  # the random state is put back too
    kept = train.load_checkpoint(tmp_path / "c.pt")[1]
    assert kept["epoch"] == good["epoch"] == 1
    for k in good["state_dict"]:
        assert torch.equal(kept["state_dict"][k], good["state_dict"][k])
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_a_value_weights_only_cannot_load_is_refused_before_it_is_written(tmp_path):
    path = train.save_checkpoint(tmp_path / "c.pt", models.MLP(), epoch=1)
    before = path.read_bytes()
    with pytest.raises(train.CheckpointError, match=r"Not written to .*c.pt: .*float\(x\) for a NumPy number"):
        train.save_checkpoint(path, models.MLP(), epoch=2, history=[{"val_accuracy": np.float64(0.9)}])
    assert path.read_bytes() == before and not list(tmp_path.glob(".*"))


def test_shape_mismatch_names_the_tensors(tmp_path):
    path = train.save_checkpoint(tmp_path / "c.pt", models.MLP(hidden=[32, 16]))
    with pytest.raises(train.CheckpointError) as err:
        train.load_checkpoint(path, models.MLP())
    msg = str(err.value)
    assert "does not fit this model (config {'name': 'mlp', 'hidden': [128, 64]" in msg
    assert "layers.0.weight: copying a param with shape torch.Size([32, 784]) from checkpoint, " in msg
    assert "the shape in current model is torch.Size([128, 784])" in msg
    assert "layers.4.weight: copying a param with shape torch.Size([10, 16])" in msg


def test_newer_or_foreign_checkpoints_are_refused(tmp_path):
    torch.save({**train.make_checkpoint(models.MLP()), "version": train.CHECKPOINT_VERSION + 1}, tmp_path / "new.pt")
    with pytest.raises(train.CheckpointError, match="format version 2; this mnist_lab reads versions 1 to 1"):
        train.load_checkpoint(tmp_path / "new.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(train.CheckpointError, match="not an mnist_lab checkpoint"):
        train.load_checkpoint(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(train.CheckpointError, match="cannot be read"):
        train.load_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(FileNotFoundError, match="No checkpoint at"):
        train.load_checkpoint(tmp_path / "missing.pt")


def test_a_failed_write_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    path = train.save_checkpoint(tmp_path / "c.pt", models.MLP(), epoch=1)
    before = path.read_bytes()

    def broken_save(obj, f, *a, **k):
        with open(f, "wb") as fh:
            fh.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        train.save_checkpoint(path, models.MLP(), epoch=2)
    assert path.read_bytes() == before and not list(tmp_path.glob(".*"))
    monkeypatch.undo()
    runtime.write_json(tmp_path / "m.json", {"a": 1})
    assert runtime.read_json(tmp_path / "m.json") == {"a": 1}


def test_choose_device_prefers_available_and_refuses_unavailable(monkeypatch):
    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    choose_device = getattr(runtime.choose_device, "real", runtime.choose_device)  # not the stand-in's
    assert choose_device("cpu").type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert choose_device() == torch.device("cuda") and choose_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(ValueError, match=r"device='cuda:2' .* this machine has 2 GPUs \(cuda:0 to cuda:1\)"):
        choose_device("cuda:2")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert choose_device() == torch.device("cpu")
    with pytest.raises(ValueError, match="CUDA is not available"):
        choose_device("cuda")
    with pytest.raises(ValueError, match="not known"):
        choose_device("tpu")


def test_an_empty_training_loader_is_a_clear_error():
    empty = data.TensorLoader(torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long), 8)
    with pytest.raises(ValueError, match="yielded no batches"):
        train.fit(models.MLP(hidden=[4]), empty, None, epochs=1, device="cpu", progress=False, verbose=False)
