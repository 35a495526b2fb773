"""Promotion: gates first, then a strict win over the champion on the same frozen split."""
from __future__ import annotations

import numpy as np
import pytest

from steps.config import PublishConfig
from steps.promotion import Decision, decide_promotion

CFG = PublishConfig()


def summary(score, split="split-a", metric="macro_f1", dataset="data-1"):
    return {"metric": metric, "score": score, "split_id": split, "dataset_hash": dataset}


def decide(candidate, champion=None, gates=True, reasons=(), cfg=CFG, paired=None) -> Decision:
    return decide_promotion(candidate, champion, gates, list(reasons), cfg, paired)


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


def test_champion_on_another_split_stays_unless_told_otherwise():
    candidate, champion = summary(0.60, split="split-b", dataset="data-2"), summary(0.95, split="split-a")
    kept = decide(candidate, champion)
    assert not kept.publish
    text = " ".join(kept.reasons)
    assert "cannot compare with the champion" in text and "different dataset version" in text
    assert "champion stays" in text and "--set publish.other_split=publish" in text
    anyway = decide(candidate, champion, cfg=PublishConfig(other_split="publish"))
    assert anyway.publish
    assert "without a head-to-head comparison" in " ".join(anyway.reasons)


def test_champion_with_another_metric_is_not_compared():
    d = decide(summary(0.6), summary(0.9, metric="roc_auc"))
    assert not d.publish and "scored with roc_auc" in " ".join(d.reasons)
    assert decide(summary(0.6), summary(0.9, metric="roc_auc"),
                  cfg=PublishConfig(other_split="publish")).publish


def test_champion_without_score_is_not_compared():
    d = decide(summary(0.6), {"metric": "macro_f1", "score": None, "split_id": "split-a"})
    assert not d.publish and "no recorded score" in " ".join(d.reasons)


def test_non_numeric_candidate_score_is_refused():
    assert not decide(summary(float("nan"))).publish


def test_candidate_summary_must_carry_the_keys():
    with pytest.raises(ValueError, match="split_id"):
        decide({"metric": "macro_f1", "score": 0.5})


def test_reasons_are_sentences():
    for d in (decide(summary(0.81), summary(0.80)), decide(summary(0.7)),
              decide(summary(0.7), gates=False, reasons=["x"])):
        assert d.reasons and all(r[0].isupper() and r.endswith(".") for r in d.reasons)


def _paired(delta, low, high):
    from steps.paired import PairedDifference
    return PairedDifference("macro_f1", delta, low, high, 0.3, 867, 1000)


def test_paired_interval_is_reported_and_noise_is_named():
    d = decide(summary(0.81), summary(0.80), paired=_paired(0.01, -0.004, 0.024))
    assert d.publish  # the default rule is the point estimate
    text = d.reasons[-1]
    assert "+0.0100 (95% CI -0.0040 to +0.0240, paired bootstrap over 867 test rows)" in text
    assert "cannot tell the two apart" in text and "require_significant_gain" in text
    clear = decide(summary(0.83), summary(0.80), paired=_paired(0.03, 0.012, 0.05))
    assert clear.publish and "cannot tell" not in clear.reasons[-1]


@pytest.mark.parametrize("low, publish", [(-0.004, False), (0.0, False), (0.001, True)])
def test_required_significance_keeps_the_champion_on_noise(low, publish):
    cfg = PublishConfig(require_significant_gain=True)
    d = decide(summary(0.81), summary(0.80), cfg=cfg, paired=_paired(0.01, low, 0.024))
    assert d.publish is publish
    assert ("champion stays" in d.reasons[-1]) is not publish


def test_required_significance_uses_the_margin_and_falls_back_without_a_pairing():
    cfg = PublishConfig(require_significant_gain=True, min_improvement=0.01)
    assert not decide(summary(0.83), summary(0.80), cfg=cfg, paired=_paired(0.03, 0.008, 0.05)).publish
    assert decide(summary(0.83), summary(0.80), cfg=cfg, paired=_paired(0.03, 0.011, 0.05)).publish
    # champion weights unreadable, say: the recorded scores decide, as without the option
    assert decide(summary(0.83), summary(0.80), cfg=cfg).publish


def test_head_to_head_scores_both_models_on_the_same_rows():
    from sklearn.datasets import make_classification
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from steps.promotion import head_to_head
    X, y = make_classification(600, 6, n_informative=4, weights=[0.8], random_state=0)
    y = np.where(y == 1, "yes", "no").astype(object)
    good = LogisticRegression().fit(X[:400], y[:400])
    weak = DummyClassifier(strategy="stratified", random_state=0).fit(X[:400], y[:400])
    gain = head_to_head(good, weak, X[400:], y[400:], "macro_f1", n=300, positive_label="yes")
    assert gain.rows == 200 and gain.significant and gain.delta > 0.2
    back = head_to_head(weak, good, X[400:], y[400:], "macro_f1", n=300, positive_label="yes")
    assert back.delta == pytest.approx(-gain.delta) and back.ci_high < 0
    other = DummyClassifier().fit(X[:400], np.where(y[:400] == "yes", "a", "b"))
    with pytest.raises(ValueError, match="champion predicts classes"):
        head_to_head(good, other, X[400:], y[400:], "macro_f1", n=10)


def test_under_costs_the_saving_per_row_decides_whatever_the_champion_was_chosen_by():
    from steps.paired import PairedDifference
    saving = PairedDifference("expected_cost", 0.03, 0.01, 0.05, 0.0, 867, 1000, 0.24, 0.27)
    # the champion was chosen for macro_f1 and scores higher on it: costs still decide
    d = decide(summary(0.78), summary(0.83, metric="macro_f1"), paired=saving)
    assert d.publish and "Cannot compare" not in " ".join(d.reasons)
    assert "expected cost per row 0.2400 against the champion's 0.2700" in d.reasons[-1]
    noise = PairedDifference("expected_cost", 0.01, -0.01, 0.03, 0.2, 867, 1000, 0.26, 0.27)
    assert decide(summary(0.78), summary(0.83), paired=noise).publish
    strict = PublishConfig(require_significant_gain=True)
    kept = decide(summary(0.78), summary(0.83), cfg=strict, paired=noise)
    assert not kept.publish and "champion stays" in kept.reasons[-1]
    dearer = PairedDifference("expected_cost", -0.02, -0.04, 0.0, 1.0, 867, 1000, 0.29, 0.27)
    assert not decide(summary(0.90), summary(0.83), paired=dearer).publish
    # another split: no head-to-head, as without costs
    other = decide(summary(0.78, split="split-b"), summary(0.83), paired=saving)
    assert not other.publish and "cannot compare" in " ".join(other.reasons)


def test_head_to_head_prices_both_models_by_the_costs():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from steps.error_costs import with_cost_decisions
    from steps.promotion import head_to_head
    X, y = make_classification(2000, 6, n_informative=4, weights=[0.85], random_state=1)
    y = np.where(y == 1, "yes", "no").astype(object)
    plain = LogisticRegression().fit(X[:1200], y[:1200])
    costs = {"yes": {"no": 10}}
    aware = with_cost_decisions(plain, costs)
    saving = head_to_head(aware, plain, X[1200:], y[1200:], "macro_f1", n=300, costs=costs)
    assert saving.metric == "expected_cost" and saving.value_a < saving.value_b
    assert saving.delta == pytest.approx(saving.value_b - saving.value_a) and saving.significant
    # by macro-F1 the cost-aware decisions lose: the criterion, not the model, changed
    assert head_to_head(aware, plain, X[1200:], y[1200:], "macro_f1", n=300).delta < 0


@pytest.mark.parametrize("value, expected", [(1, True), (0.5, True), (-2.0, True), (True, False),
                                             (float("nan"), False), (float("inf"), False),
                                             ("0.9", False), (None, False)])
def test_only_finite_real_numbers_count_as_scores(value, expected):
    from steps.numbers import is_finite_number
    assert is_finite_number(value) is expected
