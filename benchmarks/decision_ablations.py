"""Measurements behind ``evaluate.cost_decisions``: least-expected-cost decisions against
the pipeline's usual ones, under misclassification costs.

    python benchmarks/decision_ablations.py costs --datasets hpc_data mlc_churn   # ~7 min

``costs``: the quality benchmark's 3 stratified 80/20 splits; the default families tuned
under one 60 s budget, the winner picked out of fold (best family or greedy blend), its
probabilities calibrated on out-of-fold training predictions, exactly as the quality
benchmark's ``tabpipe`` entry. Then test expected cost per row and macro-F1 of the usual
decisions (multiclass: the model's argmax; binary: the out-of-fold F1 threshold) and of the
least-expected-cost decisions on the calibrated probabilities, with the paired bootstrap
interval of the cost saved. Costs: hpc_data's from Kuhn and Johnson (ch. 17); for the binary
cards, a missed minority row costs 5 false alarms.

Findings (2026-12-02, 2 cores), mean of the 3 splits, test cost per row (usual -> least
expected cost) and macro-F1 (usual -> least cost):
hpc_data 0.274 -> 0.261 (per split -0.036, +0.037, +0.036 saved; lower on 2 of 3), macro-F1
0.829 -> 0.780; mlc_churn (a missed churner costs 5) 0.162 -> 0.138 (lower on all 3),
macro-F1 0.911 -> 0.882. The least-cost rule trades the metric for the costs, as it should;
on hpc_data the balanced weights' argmax is already close to cost-aware.

Tuning for the costs (2026-12-02, a one-off script on the same splits and costs): each
family's Optuna objective replaced by minus the fold's cost per row, of least-cost decisions
on the fold model's probabilities or of its argmax, everything else as above. Test cost per
row, mean of 3 splits (macro-F1 tuning / least-cost tuning / argmax-cost tuning): hpc_data
0.255 / 0.255 / 0.257, mlc_churn 0.138 / 0.143 / 0.144; out of fold no better either. Under a
60 s budget the studies mostly keep their quick starts, and least-cost decisions on calibrated
probabilities already do the cost work, so each family still tunes for ``train.metric``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import quality as q  # noqa: E402
from quality_ablations import run_ablation  # noqa: E402
from steps.bootstrap import mean_ci  # noqa: E402
from steps.budget import tune_with_budget  # noqa: E402
from steps.calibration import calibrate  # noqa: E402
from steps.config import PreprocessConfig, TrainConfig  # noqa: E402
from steps.error_costs import cost_matrix, least_cost_codes, row_costs  # noqa: E402
from steps.metrics import encode  # noqa: E402

COSTS = {"hpc_data": {"L": {"VF": 10, "F": 5}, "M": {"VF": 5, "F": 5}},
         "mlc_churn": {"yes": {"no": 5}}, "attrition": {"Yes": {"No": 5}},
         "credit_data": {"bad": {"good": 5}}}
BUDGET_S = 60.0


def _winner(X_tr, y_tr, seed, class_order):
    cfg = TrainConfig(seed=seed, budget_s=BUDGET_S)
    out = tune_with_budget(list(cfg.families), X_tr, y_tr, PreprocessConfig(), cfg, BUDGET_S,
                           class_order=class_order)
    name, model, oof, y_used, _ = q.final_model(out.results, y_tr)
    return name, model, oof, np.asarray(y_used).astype(str), q.classes_of(out.results)


def _usual_decisions(model, oof, y_used, classes, positive, proba):
    if positive is None:  # the uncalibrated argmax, on columns in the model's order
        in_model = proba[:, [classes.index(str(c)) for c in model.classes_]]
        return np.asarray(model.decide(in_model), dtype=object).astype(str)
    cut = q.pick_threshold(y_used, oof, classes, positive)
    other = classes[1 - classes.index(positive)]
    return np.where(proba[:, classes.index(positive)] >= cut, positive, other)


def costs(datasets) -> pd.DataFrame:
    from sklearn.metrics import f1_score
    rows = []
    for name in datasets:
        frame, target, order = q.load(name)
        for seed in (0, 1, 2):
            X_tr, y_tr, X_te, y_te = q.split(frame, target, seed)
            y_tr, y_te = y_tr.astype(str), y_te.astype(str).to_numpy()
            winner, model, oof, y_used, classes = _winner(X_tr, y_tr, seed, order)
            classes = [str(c) for c in classes]
            positive = str(y_tr.value_counts().idxmin()) if len(classes) == 2 else None
            model, oof = calibrate(model, oof, y_used, classes, positive, "sigmoid")
            proba = q.peers.proba_in_order(model, X_te, classes)
            matrix = cost_matrix(COSTS[name], classes)
            usual = _usual_decisions(model, oof, y_used, classes, positive, proba)
            least = np.asarray(classes, dtype=object)[least_cost_codes(proba, matrix)]
            c_usual, c_least = (row_costs(y_te, p, classes, matrix) for p in (usual, least))
            low, high = mean_ci(c_usual - c_least, encode(y_te, classes), 1000, seed)
            rows.append({"dataset": name, "seed": seed, "winner": winner,
                         "cost_usual": c_usual.mean(), "cost_least": c_least.mean(),
                         "saved": (c_usual - c_least).mean(), "saved_ci_low": low,
                         "saved_ci_high": high,
                         "f1_usual": f1_score(y_te, usual.astype(str), average="macro"),
                         "f1_least": f1_score(y_te, least.astype(str), average="macro")})
            print(rows[-1], file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


ABLATIONS = {"costs": costs}


def main(argv=None) -> int:
    _, table = run_ablation(ABLATIONS, __doc__.splitlines()[0], argv)
    print(table.groupby("dataset")[["cost_usual", "cost_least", "saved", "f1_usual",
                                    "f1_least"]].mean().round(4).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
