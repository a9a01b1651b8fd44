"""Measured learning on the seed labels: leave-one-spec-out with N simulated corrections per spec."""

from __future__ import annotations

import pytest
from conftest import shared_path

from agent.config import Settings
from agent.match.evaluate import simulate_corrections
from agent.match.labels import seed_examples
from agent.match.matcher import Matcher


@pytest.fixture(scope="module")
def seed():
    labels = shared_path("seed", "labels")
    settings = Settings(labels_dir=str(labels))
    return seed_examples(labels), Matcher.from_settings(settings)


def test_corrections_are_given_and_their_headings_not_scored(seed):
    examples, matcher = seed
    p0, p5 = simulate_corrections(examples, matcher, 0), simulate_corrections(examples, matcher, 5)
    assert (p0.corrections, len(p0.report.items)) == (0, 192)
    assert (p5.corrections, len(p5.report.items)) == (60, 132)  # 12 specs x 5 corrected headings


def test_accuracy_with_five_corrections_is_at_least_accuracy_without(seed):
    examples, matcher = seed
    same = [simulate_corrections(examples, matcher, n, held=5).report for n in (0, 5)]
    assert same[1].top1_accuracy() >= same[0].top1_accuracy()


def test_one_and_three_corrections_do_not_lose_on_the_same_headings(seed):
    examples, matcher = seed
    reports = [simulate_corrections(examples, matcher, n, held=5).report for n in (0, 1, 3)]
    assert [len(r.items) for r in reports] == [132, 132, 132]
    assert reports[1].top1_accuracy() >= reports[0].top1_accuracy()
    assert reports[2].top1_accuracy() >= reports[0].top1_accuracy()
