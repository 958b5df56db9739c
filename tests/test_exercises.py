"""The exercises' self-checks: right answers pass, wrong, missing or malformed ones do not, and none raises."""

from __future__ import annotations

import math

import optuna
import pytest
import torch

from mnist_lab import exercises


def test_batches_per_epoch_counts_the_last_partial_batch(capsys):
    assert exercises.check_batches_per_epoch(430, n_images=55_000, batch_size=128)
    assert "Right" in capsys.readouterr().out
    assert not exercises.check_batches_per_epoch(429, n_images=55_000, batch_size=128)  # 55,000 / 128 rounded down
    assert "Not quite: 429 is not" in capsys.readouterr().out
    assert exercises.check_batches_per_epoch(4, n_images=512, batch_size=128)


def test_no_answer_yet_says_what_to_do_and_does_not_raise(capsys):
    assert not exercises.check_batches_per_epoch(None, n_images=100, batch_size=32)
    assert "No answer yet: replace None with the number of batches per epoch" in capsys.readouterr().out


def test_pixel_stats_accept_a_pair_of_numbers_or_tensors_to_a_thousandth():
    images = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    mean, std = images.mean(), images.std()
    assert exercises.check_pixel_stats((mean, std), images)
    assert exercises.check_pixel_stats((mean.item() + 4e-4, std.item() - 4e-4), images)
    assert not exercises.check_pixel_stats((mean.item() + 2e-3, std.item()), images)
    assert not exercises.check_pixel_stats((std, mean), images)
    assert not exercises.check_pixel_stats(mean.item(), images)  # one number, not the pair
    assert not exercises.check_pixel_stats((mean, std, 0.0), images)


def test_rarest_digit_is_the_one_with_the_fewest_labels():
    labels = torch.tensor([d for d in range(10) for _ in range(5 + d)] + [0] * 10)  # 0 has 15, 1 has 6
    assert exercises.check_rarest_digit(1, labels)
    assert exercises.check_rarest_digit(torch.tensor(1), labels)
    assert not exercises.check_rarest_digit(0, labels)
    assert not exercises.check_rarest_digit(12, labels)  # not a digit
    assert not exercises.check_rarest_digit(-9, labels)  # would index digit 1 from the end
    assert not exercises.check_rarest_digit(1.5, labels)  # would round down to 1
    assert not exercises.check_rarest_digit("one", labels)


def test_parameter_count_of_lecuns_300_100_network():
    assert exercises.check_parameter_count(266_610, hidden=[300, 100])
    assert not exercises.check_parameter_count(266_200, hidden=[300, 100])  # the weights without the biases
    assert exercises.check_parameter_count(109_386, hidden=[128, 64])


def test_lowest_recall_accepts_any_digit_that_ties_for_it():
    labels = torch.arange(10).repeat(10)
    preds = labels.clone()
    preds[labels == 3] = torch.tensor([3] * 6 + [5] * 4)  # recall of 3: 0.6
    preds[labels == 8] = torch.tensor([8] * 6 + [0] * 4)  # recall of 8: 0.6
    preds[labels == 9] = torch.tensor([9] * 9 + [4])  # recall of 9: 0.9
    assert exercises.check_lowest_recall(3, preds, labels)
    assert exercises.check_lowest_recall(8, preds, labels)
    assert not exercises.check_lowest_recall(9, preds, labels)
    assert not exercises.check_lowest_recall(-7, preds, labels)  # would index digit 3 from the end


def test_confident_mistakes_count_only_wrong_answers_above_ninety_percent():
    labels = torch.tensor([0, 1, 2, 3, 4])
    preds = torch.tensor([0, 7, 7, 7, 4])
    confidence = torch.tensor([0.99, 0.95, 0.90, 0.50, 0.99])  # wrong at 0.95 (counts), 0.90 and 0.50 (do not)
    assert exercises.check_confident_mistakes(1, confidence, preds, labels)
    assert not exercises.check_confident_mistakes(3, confidence, preds, labels)


@pytest.mark.parametrize(("finished", "n_trials", "right"), [(12, 12, 0), (5, 12, 7), (15, 12, 0)])
def test_trials_to_run_is_what_the_budget_leaves(finished, n_trials, right):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=finished)
    assert exercises.check_trials_to_run(right, study, n_trials)
    assert not exercises.check_trials_to_run(right + 1, study, n_trials)


def onecycle_peak() -> int:
    """The step at which the one-cycle schedule of 100 steps peaks, read off the schedule itself."""
    from mnist_lab import train

    probe = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    schedule, lrs = train.make_schedule("onecycle", probe, 100), []
    for _ in range(100):
        lrs.append(probe.param_groups[0]["lr"])
        probe.step()
        schedule.step()
    return lrs.index(max(lrs))


def test_the_numeric_checks_accept_the_right_value_and_refuse_a_wrong_one():
    """Each check works its answer out with torch; a right answer passes, a near miss does not, and None never."""
    images = torch.zeros(4, 1, 28, 28)
    images[0, 0, 5, 5] = 1.0  # one pixel inked in one image: 783 pixels are blank in all four
    logits = [2.0, 0.5, -1.0]
    cases = [
        (exercises.check_cross_entropy, (logits, 0), 0.2413, 0.3),
        (exercises.check_derivative, (2.0, 3.0, 1.0), 42.0, 41.0),  # d/dw (wx + b)^2 = 2x(wx + b)
        (exercises.check_logit_gradient, (logits, 0, 0), 0.7856 - 1, 0.7856),
        (exercises.check_blank_pixels, (images,), 783, 784),
        (exercises.check_initial_loss, (26,), 3.258, 2.303),
        (exercises.check_training_steps, (55_000, 128, 3), 1290, 1287),
        (exercises.check_momentum_factor, (0.9,), 10.0, 9.0),
        (exercises.check_schedule_peak, (100,), onecycle_peak(), onecycle_peak() + 3),
        (exercises.check_weight_left, (0.05, 5e-4, 1000), 0.9753, 0.95),
        (exercises.check_conv_output_size, (28, 3, 1, 2), 14, 13),
        (exercises.check_conv_parameters, (16, 32, 3), 4640, 4608),
        (exercises.check_smoothing_floor, (0.1,), 0.5003, 0.0943),
        (exercises.check_cnn_parameter_count, ([16, 32, 64],), 38_458, 38_000),
    ]
    for check, args, right, wrong in cases:
        assert check(right, *args), check.__name__
        assert not check(wrong, *args), check.__name__
        assert not check(None, *args), check.__name__


def test_the_checks_on_predictions_and_drawings():
    preds, labels = torch.tensor([0, 1, 2, 3, 9]), torch.tensor([0, 1, 5, 3, 4])
    assert exercises.check_first_mistake(2, preds, labels) and not exercises.check_first_mistake(4, preds, labels)
    box = torch.zeros(20, 10)
    box[:, 9] = 1.0  # ink on the right edge of a 20×10 box pasted at columns 9..18: centre of mass at column 18
    assert exercises.check_box_centring_offset(4.5, box) and not exercises.check_box_centring_offset(0.0, box)
    val = torch.eye(10)[torch.arange(100) % 10], torch.arange(100) % 10  # all right
    test = torch.eye(10)[torch.arange(100) % 10], (torch.arange(100) + (torch.arange(100) < 5)) % 10  # 95% right
    gap = 0.05 / math.sqrt(0 + 0.95 * 0.05 / 100)
    assert exercises.check_gap_in_standard_errors(round(gap, 2), *val, *test)
    assert not exercises.check_gap_in_standard_errors(round(gap, 2) + 1, *val, *test)
