"""The exercises' self-checks: right answers pass, wrong, missing or malformed ones do not, and none raises."""

from __future__ import annotations

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
