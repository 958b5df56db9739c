"""The exercises' self-checks: right answers pass, wrong, missing or malformed ones do not, and none raises."""

from __future__ import annotations

import math

import pytest
import torch

import mnist_lab_checks as exercises
from mnist_lab import metrics


def refuses_each(check, named: dict, capsys, *args, **kwargs) -> None:
    """Assert that ``check`` refuses each wrong answer of ``named`` and prints the mistake it names."""
    for wrong, message in named.items():
        assert not check(wrong, *args, **kwargs), wrong
        assert message in capsys.readouterr().out, wrong


def test_batches_per_epoch_counts_the_last_partial_batch(capsys):
    assert exercises.check_batches_per_epoch(430, n_images=55_000, batch_size=128)
    assert "Right" in capsys.readouterr().out
    assert not exercises.check_batches_per_epoch(429, n_images=55_000, batch_size=128)  # 55,000 / 128 rounded down
    assert "Not quite: 429 is not" in capsys.readouterr().out
    assert exercises.check_batches_per_epoch(4, n_images=512, batch_size=128)


def test_no_answer_yet_says_what_to_do_and_does_not_raise(capsys):
    assert not exercises.check_batches_per_epoch(None, n_images=100, batch_size=32)
    assert "No answer yet: replace None with the number of batches per epoch" in capsys.readouterr().out


def test_majority_accuracy_counts_the_commonest_training_digit_among_the_validation_labels(capsys):
    train = torch.tensor([1] * 30 + [2] * 20 + [0] * 10 + list(range(3, 10)))  # 1 is the commonest, 3 the rarest
    val = torch.tensor([1] * 24 + [2] * 60 + [3] * 16 + [0] * 100)  # 24 of 200 are 1s (2 is commonest here)
    assert exercises.check_majority_accuracy(0.12, train, val)
    assert exercises.check_majority_accuracy(torch.tensor(0.1203), train, val)
    capsys.readouterr()
    mistakes = {
        12.0: "a percentage",
        24: "a count of images",
        30 / len(train): "share of 1s among the training images",
        0.1: "exactly balanced",
        0.08: "the rarest training digit",
    }
    for wrong, named in mistakes.items():
        assert not exercises.check_majority_accuracy(wrong, train, val)
        assert named in capsys.readouterr().out
    assert not exercises.check_majority_accuracy(0.30, train, val)  # the commonest validation digit: no name
    assert not exercises.check_majority_accuracy("0.12", train, val)


def test_01b_blurred_pixel_check_names_the_usual_mistakes(capsys):
    pixels, weights = [[0, 0, 0.5], [0, 1, 1], [0, 1, 1]], [[1, 2, 1], [2, 4, 2], [1, 2, 1]]  # notebook 01b's
    assert exercises.check_blurred_pixel(9.5 / 16, pixels, weights)
    assert exercises.check_blurred_pixel(torch.tensor(0.5938), pixels, weights)  # to 4 decimals, as a tensor
    assert "Right" in capsys.readouterr().out
    said = {9.5: "the weighted sum", 0.5: "plain mean", 9.5 / 9: "number of pixels", 1.0: "centre pixel as it was"}
    for wrong, named in said.items():
        assert not exercises.check_blurred_pixel(wrong, pixels, weights)
        assert named in capsys.readouterr().out
    assert not exercises.check_blurred_pixel(None, pixels, weights)
    assert "No answer yet" in capsys.readouterr().out
    assert not exercises.check_blurred_pixel("0.59", pixels, weights)
    grey = [[0.3] * 3] * 3  # one grey: a weighted mean keeps it, whatever the weights
    assert exercises.check_blurred_pixel(0.3, grey, weights) and exercises.check_blurred_pixel(0.3, grey, [[1] * 3] * 3)


def test_parameter_count_of_lecuns_300_100_network():
    assert exercises.check_parameter_count(266_610, hidden=[300, 100])
    assert not exercises.check_parameter_count(266_200, hidden=[300, 100])  # the weights without the biases
    assert exercises.check_parameter_count(109_386, hidden=[128, 64])


def test_02_broadcast_shape_check_names_the_usual_mistakes(capsys):
    assert exercises.check_broadcast_shape((3, 4), (3, 1), (4,))
    assert exercises.check_broadcast_shape([3, 4], (3, 1), (4,))  # a list, or the torch.Size PyTorch prints
    assert exercises.check_broadcast_shape((torch.zeros(3, 1) + torch.zeros(4)).shape, (3, 1), (4,))
    assert exercises.check_broadcast_shape((32, 10), (32, 10), (32, 1))  # notebook 02b's division by each row's sum
    said = {(3, 1): "first shape unchanged", (4,): "second shape unchanged", (4, 3): "sizes are swapped",
            (1, 4): "second shape with its new dimension", 12: "number of entries"}  # fmt: skip
    for wrong, named in said.items():
        assert not exercises.check_broadcast_shape(wrong, (3, 1), (4,))
        assert named in capsys.readouterr().out, named
    for wrong in (None, "3, 4", (3, 4, 1)):  # no answer, a string, another shape: a verdict, never an error
        assert not exercises.check_broadcast_shape(wrong, (3, 1), (4,))


# ---------------------------------------------------------------------------------------------------- notebook 02b


def test_02b_cross_entropy_check_names_the_usual_mistakes(capsys):
    logits = [2.0, 1.0, 0.0]
    p = math.exp(2.0) / (math.exp(2.0) + math.exp(1.0) + math.exp(0.0))  # the right digit's probability
    assert exercises.check_cross_entropy(round(-math.log(p), 4), logits, label=0)
    for wrong, named in [(-math.log10(p), "log base 10"), (p, "the probability of the right digit"),
                         (math.log(p), "sign is flipped"), (-2.0, "minus the logit")]:  # fmt: skip
        assert not exercises.check_cross_entropy(round(wrong, 4), logits, label=0)
        assert named in capsys.readouterr().out, named


def test_the_checks_of_06_name_the_usual_mistakes(capsys):
    digits = torch.arange(100) % 10
    val = torch.eye(10)[digits], (digits + (torch.arange(100) < 5)) % 10  # 95% right
    test = torch.eye(10)[digits], (digits + (torch.arange(100) < 10)) % 10  # 90% right
    se_val, se_test = math.sqrt(0.95 * 0.05 / 100), math.sqrt(0.9 * 0.1 / 100)
    assert exercises.check_gap_in_standard_errors(0.05 / math.hypot(se_val, se_test), *val, *test)
    assert not exercises.check_gap_in_standard_errors(0.05 / (se_val + se_test), *val, *test)
    assert "adds the two standard errors" in capsys.readouterr().out


def test_the_check_of_06b_names_the_usual_mistakes(capsys):
    """Notebook 06b's check: digit 9's precision among the answers given with over 90% confidence."""
    # sure (0.99): 8 9s read right, 2 4s read as 9, 3 9s read as 7; unsure (0.6): 4 answers 9, 1 of them right;
    # sure others (0.95): 4 digits read right
    labels = torch.tensor([9] * 8 + [4] * 2 + [9] * 3 + [9, 3, 3, 3] + [1, 2, 5, 6])
    preds = torch.tensor([9] * 10 + [7] * 3 + [9] * 4 + [1, 2, 5, 6])
    confidence = torch.tensor([0.99] * 13 + [0.6] * 4 + [0.95] * 4)

    def said(answer, above=0.9):
        ok = exercises.check_sure_precision(answer, confidence, preds, labels, digit=9, above=above)
        return ok, capsys.readouterr().out

    assert said(0.8)[0] and said(torch.tensor(0.8))[0] and said(0.8004)[0]  # 8 of the 10 sure answers 9
    mistakes = {
        8 / 11: "recall",  # row 9: 8 of the 11 sure 9s
        80.0: "percentage",
        9 / 14: "over all the answers",  # 9 right of the 14 answers 9
        1 / 4: "at or below",
        8 / 18: "counts the right answers twice",
        2 / 10: "that are wrong",
        0.7: "Open the next hint",
    }
    for wrong, named in mistakes.items():
        ok, out = said(round(wrong, 3))
        assert not ok and named in out, (wrong, out)
    assert "No answer yet" in said(None)[1]
    assert not said("0.8")[0]
    ok, out = said(0.5, above=0.999)  # no answer 9 that sure: nothing to count, and no error
    assert not ok and "nothing to count" in out
    ok, out = said(None, above=0.999)  # no answer yet comes first
    assert not ok and "No answer yet" in out


def test_the_tuning_checks_of_11_accept_the_answer_and_name_the_usual_mistakes(capsys):
    """Notebook 11's check: the log-scale share."""

    def said(check, answer, **given):
        ok = check(answer, **given)
        return ok, capsys.readouterr().out

    share = dict(low=0.01, high=1.0, below=0.05)  # notebook 11's search space
    assert said(exercises.check_log_share, math.log(5) / math.log(100), **share)[0]  # 0.349
    assert "linear scale" in said(exercises.check_log_share, 0.04 / 0.99, **share)[1]
    assert "above 0.05" in said(exercises.check_log_share, 1 - math.log(5) / math.log(100), **share)[1]
    assert "log of 0.05 alone" in said(exercises.check_log_share, math.log(0.05) / math.log(100), **share)[1]
    assert "percentage" in said(exercises.check_log_share, 34.95, **share)[1]
    assert "No answer yet" in said(exercises.check_log_share, None, **share)[1]
    assert said(exercises.check_log_share, math.log(50) / math.log(1000), low=1e-3, high=1.0, below=0.05)[0]


def test_the_pruning_check_of_11b_counts_steps_and_names_the_usual_mistakes(capsys):
    """Notebook 11b's check: the share of the full budget's steps that pruning skipped, weighed by steps per epoch."""

    def said(answer):
        ok = exercises.check_steps_skipped(answer, rows, trial_epochs=2, n_images=10_000)
        return ok, capsys.readouterr().out

    rows = [{"batch_size": 32, "epochs": 1}, {"batch_size": 256, "epochs": 2}, {"batch_size": 32, "epochs": 2}]
    rows.append({"batch_size": 256, "epochs": 2})  # 313 and 40 steps per epoch; one epoch of 313 skipped
    right = 313 / (2 * (313 + 40 + 313 + 40))  # 0.2217
    assert said(right)[0] and said(round(right, 3))[0] and said(torch.tensor(right))[0]
    assert "share of trials pruned" in said(1 / 4)[1]
    assert "counts epochs" in said(1 / 8)[1]
    assert "the trials ran" in said(1 - right)[1]
    assert "percentage" in said(100 * right)[1]
    assert "count of steps" in said(313)[1]
    assert "No answer yet" in said(None)[1]
    assert not said(0.3)[0] and not said("0.22")[0]
    runaway = [{"batch_size": 128, "epochs": 0}, {"batch_size": 128, "epochs": 2}]  # a loss that ran away in epoch 1
    assert exercises.check_steps_skipped(0.5, runaway, trial_epochs=2, n_images=1000)


def test_the_noise_rule_check_of_11c_judges_gain_noise_and_verdict_and_names_the_usual_mistakes(capsys):
    """Notebook 11c's check: (gain, noise, verdict) by notebook 05b's noise rule for two lists of accuracies."""
    baseline, challenger = [0.9428, 0.9370, 0.9370], [0.9391, 0.9517, 0.9490]
    (m_b, s_b), (m_c, s_c) = metrics.mean_std(baseline), metrics.mean_std(challenger)
    gain, noise = m_c - m_b, s_b + s_c  # 0.0077 and 0.0100: within the seed spread

    def said(answer):
        ok = exercises.check_seed_verdict(answer, baseline, challenger)
        return ok, capsys.readouterr().out

    assert said((gain, noise, "within the seed spread"))[0]
    assert said((round(gain, 4), round(noise, 4), "within the seed spread"))[0]
    assert "baseline minus the challenger" in said((-gain, noise, "clear loss"))[1]
    assert "in points" in said((100 * gain, 100 * noise, "within the seed spread"))[1]
    assert "best seeds" in said((max(challenger) - max(baseline), noise, "within the seed spread"))[1]
    assert "standard errors" in said((gain, noise / math.sqrt(3), "clear gain"))[1]
    assert "larger standard deviation" in said((gain, max(s_b, s_c), "clear gain"))[1]
    assert "n - 1" in said((gain, 2 / 3 * noise * math.sqrt(1.5), "clear gain"))[1]
    assert "√(σ₁² + σ₂²)" in said((gain, math.hypot(s_b, s_c), "clear gain"))[1]
    assert "larger than the noise" in said((gain, noise, "clear gain"))[1]
    assert "three things" in said(0.0077)[1]
    assert "No answer yet" in said(None)[1]
    assert not said((gain, noise, "tie"))[0]
    assert exercises.check_seed_verdict((0.02, 0.0, "clear gain"), [0.90, 0.90], [0.92, 0.92])


def test_the_numeric_checks_accept_the_right_value_and_refuse_a_wrong_one():
    """Each check works its answer out with torch; a right answer passes, a near miss does not, and None never."""
    logits = [2.0, 0.5, -1.0]
    cases = [
        (exercises.check_cross_entropy, (logits, 0), 0.2413, 0.3),
        (exercises.check_initial_loss, (26,), 3.258, 2.303),
        (exercises.check_momentum_factor, (0.9,), 10.0, 9.0),
        (exercises.check_conv_output_size, (28, 3, 1, 2), 14, 13),
        (exercises.check_smoothing_floor, (0.1,), 0.5003, 0.0943),
    ]
    for check, args, right, wrong in cases:
        assert check(right, *args), check.__name__
        assert not check(wrong, *args), check.__name__
        assert not check(None, *args), check.__name__


def test_the_checks_on_predictions_and_drawings():
    preds, labels = torch.tensor([0, 1, 2, 3, 9]), torch.tensor([0, 1, 5, 3, 4])
    assert exercises.check_first_mistake(2, preds, labels) and not exercises.check_first_mistake(4, preds, labels)
    assert not exercises.check_first_mistake(0, labels, labels)  # no mistake: nothing to compare, and no error
    box = torch.zeros(20, 10)
    box[:, 9] = 1.0  # ink on the right edge of a 20×10 box pasted at columns 9..18: centre of mass at column 18
    assert exercises.check_box_centring_offset(4.0, box)  # rows 4..23: row 13.5, so √(4² + 0.5²) from (14, 14)
    assert not exercises.check_box_centring_offset(0.0, box)
    val = torch.eye(10)[torch.arange(100) % 10], torch.arange(100) % 10  # all right
    test = torch.eye(10)[torch.arange(100) % 10], (torch.arange(100) + (torch.arange(100) < 5)) % 10  # 95% right
    gap = 0.05 / math.sqrt(0 + 0.95 * 0.05 / 100)
    assert exercises.check_gap_in_standard_errors(round(gap, 2), *val, *test)
    assert not exercises.check_gap_in_standard_errors(round(gap, 2) + 1, *val, *test)


def test_first_mistake_names_the_usual_mistakes(capsys):
    labels = torch.tensor([0, 1, 8, 3, 4, 2, 6, 7, 8, 1])
    preds = torch.tensor([0, 1, 7, 3, 4, 5, 0, 7, 8, 0])  # wrong at 2 (an 8 read as 7), 5, 6 and 9
    assert exercises.check_first_mistake(2, preds, labels)
    capsys.readouterr()
    mistakes = {
        3: "Counted from 1",
        4: "number of mistakes",
        8: "label",
        7: "the digit the model read",
        6: "not the first",
    }
    for wrong, named in mistakes.items():
        assert not exercises.check_first_mistake(wrong, preds, labels)
        assert named in capsys.readouterr().out, wrong


def test_07b_drop_se_bound_check_names_the_usual_mistakes(capsys):
    """180 lost and 30 won of 5,000: d = 0.042, the bound 100 √(d / n) = 0.29 points; the usual mistakes give a share
    (0.0029), lost − won (0.24), the lost only (0.27), √d (20.49), the drop (3.0) and 2 SE (0.58)."""
    assert exercises.check_drop_se_bound(0.29, lost=180, won=30, n=5000)
    assert "Right: 0.29 is the upper bound on the SE of the drop, in points" in capsys.readouterr().out
    named = {
        0.0029: "That is a share",
        0.24: "lost − won",
        0.27: "the lost digits only",
        20.49: "scores' standard deviation",
        3.0: "the drop itself",
        0.58: "That is 2 SE",
    }
    refuses_each(exercises.check_drop_se_bound, named, capsys, lost=180, won=30, n=5000)
    assert not exercises.check_drop_se_bound(None, lost=180, won=30, n=5000)
    assert "No answer yet" in capsys.readouterr().out


def _one_pixel_units(n_units: int = 32):
    """A first layer and its ReLU whose unit j reads pixel j alone (weight 1, bias 0)."""
    linear = torch.nn.Linear(784, n_units)
    with torch.no_grad():
        linear.weight.zero_()
        linear.weight[:, :n_units] = torch.eye(n_units)
        linear.bias.zero_()
    return torch.nn.Sequential(linear, torch.nn.ReLU())


def test_07_unit_top_digits_check_names_the_usual_mistakes(capsys):
    """40 digits: unit 4 reads pixel 4, highest on digit 0 and falling; 2s at ranks 0-5 (its 8 hold six: its digit
    is 2), 10, 12 and 15 (9 of its top 20), and 25, 30 and 35 (3 of the 20 that raise it least)."""
    layers = _one_pixel_units()
    pixels = torch.rand(40, 784, generator=torch.Generator().manual_seed(0)) * 0.5
    pixels[:, 4] = torch.arange(40, 0, -1).float()  # pixel 4: unit 4
    pixels[4, :4], pixels[4, 5:32] = torch.arange(4.0), torch.arange(5.0, 32.0)  # digit #4: unit j is j
    images = pixels.reshape(40, 1, 28, 28)
    twos = [0, 1, 2, 3, 4, 5, 10, 12, 15, 25, 30, 35]
    labels = torch.tensor([2 if i in twos else i % 7 + 3 for i in range(40)])
    assert exercises.check_unit_top_digits(9, layers, images, labels, unit=4, k=20)
    assert "Right: 9 is the count of unit 4's digit among the 20 digits that raise it most." in capsys.readouterr().out
    assert exercises.check_unit_top_digits(torch.tensor(9), layers, images, labels, unit=4, k=20)
    # row 4 ranked: digit #4's units 4 (pixel 4 is 36) and 31 down to 13, of which 4, 15, 25 and 30 are 2s
    named = {11: "counts the other digits", 0.45: "the share", 6: "counts among its 8", 3: "raise it least",
             12: "among all the digits", 4: "ranks row 4"}  # fmt: skip
    refuses_each(exercises.check_unit_top_digits, named, capsys, layers, images, labels, unit=4, k=20)
    assert not exercises.check_unit_top_digits(None, layers, images, labels, unit=4, k=20)
    assert "No answer yet" in capsys.readouterr().out
    assert not exercises.check_unit_top_digits("9 twos", layers, images, labels, unit=4, k=20)  # never raises


# ----------------------------------------------------------------------------------------------------- notebook 03


def two_path_grads(a, b):
    """The exercise of notebook 03, as its solution writes it: dL/du = a (1 − t²) shared, a's two paths added."""
    t = math.tanh(a * b)
    dL_du = a * (1 - t**2)
    return dL_du * b + t, dL_du * a


def _with_dL_du(dL_du_of, slope_of=lambda t, u: 1 - t**2):
    """A pair function built like the solution, with dL/du computed another way (a usual mistake)."""

    def grads(a, b):
        t = math.tanh(a * b)
        dL_du = dL_du_of(a, slope_of(t, a * b))
        return dL_du * b + t, dL_du * a

    return grads


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        (lambda a, b: (two_path_grads(a, b)[0] - math.tanh(a * b), two_path_grads(a, b)[1]), "direct path"),
        (lambda a, b: (math.tanh(a * b), two_path_grads(a, b)[1]), "path through u"),
        (_with_dL_du(lambda a, slope: a * slope, lambda t, u: t), "That uses t = tanh(u) as tanh's slope"),
        (_with_dL_du(lambda a, slope: a * slope, lambda t, u: 1 - u**2), "That uses 1 - u²"),
        (_with_dL_du(lambda a, slope: slope), "leaves out L = t a's rate for t"),
        (lambda a, b: two_path_grads(a, b)[::-1], "The pair is swapped"),
        (lambda a, b: (1.0, 2.0), "Open the next hint"),
        (lambda a, b: 2 * two_path_grads(a, b)[0], "return a pair of numbers"),
        (lambda a, b: "ab", "return a pair of numbers"),
        (lambda a, b: 1 / 0, "Your function raised ZeroDivisionError"),
        (lambda a, b: None, "No answer yet: write the body of two_path_grads"),
    ],
)
def test_03_two_path_check_names_the_mistake_and_never_raises(mistake, message, capsys):
    assert not exercises.check_two_path_grads(mistake)
    assert message in capsys.readouterr().out


def test_03_two_path_check_accepts_the_solution_in_any_form(capsys):
    """The solution as floats, as a list, as a float32 tensor, and autograd's own pair all pass."""
    assert exercises.check_two_path_grads(two_path_grads)
    assert exercises.check_two_path_grads(lambda a, b: list(two_path_grads(a, b)))
    assert exercises.check_two_path_grads(lambda a, b: torch.tensor(two_path_grads(a, b)))

    def by_autograd(a, b):
        ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
        return torch.autograd.grad(torch.tanh(ta * tb) * ta, (ta, tb))

    assert exercises.check_two_path_grads(by_autograd)
    out = capsys.readouterr().out
    assert out.count("), matches autograd's") == 12 and out.count("Right: your pair matches autograd's") == 4


# ----------------------------------------------------------------------------------------------------- notebook 03b

DELTA3_CASE = {"logits": [2.0, 1.0, 0.0], "label": 0, "n_images": 4}  # the exercise's: three classes, N = 4


def delta3_row(logits, label, n_images):
    """The exercise of notebook 03b, as its solution writes it: (p - onehot(y)) / N, with math alone."""
    s = sum(math.exp(v) for v in logits)
    return [(math.exp(v) / s - (k == label)) / n_images for k, v in enumerate(logits)]


def test_03b_delta3_check_accepts_the_row_as_a_list_a_tuple_or_a_tensor_to_4_decimals(capsys):
    right = delta3_row(**DELTA3_CASE)
    for answer in (right, tuple(right), [round(v, 4) for v in right], torch.tensor(right)):
        assert exercises.check_delta3_row(answer, **DELTA3_CASE)
    z = torch.tensor([DELTA3_CASE["logits"]] + [[0.5, -1.0, 2.0]] * 3, requires_grad=True)  # three other images
    torch.nn.functional.cross_entropy(z, torch.tensor([0, 1, 2, 0])).backward()
    assert exercises.check_delta3_row(z.grad[0], **DELTA3_CASE)  # autograd's row 0 of the batch's mean loss
    assert capsys.readouterr().out.count("Right: ") == 5


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda p, y, n, z: [v * n for v in delta3_row(**DELTA3_CASE)], "the summed loss's row"),
        (lambda p, y, n, z: [-v for v in delta3_row(**DELTA3_CASE)], "The sign is flipped"),
        (lambda p, y, n, z: [v / n for v in p], "The one-hot row is missing"),
        (lambda p, y, n, z: p, "the softmax alone"),
        (lambda p, y, n, z: [(v - y[k]) / 3 for k, v in enumerate(p)], "divides by the 3 classes"),
        (lambda p, y, n, z: [(v - y[k]) / n for k, v in enumerate(z)], "the logits themselves"),
        (lambda p, y, n, z: [(math.exp(v) - y[k]) / n for k, v in enumerate(z)], "without dividing by S"),
        (lambda p, y, n, z: [0.0, 0.0, 0.0], "Open the next hint"),
        (lambda p, y, n, z: -0.0837, "is not a row of 3 numbers"),
        (lambda p, y, n, z: [-0.0837, 0.0612], "is not a row of 3 numbers"),
        (lambda p, y, n, z: "-0.0837, 0.0612, 0.0225", "is not a row of 3 numbers"),
        (lambda p, y, n, z: None, "No answer yet: replace None with the image's row of δ3"),
    ],
)
def test_03b_delta3_check_names_the_usual_mistake_and_never_raises(wrong, message, capsys):
    z = DELTA3_CASE["logits"]
    s = sum(math.exp(v) for v in z)
    p, onehot = [math.exp(v) / s for v in z], [1.0, 0.0, 0.0]
    assert not exercises.check_delta3_row(wrong(p, onehot, 4, z), **DELTA3_CASE)
    assert message in capsys.readouterr().out


# ----------------------------------------------------------------------------------------------------- notebook 03c


def tanh_step(grad_a, z, a):
    """The exercise of notebook 03c, as its solution writes it: ∂L/∂a times tanh's local derivative 1 − a²."""
    return grad_a * (1 - a**2)


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        (lambda g, z, a: g * (z > 0), "That is the ReLU's mask"),
        (lambda g, z, a: g * (1 - z**2), "That uses 1 − z²"),
        (lambda g, z, a: g * (1 - a), "That uses 1 − a:"),
        (lambda g, z, a: -tanh_step(g, z, a), "The sign is flipped"),
        (lambda g, z, a: g, "The step through tanh is missing"),
        (lambda g, z, a: 1 - a**2, "the local derivative alone"),
        (lambda g, z, a: 2 * tanh_step(g, z, a), "Not quite: start with the first result that differs"),
        (lambda g, z, a: g.sum(), "The backward pass with your function raised RuntimeError"),
        (lambda g, z, a: 1 / 0, "Your function raised ZeroDivisionError"),
        (lambda g, z, a: None, "No answer yet: write the body of tanh_step_back"),
    ],
)
def test_03c_tanh_step_check_names_the_mistake_and_never_raises(mistake, message, capsys):
    assert not exercises.check_tanh_step_back(mistake)
    assert message in capsys.readouterr().out


def test_03c_tanh_step_check_accepts_the_solution_in_any_form(capsys):
    """The solution, and tanh's local derivative computed from z instead of a, both give autograd's gradients."""
    assert exercises.check_tanh_step_back(tanh_step)
    assert exercises.check_tanh_step_back(lambda g, z, a: g * (1 - torch.tanh(z) ** 2))
    out = capsys.readouterr().out
    assert out.count(", matches PyTorch") == 12 and out.count("Right: every result matches PyTorch.") == 2


# ----------------------------------------------------------------------------------------------------- notebook 04


def test_04_initial_loss_check_names_the_usual_mistake(capsys):
    """Exercise 1: ln 26 is right; log base 10, ln 10 and the probability 1/26 are each named."""
    assert exercises.check_initial_loss(math.log(26), n_classes=26)
    capsys.readouterr()
    named = {math.log10(26): "log base 10", math.log(10): "ln 10, the loss with 10 classes", 1 / 26: "probability"}
    refuses_each(exercises.check_initial_loss, named, capsys, n_classes=26)


def sgd_step(model, images, labels, lr, mistake=None):
    """Exercise 2's step by hand, as its solution writes it, or with one usual ``mistake``."""
    if mistake != "no zero":
        model.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(images), labels, reduction="sum" if mistake == "sum" else "mean")
    loss.backward()
    with torch.no_grad():
        for w in model.parameters():
            if mistake == "uphill":
                w += lr * w.grad
            elif mistake == "rebound":
                w = w - lr * w.grad  # a new tensor under the old name: the model's weight stays
            elif mistake != "no update":
                w -= lr * w.grad
    if mistake == "after":
        return torch.nn.functional.cross_entropy(model(images), labels).item()
    return None if mistake == "no return" else loss.item() / (len(labels) if mistake == "sum" else 1)


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ("no zero", "The gradients piled up: clear them (model.zero_grad())"),
        ("uphill", "The weights moved up the gradient"),
        ("no update", "The weights did not move"),
        ("rebound", "The weights did not move"),
        ("sum", 'The loss is summed over the batch (reduction="sum")'),
        ("after", "That is the loss after the step"),
        ("no return", "sgd_step should return the batch's loss as a number: return loss.item()."),
    ],
)
def test_04_sgd_step_check_names_the_mistake(mistake, message, capsys):
    assert not exercises.check_sgd_step(lambda *args: sgd_step(*args, mistake=mistake))
    out = capsys.readouterr().out
    assert message in out and "Not quite" in out


def test_04_sgd_step_check_accepts_the_solution_and_never_raises(capsys):
    assert exercises.check_sgd_step(sgd_step)
    assert exercises.check_sgd_step(lambda *args: torch.tensor(sgd_step(*args)))  # a tensor of one number

    def with_none(model, images, labels, lr):  # clearing .grad by hand, as optimizer.zero_grad() does
        for w in model.parameters():
            w.grad = None
        return sgd_step(model, images, labels, lr, mistake="no zero")

    assert exercises.check_sgd_step(with_none)
    out = capsys.readouterr().out
    assert out.count("Right: every result matches PyTorch.") == 3 and out.count(", matches PyTorch") == 15
    assert out.count("beside two of torch.optim.SGD's") == 3  # it says what it compares, once a run
    assert not exercises.check_sgd_step(lambda *args: None)  # the stub: nothing done, nothing returned
    assert "No answer yet: write the body of sgd_step" in capsys.readouterr().out
    assert not exercises.check_sgd_step(lambda *args: 1 / 0)
    out = capsys.readouterr().out
    assert out.count("Your function raised ZeroDivisionError") == 1 and "Right" not in out


# ---------------------------------------------------------------------------------------------------- notebook 04b


def _history():
    """A made-up run: validation loss lowest at epoch 2 (0.4); the first epoch after it over 1.1 times that, 0.44, is
    epoch 5; epoch 1 lies above it too, and the first over 0.4 + 0.1 is epoch 8."""
    val_loss = [0.9, 0.4, 0.42, 0.43, 0.45, 0.48, 0.41, 0.52, 0.47]
    return [{"epoch": e + 1, "val_loss": v} for e, v in enumerate(val_loss)]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (2, "the lowest itself"),
        (3, "counts the epochs after the lowest"),
        (4, "counted from 0"),
        (1, "comes before the lowest"),
        (8, "0.1 above the lowest"),
        (6, "Open the next hint"),
    ],
)
def test_04b_first_rise_epoch_check_names_the_usual_mistake(wrong, message, capsys):
    assert not exercises.check_first_rise_epoch(wrong, _history())
    out = capsys.readouterr().out
    assert message in out and "Not quite" in out


def test_04b_first_rise_epoch_check_accepts_the_right_one(capsys):
    assert exercises.check_first_rise_epoch(5, _history())
    assert exercises.check_first_rise_epoch(torch.tensor(5), _history())  # a tensor of one number
    assert not exercises.check_first_rise_epoch(None, _history())
    assert "No answer yet" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------------- notebook 05b


def test_05b_margin_over_noise_check_names_the_usual_mistakes(capsys):
    """Momentum's row against the larger rate's, as 05b's table prints them: gain 4.04 points, noise 1.05."""
    above, row = {"mean": 0.8991, "std": 0.0031}, {"mean": 0.9395, "std": 0.0074}
    right = 100 * ((0.9395 - 0.8991) - (0.0074 + 0.0031))  # 2.99 points
    assert exercises.check_margin_over_noise(round(right, 2), row, above)
    assert "Right: 2.99 is the gain minus the noise, in points." in capsys.readouterr().out
    assert exercises.check_margin_over_noise(right + 0.02, row, above)  # the table's rounding
    assert exercises.check_margin_over_noise(torch.tensor(right), row, above)
    named = {4.04: "the gain alone", 1.05: "the noise alone", 0.0299: "as a fraction",
             3.61: "subtracts one standard deviation", 4.47: "subtracts one standard deviation",
             3.30: "one row's standard deviation", 3.73: "one row's standard deviation",
             -2.99: "the noise minus the gain"}  # fmt: skip
    refuses_each(exercises.check_margin_over_noise, named, capsys, row, above)
    assert not exercises.check_margin_over_noise(2.5, row, above)  # another number: no mistake named
    assert "Open the next hint" in capsys.readouterr().out
    for wrong in (None, "2.99", [2.99]):  # no answer, a string, a list: a verdict, never an error
        assert not exercises.check_margin_over_noise(wrong, row, above)
    assert "No answer yet" in capsys.readouterr().out
    short = {"mean": 0.9486, "std": 0.0034}  # the schedule's row against momentum's: the gain falls short
    assert exercises.check_margin_over_noise(-0.18, short, row)


# ----------------------------------------------------------------------------------------------------- notebook 08


def unfold_conv2d(images, weight, bias, padding):
    """Exercise 1's convolution, as Further research writes it: unfold and one matrix product."""
    n, _, h, w = images.shape
    kernels, _, k, _ = weight.shape
    patches = torch.nn.functional.unfold(images, kernel_size=k, padding=padding)
    sums = weight.view(kernels, -1) @ patches + bias.view(1, kernels, 1)
    return sums.view(n, kernels, h + 2 * padding - k + 1, w + 2 * padding - k + 1)


def loop_conv2d(images, weight, bias, padding):
    """Exercise 1's convolution, as Further research writes it: a Linear layer at every position."""
    n, _, h, w = images.shape
    kernels, _, k, _ = weight.shape
    padded = torch.nn.functional.pad(images, [padding] * 4)
    out = torch.zeros(n, kernels, h + 2 * padding - k + 1, w + 2 * padding - k + 1)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            patch = padded[:, :, i : i + k, j : j + k].reshape(n, -1)
            out[:, :, i, j] = patch @ weight.reshape(kernels, -1).T + bias
    return out


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        (lambda x, w, b, p: unfold_conv2d(x, w.flip(-1, -2), b, p), "The kernel is flipped"),
        (lambda x, w, b, p: loop_conv2d(x, w, 0 * b, p), "The bias is missing"),
        (lambda x, w, b, p: unfold_conv2d(x, w, 0 * b, p), "The bias is missing"),
        (lambda x, w, b, p: unfold_conv2d(x[:, :1], w[:, :1], b, p), "Only the first input channel"),
        (lambda x, w, b, p: unfold_conv2d(x, w, b, 0), "but PyTorch's has shape (2, 3, 8, 8)"),
        (lambda *a: 1 / 0, "Your function raised ZeroDivisionError"),
        (lambda *a: None, "No answer yet: write the body of conv2d"),
        (lambda x, w, b, p: 0 * loop_conv2d(x, w, b, p), "No answer yet: conv2d still gives zeros"),
    ],
)
def test_08_conv2d_check_names_the_mistake_and_never_raises(mistake, message, capsys):
    assert not exercises.check_conv2d(mistake)
    assert message in capsys.readouterr().out


def pool(images, axes=(3, 5), reduce="amax", squares_first=True):
    """Exercise 2's max-pool by a reshape (Further research), or one with a usual mistake: other axes, the mean,
    squares of far-apart pixels."""
    n, c, h, w = images.shape
    shape = (n, c, h // 2, 2, w // 2, 2) if squares_first else (n, c, 2, h // 2, 2, w // 2)
    return getattr(images.reshape(shape), reduce)(dim=axes)


def loop_pool(images, start=lambda i: 2 * i, largest=lambda square: square.amax(dim=(2, 3))):
    """Exercise 2's max-pool, as its solution writes it (the loops of its scaffold, square (i, j) at rows and
    columns ``start(i)``, ``start(j)``), or one with a usual mistake: squares that overlap, another reduction."""
    n, c, h, w = images.shape
    out = torch.zeros(n, c, h // 2, w // 2)
    for i in range(h // 2):
        for j in range(w // 2):
            out[:, :, i, j] = largest(images[:, :, start(i) : start(i) + 2, start(j) : start(j) + 2])
    return out


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        (lambda x: pool(x, reduce="mean"), "That is the mean of each square"),
        (lambda x: loop_pool(x, largest=lambda s: s.mean(dim=(2, 3))), "That is the mean of each square"),
        (lambda x: loop_pool(x, largest=lambda s: s.max()), "the largest over every image and channel"),
        (lambda x: loop_pool(x, start=lambda i: i), "Those squares overlap"),
        (lambda x: pool(x, axes=(2, 4), squares_first=False), "not 2×2 squares of neighbours"),
        (lambda x: pool(x, axes=(2, 4)), "but PyTorch's has shape (2, 3, 3, 3)"),
        (lambda x: None, "No answer yet: write the body of max_pool"),
        (lambda x: 0 * loop_pool(x), "No answer yet: max_pool still gives zeros"),
    ],
)
def test_08_max_pool_check_names_the_mistake(mistake, message, capsys):
    assert not exercises.check_max_pool(mistake)
    assert message in capsys.readouterr().out


def test_08_code_checks_accept_the_solutions(capsys):
    """The solutions' loops, the one matrix product of F.unfold and the reshape of max-pooling (Further research)
    pass."""
    assert exercises.check_conv2d(loop_conv2d) and exercises.check_conv2d(unfold_conv2d)
    assert exercises.check_max_pool(loop_pool) and exercises.check_max_pool(pool)
    assert capsys.readouterr().out.count("Right: every result matches PyTorch.") == 4


# ----------------------------------------------------------------------------------------------------- notebook 08b


def test_08b_output_size_check_names_the_usual_mistake(capsys):
    """Exercise 1: each usual wrong answer gets its own message."""
    named = {12.5: "Round the division down", 24: "That is with stride 1", 11: "The +1 is missing"}
    refuses_each(exercises.check_conv_output_size, named, capsys, size=28, kernel=5, padding=0, stride=2)
    assert exercises.check_conv_output_size(12, size=28, kernel=5, padding=0, stride=2)


def small_cnn_count(a, b, second_in=None, side=7, head_maps=None, biases=True, head=True):
    """SmallCNN's parameter count with ``a`` and ``b`` kernels, worked out by hand, or with a usual mistake: the
    second convolution's input channels, the side of the head's maps, the head's maps, no biases, no head."""
    second_in, head_maps = a if second_in is None else second_in, b if head_maps is None else head_maps
    convs = a * 1 * 9 + b * second_in * 9 + biases * (a + b)
    return convs + head * (head_maps * side * side * 10 + biases * 10)


def test_08b_small_cnn_parameters_check_names_the_usual_mistake(capsys):
    """Exercise 2: the right count is the one torch counts for SmallCNN's layers; each usual mistake has its
    message; 8 and 16 kernels give the notebook's own SmallCNN."""
    assert small_cnn_count(16, 32) == 20_490 and small_cnn_count(8, 16) == 9_098  # the notebook's printed count
    assert exercises.check_small_cnn_parameters(20_490, kernels=(16, 32))
    assert exercises.check_small_cnn_parameters(9_098, kernels=(8, 16))
    assert "Right: 20490 is the parameter count of SmallCNN with 16 and 32 kernels." in capsys.readouterr().out
    named = {
        small_cnn_count(16, 32, biases=False): "The biases are missing",
        small_cnn_count(16, 32, second_in=1): "one 3×3 slice per input channel: 16 of them",
        small_cnn_count(16, 32, second_in=8): "reads the first one's 16 maps now, not 8",
        small_cnn_count(16, 32, side=28): "not 28×28",
        small_cnn_count(16, 32, side=14): "There are two pools",
        small_cnn_count(16, 32, head_maps=16): "the second block's 32 maps of 7×7 now, not 16",
        small_cnn_count(16, 32, head=False): "The head's weights and biases count too",
        9_098: "That is SmallCNN with 8 and 16 kernels",
    }
    assert len(set(named)) == len(named)  # each mistake gives its own count
    refuses_each(exercises.check_small_cnn_parameters, named, capsys, kernels=(16, 32))
    assert not exercises.check_small_cnn_parameters(None, kernels=(16, 32))
    assert "No answer yet" in capsys.readouterr().out
    assert not exercises.check_small_cnn_parameters("20490", kernels=(16, 32))  # a string is not a number


# ----------------------------------------------------------------------------------------------------- notebook 08c


def test_08c_kernel_cosine_check_names_the_usual_mistake(capsys):
    """Exercise 1: the cosine of the vertical-edge kernel and a diagonal one, -6 / (√6 · √12); each usual wrong
    answer gets its own message, and one number per row is refused with its own."""
    a, b = [[-1, 0, 1]] * 3, [[0, -1, -2], [1, 0, -1], [2, 1, 0]]
    assert exercises.check_kernel_cosine(-0.71, a=a, b=b) and exercises.check_kernel_cosine(-6 / 72**0.5, a=a, b=b)
    assert "Right: -0.71 is the cosine similarity of a and b." in capsys.readouterr().out
    rows = (-2 / 10**0.5 - 1 - 2 / 10**0.5) / 3  # the mean of the three rows' cosines
    named = {
        -6: "That is the sum of products",
        -6 / 72: "divides by the squared lengths",
        round(rows, 3): "flatten each kernel",
        -6 / 6**0.5: "divides by a's length only",
        -6 / 12**0.5: "divides by b's length only",
        0.71: "The sign is lost",
    }
    refuses_each(exercises.check_kernel_cosine, named, capsys, a=a, b=b)
    rows_a, rows_b = (torch.tensor(k, dtype=torch.float32) for k in (a, b))
    per_row = torch.nn.functional.cosine_similarity(rows_a, rows_b)  # one cosine per row: not flattened
    assert not exercises.check_kernel_cosine(per_row, a=a, b=b)
    assert "flatten each kernel into its 9 numbers" in capsys.readouterr().out
    assert not exercises.check_kernel_cosine(None, a=a, b=b)
    assert "No answer yet" in capsys.readouterr().out
    assert not exercises.check_kernel_cosine(-0.5, a=a, b=b)


# ----------------------------------------------------------------------------------------------------- notebook 09


def test_09_checks_name_the_usual_mistakes(capsys):
    """Each usual wrong answer of exercises 1 to 3 gets its own message; the right one passes."""
    floor_02 = -(0.82 * math.log(0.82) + 9 * 0.02 * math.log(0.02))
    named = {0.0: "not one-hot", -math.log(0.82): "only the true digit's term", -math.log(0.8): "−ln(1 − ε)",
             floor_02 / math.log(10): "log base 10", 0.5003: "the floor with ε = 0.1"}  # fmt: skip
    refuses_each(exercises.check_smoothing_floor, named, capsys, epsilon=0.2)
    assert exercises.check_smoothing_floor(round(floor_02, 3), epsilon=0.2)


# ----------------------------------------------------------------------------------------------------- notebook 10


class Reads(torch.nn.Module):
    """A stand-in model: for the digit whose image holds index i, it answers ``answers[i]``."""

    def __init__(self, answers: list[int]) -> None:
        super().__init__()
        self.answers = torch.tensor(answers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.one_hot(self.answers[images.long().flatten()], 10).float()


def test_10_paired_check_names_the_usual_mistakes(capsys):
    """100 digits, all 0s: our model misreads 5, the other 20, the same 5 among them."""
    n, labels = 100, torch.zeros(100, dtype=torch.long)
    loader = [(torch.arange(50.0), labels[:50]), (torch.arange(50.0, 100.0), labels[50:])]
    ours, other = Reads([1] * 5 + [0] * 95), Reads([1] * 20 + [0] * 80)
    d = torch.tensor([0.0] * 5 + [1.0] * 15 + [0.0] * 80)  # 1 where only ours reads the digit
    gap, std = d.mean().item(), d.std().item()
    paired = gap / (std / math.sqrt(n))
    unpaired = gap / math.sqrt(0.95 * 0.05 / n + 0.8 * 0.2 / n)
    assert abs(paired - unpaired) > 0.2  # the same 5 misread by both: pairing shrinks the SE
    named = {round(unpaired, 1): "the unpaired count", round(gap / std, 2): "d's standard deviation",
             round(gap / (std**2 / n), 1): "variance", gap: "the gap itself", 100 * gap: "in points",
             -round(paired, 1): "the MLP's minus ours"}  # fmt: skip
    refuses_each(exercises.check_paired_gap_in_standard_errors, named, capsys, ours, other, loader)
    assert exercises.check_paired_gap_in_standard_errors(round(paired, 1), ours, other, loader)
    assert "Right: " in capsys.readouterr().out
    assert not exercises.check_paired_gap_in_standard_errors(None, ours, other, loader)
    assert "No answer yet" in capsys.readouterr().out
    assert not exercises.check_paired_gap_in_standard_errors("4.2", ours, other, loader)  # a string is no number


# ---------------------------------------------------------------------------------------------------- notebook 10d


def test_10d_check_names_the_usual_mistakes(capsys):
    """The gain over the seeds that learned without batch norm: each usual wrong answer gets its own message."""
    recipe, without = [0.9712, 0.9618, 0.9568], [0.1030, 0.9044, 0.8662]
    right = 100 * (sum(recipe) / 3 - (0.9044 + 0.8662) / 2)  # 7.80 points
    same_seeds = 100 * ((0.9618 + 0.9568) / 2 - (0.9044 + 0.8662) / 2)  # seed 0 left out of both rows
    named = {100 * (sum(recipe) / 3 - sum(without) / 3): "keeps the seed that ended near chance",
             right / 100: "give points", -right: "the row minus the recipe",
             same_seeds: "leaves the seed out of the recipe's row"}  # fmt: skip
    refuses_each(exercises.check_gain_without_failed, named, capsys, recipe, without)
    assert exercises.check_gain_without_failed(round(right, 2), recipe, without)
    assert not exercises.check_gain_without_failed(None, recipe, without)
    assert "No answer yet" in capsys.readouterr().out


# ----------------------------------------------------------------------------------------------------- notebook 12


def test_12_box_centring_check_names_the_usual_mistakes(capsys):
    box = torch.zeros(20, 10)
    box[:10, 9] = 1.0  # ink on the upper half of the right edge, pasted at rows 4..23 and columns 9..18
    dx, dy = 18 - 14, 8.5 - 14  # its centre of mass: row 4 + 4.5, column 18; step 3 puts it at 14
    assert exercises.check_box_centring_offset(round(math.hypot(dx, dy), 1), box)
    named = {abs(dx) + abs(dy): "adds the two offsets", max(abs(dx), abs(dy)): "the larger"}
    refuses_each(exercises.check_box_centring_offset, named, capsys, box)


# ---------------------------------------------------------------------------------------------------- notebook 12b


def test_12b_smoothing_target_check_names_the_usual_mistakes(capsys):
    """ε = 0.3 over ten digits: 1 - 0.3 + 0.03 = 0.73; the usual mistakes give 0.7, 0.733, 0.97, 0.03, 1 and 73."""
    assert exercises.check_smoothing_target(0.73, epsilon=0.3)
    assert "Right: 0.73 is label smoothing's target for the true digit with ε = 0.3" in capsys.readouterr().out
    named = {
        0.7: "forgets the true digit's own share",
        0.733: "over the other nine only",
        0.97: "takes away only ε / 10",
        0.03: "each other digit's target",
        1: "the target without smoothing",
        73: "in percent",
    }
    refuses_each(exercises.check_smoothing_target, named, capsys, epsilon=0.3)
    assert exercises.check_smoothing_target(0.91, epsilon=0.1)  # notebook 12b's printed target
    assert not exercises.check_smoothing_target(None, epsilon=0.3)
    assert "No answer yet" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------------- notebook 12c


class ReadsTheRow(torch.nn.Module):
    """A stand-in model: it reads an image's inked row (its row minus 5) as the digit, right only where the ink lies
    left of column ``edge``; past it, it reads the next digit. ``edge=None``: it ignores the column."""

    def __init__(self, edge: int | None = 20):
        super().__init__()
        self.edge, self.weight = edge, torch.nn.Parameter(torch.zeros(1))  # a parameter: the device to read on

    def forward(self, images):
        flat = images.reshape(len(images), -1).argmax(dim=1)
        row, col = flat // 28, flat % 28
        digit = (row - 5 + (col >= self.edge if self.edge is not None else 0)) % 10
        return torch.nn.functional.one_hot(digit, 10).float() * 10 + self.weight


def test_12c_shifted_reads_check_names_the_usual_mistakes(capsys):
    """Ten one-pixel digits at rows 5 to 14 and columns 10 to 19: moved 4 right, those at columns 16 to 19 cross
    column 20 and are misread (6 right); moved down, all are misread (0); moved left or not at all, none is (10)."""
    images, labels = torch.zeros(10, 28, 28), list(range(10))
    for d in labels:
        images[d, 5 + d, 10 + d] = 1.0
    mlp, cnn = ReadsTheRow(), ReadsTheRow(edge=None)
    assert exercises.check_shifted_reads(6, mlp, images, labels, pixels=4, other=cnn)
    assert (
        "Right: 6 is the number of the 10, moved 4 pixels right, that the MLP reads right." in capsys.readouterr().out
    )
    named = {4: "counts the drawings it misreads", 0: "moves them down", 10: "moves them left"}
    refuses_each(exercises.check_shifted_reads, named, capsys, mlp, images, labels, pixels=4, other=cnn)
    assert not exercises.check_shifted_reads(10, mlp, images, labels, pixels=4, other=cnn)
    said = capsys.readouterr().out  # three mistakes give 10: each is named
    assert "Or that is the count before the move" in said and "Or that is the other model's count" in said
    assert not exercises.check_shifted_reads(0, mlp, images, labels, pixels=4, other=cnn)
    assert "Or that moves them right and down" in capsys.readouterr().out  # down, and right and down: 0 each
    assert not exercises.check_shifted_reads(None, mlp, images, labels, pixels=4)
    assert "No answer yet" in capsys.readouterr().out


def test_a_check_leaves_the_notebooks_random_numbers_as_they_were(capsys):
    """Running a check or skipping it must not change what the notebook draws next (a model's first weights, the
    order of the batches): the checks that build models and random inputs draw their own numbers."""

    def sgd_step(model, images, labels, lr):
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        return loss.item()

    torch.manual_seed(5)
    skipped = torch.rand(3)
    torch.manual_seed(5)
    assert exercises.check_sgd_step(sgd_step)
    assert torch.equal(torch.rand(3), skipped)
    assert exercises.check_sgd_step.__name__ == "check_sgd_step"  # what the notebooks and the answer key call


def test_02c_folded_layer_check_names_the_usual_mistakes(capsys):
    layers = dict(W1=[[1, 2], [0, 1]], b1=[1, -1], W2=[[2, 0], [1, 1]], b2=[0, 3])  # notebook 02c's
    assert exercises.check_folded_layer(([[2, 4], [1, 3]], [2, 3]), **layers)
    assert exercises.check_folded_layer((torch.tensor([[2.0, 4.0], [1.0, 3.0]]), torch.tensor([2.0, 3.0])), **layers)
    assert "Right" in capsys.readouterr().out
    said = {
        ((4, 2), (1, 1)): ([2, 3], "wrong order"),  # W1 W2
        ((2, 1), (4, 3)): ([2, 3], "rows and columns swapped"),
        ((2, 0), (0, 1)): ([2, 3], "entry by entry"),
        ((2, 4), (1, 3)): ([0, 3], "misses W2 b1"),  # the bias term W2 b1 forgotten
    }
    for W, (b, named) in said.items():
        assert not exercises.check_folded_layer(([list(row) for row in W], b), **layers)
        assert named in capsys.readouterr().out, named
    assert not exercises.check_folded_layer(([[2, 4], [1, 3]], [1, 2]), **layers)  # b1 + b2
    assert "b1 passes through W2" in capsys.readouterr().out
    for wrong in (None, "2, 4", (1, 2, 3), ([[2, 4]], [2, 3])):  # no answer, a string, not a pair, a wrong shape
        assert not exercises.check_folded_layer(wrong, **layers)
    assert "No answer yet" in capsys.readouterr().out
    # any layers: a fold of random ones is found right, whatever their sizes
    W1, b1, W2, b2 = torch.randn(3, 4), torch.randn(3), torch.randn(2, 3), torch.randn(2)
    assert exercises.check_folded_layer((W2 @ W1, W2 @ b1 + b2), W1.tolist(), b1.tolist(), W2.tolist(), b2.tolist())


def test_the_quantile_check_of_11a_accepts_the_answer_and_names_the_usual_mistakes(capsys):
    """Notebook 11a's check: the pruner's bar, the 0.25 quantile of three peers' accuracies."""

    def said(answer, values=(0.9138, 0.9038, 0.8862)):
        ok = exercises.check_quantile(answer, list(values), q=0.25)
        return ok, capsys.readouterr().out

    assert said(0.895)[0]  # 0.8862 + 0.5 * (0.9038 - 0.8862), torch.quantile's place
    assert said(torch.tensor([0.9138, 0.9038, 0.8862]).quantile(0.25))[0]  # a one-value tensor is a number
    assert "the median" in said(0.9038)[1]
    assert "the lowest value" in said(0.8862)[1]
    assert "q × n" in said(0.8862 + 0.75 * (0.9038 - 0.8862))[1]
    assert "percentage" in said(89.5)[1]
    assert "No answer yet" in said(None)[1]
    assert not said(0.9)[0]
    assert said(0.25 * 3 + 0.75 * 1, values=(1, 3))[0]  # of two, a quarter of the gap above the lower: 1.5


# ---------------------------------------------------------------------------------------------------- notebook 10c


def test_the_gain_in_noises_check_of_10c_accepts_the_table_and_names_the_usual_mistakes(capsys):
    """Notebook 10c's check: the wider CNN's gain over the recipe's channels, over its noise (both spreads added);
    an answer worked out from the table's rounded means and spreads is accepted."""
    ours, wide = [0.990, 0.992, 0.989], [0.994, 0.996, 0.995]
    (mean, std), (wide_mean, wide_std) = metrics.mean_std(ours), metrics.mean_std(wide)
    gap, noise = wide_mean - mean, std + wide_std
    named = {round(100 * gap, 3): "the gap in points", round(100 * noise, 3): "the noise in points",
             round(noise / gap, 2): "the noise over the gap", round(gap / wide_std, 2): "the wider CNN's spread only",
             round(gap / std, 2): "the recipe's spread only"}  # fmt: skip
    refuses_each(exercises.check_gain_in_noises, named, capsys, ours, wide)
    assert exercises.check_gain_in_noises(round(gap / noise, 1), ours, wide)
    table = [round(100 * v, 2) for v in (mean, std, wide_mean, wide_std)]  # as 10c's table prints them
    assert exercises.check_gain_in_noises(round((table[2] - table[0]) / (table[1] + table[3]), 1), ours, wide)
    assert not exercises.check_gain_in_noises(None, ours, wide)
    assert "No answer yet" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------------- notebook 10e


def test_the_digit_count_check_of_10e_accepts_the_answer_and_names_the_usual_mistakes(capsys):
    """Notebook 10e's check: validation digits between two values' runs, summed over the seeds."""

    def said(answer, ours=(0.9954, 0.995, 0.9948), other=(0.994, 0.9936, 0.995)):
        ok = exercises.check_digits_between(answer, list(ours), list(other), 5000)
        return ok, capsys.readouterr().out

    assert said(13)[0]  # 4977 + 4975 + 4974 - (4970 + 4968 + 4975)
    assert said(13.0)[0] and said(torch.tensor(13))[0]
    assert "one seed on average" in said(4)[1]
    assert "in points" in said(0.09)[1]  # 100 × 0.0026 / 3, to 2 decimals
    assert "as a fraction" in said(0.0009)[1]
    assert "the other way round" in said(-13)[1]
    assert "No answer yet" in said(None)[1]
    assert not said(14)[0]
    assert said(10, ours=(0.5, 0.5), other=(0.499, 0.499))[0]  # 5 digits a seed of 5,000, two seeds


def test_the_box_width_check_of_12_accepts_the_answer_and_names_the_usual_mistakes(capsys):
    """Notebook 12's check: the 0's box width, fitted as draw.fit_in_box fits it (12 pixels)."""
    from mnist_lab import draw

    def said(answer, digit=0):
        ok = exercises.check_box_width(answer, draw.example_strokes(digit))
        return ok, capsys.readouterr().out

    assert said(12)[0] and said(12.0)[0]
    assert "leaves out the pen" in said(9)[1]
    assert "20 / longest side" in said(13)[1]
    assert "round up" in said(11.167)[1]
    assert "height" in said(20)[1]
    assert "No answer yet" in said(None)[1]
    assert not said(11)[0]
    assert said(15, digit=7)[0]  # the 7's box: 20×15
