"""Promotion: gates first, then a strict win over the champion on the same frozen split."""
from __future__ import annotations

import pytest

from steps.config import PublishConfig
from steps.promotion import Decision, decide_promotion

CFG = PublishConfig()


def summary(score, split="split-a", metric="macro_f1", dataset="data-1"):
    return {"metric": metric, "score": score, "split_id": split, "dataset_hash": dataset}


def decide(candidate, champion=None, gates=True, reasons=(), cfg=CFG) -> Decision:
    return decide_promotion(candidate, champion, gates, list(reasons), cfg)


def test_first_model_is_published_when_gates_pass():
    d = decide(summary(0.71))
    assert d.publish
    assert any("no champion yet" in r for r in d.reasons)


def test_failing_gates_block_even_without_champion():
    d = decide(summary(0.99), gates=False, reasons=["macro_f1 0.40 < min_primary 0.50"])
    assert not d.publish
    assert "quality gates failed" in d.reasons[0] and "min_primary 0.50" in d.reasons[0]


def test_failing_gates_block_a_better_candidate():
    assert not decide(summary(0.9), summary(0.5), gates=False).publish


def test_must_beat_the_champion_on_the_same_split():
    assert decide(summary(0.81), summary(0.80)).publish
    worse = decide(summary(0.79), summary(0.80))
    assert not worse.publish and "champion stays" in worse.reasons[-1]


def test_a_tie_keeps_the_champion():
    d = decide(summary(0.80), summary(0.80))
    assert not d.publish
    assert "does not beat" in d.reasons[-1]


@pytest.mark.parametrize("score, publish", [(0.82, False), (0.8200001, True), (0.83, True), (0.81, False)])
def test_min_improvement_is_a_strict_margin(score, publish):
    cfg = PublishConfig(min_improvement=0.02)
    assert decide(summary(score), summary(0.80), cfg=cfg).publish is publish


def test_champion_on_another_split_does_not_block_but_is_reported():
    d = decide(summary(0.60, split="split-b", dataset="data-2"), summary(0.95, split="split-a"))
    assert d.publish
    text = " ".join(d.reasons)
    assert "Cannot compare" in text and "different dataset version" in text
    assert "without a head-to-head comparison" in text


def test_champion_with_another_metric_is_not_compared():
    d = decide(summary(0.6), summary(0.9, metric="roc_auc"))
    assert d.publish and "scored with roc_auc" in " ".join(d.reasons)


def test_champion_without_score_is_not_compared():
    d = decide(summary(0.6), {"metric": "macro_f1", "score": None, "split_id": "split-a"})
    assert d.publish and "no recorded score" in " ".join(d.reasons)


def test_non_numeric_candidate_score_is_refused():
    assert not decide(summary(float("nan"))).publish


def test_candidate_summary_must_carry_the_keys():
    with pytest.raises(ValueError, match="split_id"):
        decide({"metric": "macro_f1", "score": 0.5})


def test_reasons_are_sentences():
    for d in (decide(summary(0.81), summary(0.80)), decide(summary(0.7)),
              decide(summary(0.7), gates=False, reasons=["x"])):
        assert d.reasons and all(r[0].isupper() and r.endswith(".") for r in d.reasons)
