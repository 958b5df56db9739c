"""The training loop: learning, determinism, schedules, checkpoints, NaN stop, interrupt and resume."""

from __future__ import annotations

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


#: The settings of the runs below (and of the runs that resume them).
RECIPE = dict(epochs=4, lr=0.05, momentum=0.9, schedule="onecycle", device="cpu", verbose=False)


def run(**kw):
    runtime.seed_everything(0)
    tl, vl = loaders()
    model = models.MLP(hidden=[16, 8])
    history = train.fit(model, tl, vl, **{**RECIPE, **kw})
    return model, history


def timeless(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def shake(images):
    """Augmentation that draws from torch's global generator, as notebook 10's does."""
    return augment.random_augment(images, max_shift=2, max_rotation=10.0)


def test_fit_learns_a_separable_problem_and_reports_history():
    model, hist = run()
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]
    assert set(hist[0]) == {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds"}
    assert hist[-1]["val_accuracy"] == 1.0 and hist[-1]["train_loss"] < hist[0]["train_loss"]
    assert train.evaluate(model, loaders()[1])["accuracy"] == 1.0 and not model.training


def test_fit_trains_any_module_and_its_checkpoint_loads_into_the_same_module(tmp_path):
    runtime.seed_everything(0)
    tl, vl = loaders()
    softmax_regression = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 2))  # notebook 05's baseline
    hist = train.fit(softmax_regression, tl, vl, checkpoint=tmp_path / "linear.pt", **RECIPE)
    assert hist[-1]["val_accuracy"] == 1.0
    other = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 2))
    train.load_checkpoint(tmp_path / "linear.pt", other)
    assert torch.equal(other[1].weight, softmax_regression[1].weight)
    with pytest.raises(ValueError, match=r"linear.pt holds weights this model cannot load"):
        train.load_checkpoint(tmp_path / "linear.pt")  # no model config to build one from


def test_same_seed_gives_the_same_history_and_weights():
    (m1, h1), (m2, h2) = run(augment=shake), run(augment=shake)
    assert timeless(h1) == timeless(h2)
    assert all(torch.equal(a, b) for a, b in zip(m1.parameters(), m2.parameters()))


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
    assert [h["lr"] for h in run(epochs=2, schedule="none")[1]] == [0.05, 0.05]
    with pytest.raises(ValueError, match="schedule='warp' is not known"):
        run(schedule="warp")


def test_the_loss_is_printed_every_n_steps_and_a_script_shows_the_bar_on_standard_error(capsys):
    run(epochs=1, log_every=5, progress=True)
    out, err = capsys.readouterr()
    assert out.count("  loss ") == len(loaders()[0]) // 5 and "epoch 1 step     5/19  loss" in out
    assert "epoch 1: 100%|" in err and "19/19" in err and "epoch 1: " not in out  # a notebook: tests/test_frontends


def test_fit_writes_a_checkpoint_every_epoch_with_its_recipe(tmp_path):
    model, hist = run(epochs=2, checkpoint=tmp_path / "c.pt", recipe={"hidden": [16, 8]})
    restored, ck = train.load_checkpoint(tmp_path / "c.pt")
    assert ck["epoch"] == 2 and ck["history"] == hist and ck["recipe"] == {"hidden": [16, 8]}
    assert isinstance(restored, models.MLP) and restored.config == model.config
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), restored.state_dict().values()))
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left


class StopAfter:
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


def interrupt_after(path, epochs_done: int, **kw):
    """Train with a Ctrl-C in epoch ``epochs_done + 1``; return the TrainingInterrupted and the model."""
    runtime.seed_everything(0)
    tl, vl = loaders()
    model = models.MLP(hidden=[16, 8])
    with pytest.raises(train.TrainingInterrupted) as err:
        train.fit(model, StopAfter(tl, epochs_done + 1), vl, checkpoint=path, **{**RECIPE, **kw})
    return err.value, model


def test_ctrl_c_keeps_the_history_and_the_last_finished_epoch(tmp_path):
    stop, model = interrupt_after(tmp_path / "c.pt", epochs_done=2)
    assert isinstance(stop, KeyboardInterrupt) and [h["epoch"] for h in stop.history] == [1, 2]
    assert "during epoch 3; the model is back at epoch 2, saved in c.pt" in str(stop) and "resume" in str(stop)
    ck = train.load_checkpoint(tmp_path / "c.pt")[1]
    assert ck["epoch"] == 2 and ck["history"] == stop.history
    assert all(torch.equal(v, ck["state_dict"][k]) for k, v in model.state_dict().items())


def test_resume_gives_the_same_result_as_an_uninterrupted_run(tmp_path):
    full_model, full_hist = run(augment=shake)
    interrupt_after(tmp_path / "half.pt", epochs_done=2, augment=shake)
    torch.manual_seed(123)  # another random state: resume must restore its own
    resumed = models.MLP(hidden=[16, 8])
    hist = train.fit(resumed, *loaders(), resume=tmp_path / "half.pt", augment=shake, **RECIPE)
    assert timeless(hist) == timeless(full_hist)
    assert all(torch.equal(a, b) for a, b in zip(full_model.parameters(), resumed.parameters()))


def test_resume_refuses_other_settings_instead_of_mixing_them(tmp_path):
    """Issue 26, defect 9: resuming used to keep the checkpoint's lr, momentum and weight decay silently while
    taking the new schedule length."""
    interrupt_after(tmp_path / "half.pt", epochs_done=2)
    for change in ({"lr": 0.1}, {"epochs": 6}, {"momentum": 0.5}, {"schedule": "cosine"}):
        with pytest.raises(ValueError, match=r"Cannot resume: the checkpoint was trained with .*this call"):
            train.fit(models.MLP(hidden=[16, 8]), *loaders(), resume=tmp_path / "half.pt", **{**RECIPE, **change})


def test_a_checkpoint_written_on_a_gpu_resumes_on_a_machine_without_one(tmp_path, monkeypatch):
    """On a GPU the optimizer's momentum buffers are tagged ``cuda:0`` in the file; ``load_checkpoint`` maps them
    to the CPU. The file is written here as a GPU writes it."""
    full_model, _ = run()
    interrupt_after(tmp_path / "cpu.pt", epochs_done=2)
    checkpoint = torch.load(tmp_path / "cpu.pt", weights_only=True)
    buffers = [state["momentum_buffer"] for state in checkpoint["optimizer_state"]["state"].values()]
    on_gpu = {buffer.untyped_storage().data_ptr() for buffer in buffers}
    tag = torch.serialization.location_tag
    with monkeypatch.context() as m:
        m.setattr(torch.serialization, "location_tag", lambda s: "cuda:0" if s.data_ptr() in on_gpu else tag(s))
        torch.save(checkpoint, tmp_path / "gpu.pt")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(tmp_path / "gpu.pt", weights_only=True)
    resumed = models.MLP(hidden=[16, 8])
    train.fit(resumed, *loaders(), resume=tmp_path / "gpu.pt", **RECIPE)
    assert all(torch.equal(a, b) for a, b in zip(full_model.parameters(), resumed.parameters()))


def test_a_nan_loss_stops_with_advice_and_puts_the_model_back(tmp_path):
    model, _ = run(epochs=1, checkpoint=tmp_path / "c.pt")
    good = {k: v.clone() for k, v in model.state_dict().items()}
    random_state = torch.get_rng_state()
    with pytest.raises(train.TrainingDiverged, match="smaller learning rate") as err:
        train.fit(model, *loaders(), **{**RECIPE, "lr": 1e20, "checkpoint": tmp_path / "other.pt"}, augment=shake)
    assert "at step 2 of epoch 1" in str(err.value) and "lr=1e+19 instead of 1e+20" in str(err.value)
    assert "put back to epoch 0" in str(err.value) and not (tmp_path / "other.pt").exists()
    assert torch.equal(torch.get_rng_state(), random_state)
    assert all(torch.equal(v, good[k]) for k, v in model.state_dict().items())


def test_loading_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="No checkpoint at .*missing.pt"):
        train.load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match="junk.pt is not a checkpoint torch.load can read"):
        train.load_checkpoint(tmp_path / "junk.pt")
    run(epochs=1, checkpoint=tmp_path / "small.pt")
    with pytest.raises(ValueError, match=r"(?s)small.pt .*size mismatch for layers.0.weight"):
        train.load_checkpoint(tmp_path / "small.pt", models.MLP())


def test_a_failed_write_leaves_the_old_checkpoint_whole(tmp_path, monkeypatch):
    run(epochs=1, checkpoint=tmp_path / "c.pt")
    before = (tmp_path / "c.pt").read_bytes()

    def broken_save(obj, f, *a, **k):
        open(f, "wb").write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        train.save_checkpoint(tmp_path / "c.pt", {"epoch": 2})
    assert (tmp_path / "c.pt").read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def test_choose_device_prefers_what_is_there_and_refuses_what_is_not(monkeypatch):
    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    choose_device = getattr(runtime.choose_device, "real", runtime.choose_device)  # not the stand-in's
    assert choose_device("cpu").type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert choose_device() == torch.device("cuda") and choose_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(ValueError, match=r"device='cuda:2' was asked for, but this machine has no such device"):
        choose_device("cuda:2")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    assert choose_device() == torch.device("cpu")
    with pytest.raises(ValueError, match="no such device"):
        choose_device("cuda")
    with pytest.raises(ValueError, match="not known"):
        choose_device("tpu")


def test_an_empty_training_loader_is_a_clear_error():
    empty = data.TensorLoader(torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long), 8)
    with pytest.raises(ValueError, match="gave no batches"):
        train.fit(models.MLP(hidden=[4]), empty, None, epochs=1, device="cpu", verbose=False)


def test_a_misspelt_or_unknown_argument_is_a_type_error_that_names_it():
    """Issue 31, defect 5: fit(..., log_evry=100) and fit(..., batch_size=64) used to be accepted and ignored."""
    tl, vl = loaders()
    for wrong in ({"log_evry": 100}, {"batch_size": 64}):
        with pytest.raises(TypeError, match=next(iter(wrong))):
            train.fit(models.MLP(hidden=[16, 8]), tl, vl, **RECIPE, **wrong)
    optimizer = torch.optim.SGD(models.MLP(hidden=[16, 8]).parameters(), lr=0.1)
    with pytest.raises(TypeError, match="progres"):
        train.train_one_epoch(models.MLP(hidden=[16, 8]), tl, optimizer, progres=True)
    with pytest.raises(TypeError):  # named only: a fourth positional argument is not silently the loss
        train.train_one_epoch(models.MLP(hidden=[16, 8]), tl, optimizer, torch.nn.CrossEntropyLoss())


def test_resume_restores_any_module_not_only_the_courses_two(tmp_path):
    """Issue 31, defect 6: an nn.Sequential trained with checkpoint= could not be resumed ("'NoneType' object is not
    iterable": fit rebuilt the model from a model_config that a student's module lacks)."""

    def sequential():
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))

    runtime.seed_everything(0)
    full = sequential()
    full_history = train.fit(full, *loaders(), **RECIPE)
    runtime.seed_everything(0)
    tl, vl = loaders()
    with pytest.raises(train.TrainingInterrupted):
        train.fit(sequential(), StopAfter(tl, 3), vl, checkpoint=tmp_path / "seq.pt", **RECIPE)
    torch.manual_seed(99)
    resumed = sequential()
    history = train.fit(resumed, *loaders(), resume=tmp_path / "seq.pt", **RECIPE)
    assert timeless(history) == timeless(full_history)
    assert all(torch.equal(a, b) for a, b in zip(full.parameters(), resumed.parameters()))
    with pytest.raises(ValueError, match="Cannot resume: the checkpoint holds another model's weights"):
        train.fit(models.MLP(hidden=[16, 8]), *loaders(), resume=tmp_path / "seq.pt", **RECIPE)
