"""The drawing pad of notebook 12c without a browser: rasterizing strokes, reading them, the widget."""

from __future__ import annotations

import pytest
import torch

from mnist_lab import course, draw


def in_field_coordinates(image: torch.Tensor) -> tuple[float, float]:
    """Return the centre of mass with pixel ``i`` covering [i, i + 1): the 28×28 field's centre is (14, 14)."""
    row, col = draw.center_of_mass(image)
    return row + 0.5, col + 0.5


def test_a_vertical_bar_lands_centred_in_the_20_pixel_box():
    image = draw.rasterize_strokes([[[100.0, 50.0], [100.0, 120.0], [100.0, 200.0]]])
    assert image.shape == (28, 28) and image.dtype == torch.float32
    assert float(image.min()) >= 0.0 and float(image.max()) <= 1.0
    row, col = in_field_coordinates(image)
    assert abs(row - 14) <= 1 and abs(col - 14) <= 1
    inked = (image > 0).nonzero()
    assert int(inked[:, 0].min()) == 4 and int(inked[:, 0].max()) == 23  # 20 pixels tall, 4 free above and below
    assert int(inked[:, 1].max() - inked[:, 1].min()) <= 3  # the aspect ratio is kept: still a thin bar


def test_the_same_drawing_anywhere_and_at_any_size_gives_the_same_digit():
    seven = draw.UNIT_DIGITS[7]
    small = [[[10 + 60 * x, 10 + 80 * y] for x, y in s] for s in seven]
    large = [[[50 + 150 * x, 40 + 200 * y] for x, y in s] for s in seven]
    a, b = draw.rasterize_strokes(small), draw.rasterize_strokes(large)
    assert float((a - b).abs().max()) < 0.15
    assert abs(in_field_coordinates(a)[0] - 14) <= 1 and abs(in_field_coordinates(a)[1] - 14) <= 1
    grey = ((a > 0) & (a < 1)).float().sum() / (a > 0).float().sum()
    assert grey > 0.3  # anti-aliased: grey edges, not a binary image


def test_shrinking_the_pad_keeps_the_drawing_where_it_was():
    image = draw.shrink_canvas([[[30.0, 30.0], [30.0, 80.0]]])
    row, col = in_field_coordinates(image)
    assert row < 8 and col < 5  # top left, as drawn: no box, no centring


def test_an_empty_drawing_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="nothing drawn"):
        draw.rasterize_strokes([])


def test_the_centre_of_mass_lands_on_index_14_where_mnist_centres_its_digits():
    for digit in (0, 1, 4, 7):
        row, col = draw.center_of_mass(draw.rasterize_strokes(draw.example_strokes(digit)))
        assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5, (digit, row, col)


def test_a_single_point_is_a_dot_in_the_middle():
    image = draw.rasterize_strokes([[[120.0, 140.0]]])
    assert 0 < float(image.sum()) < 10
    assert all(abs(c - 14) <= 1 for c in in_field_coordinates(image))


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    """A quick MLP and CNN trained with the course's recipes on 10,000 digits (a few seconds)."""
    folder, quick = tmp_path_factory.mktemp("draw"), {"subset": 10000, "val_size": 1000, "epochs": 2}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small models: one thread is fastest, and far faster on a busy machine
    try:
        return {kind.upper(): course.train_model(kind, quick, folder)[0] for kind in ("mlp", "cnn")}
    finally:
        torch.set_num_threads(threads)


@pytest.mark.integration
@pytest.mark.parametrize("digit", [0, 1, 7])
def test_trained_models_read_drawn_digits(models, digit):
    image = draw.rasterize_strokes(draw.example_strokes(digit))
    for name, model in models.items():
        assert int(draw.predict_proba(model, image).argmax()) == digit, name


@pytest.mark.integration
def test_setting_the_strokes_from_python_updates_the_reading(models):
    reader = draw.DigitReader(models)
    assert reader.guesses() == {} and "Draw a digit" in reader.panel.value
    reader.pad.strokes = draw.example_strokes(1)
    assert reader.guesses() == {"MLP": 1, "CNN": 1}
    assert 'data-key="CNN-mnist" data-digit="1" data-strokes="1"' in reader.panel.value
    assert set(reader.images) == {"mnist", "shrunk"}
    reader.pad.strokes = draw.example_strokes(0)
    assert reader.guesses() == {"MLP": 0, "CNN": 0}
    probs = reader.probs["MLP", "mnist"]
    assert probs.shape == (10,) and abs(float(probs.sum()) - 1) < 1e-5
