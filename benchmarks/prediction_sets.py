"""Do the prediction sets hold the true class as promised, for every class?

For each dataset card and split seed (``quality.py``'s stratified 80/20 splits): hist_gb's
quick start (one configuration, the pipeline's 5 folds) gives out-of-fold probabilities on
the training rows, calibrated as the validate step does; conformal thresholds at
``--alpha`` are fitted on them, one per class (``by_class``, the default) or one shared, and
the sets are scored on the test rows: coverage over all rows, the least covered class's
coverage, and the mean set size. The promise of ``by_class`` is 1 - alpha for each class;
of a shared threshold, 1 - alpha on average over the rows.

Findings (2026-12-05, 4 datasets x 3 splits, alpha 0.1): a shared threshold covers 0.89-0.91
of all test rows and the rare class far less (attrition 0.40, mlc_churn 0.62, credit_data
0.73); per-class thresholds cover every class at 0.87-0.90, about 0.02 short of the promise
because the fold models' out-of-fold scores stand in for the sharper refit model's.

    python benchmarks/prediction_sets.py                  # ~2 min on 2 cores
    python benchmarks/prediction_sets.py --datasets hpc_data --seeds 0
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from quality import DATASETS, load, split  # noqa: E402
from steps.calibration import calibrate  # noqa: E402
from steps.config import PreprocessConfig, TrainConfig  # noqa: E402
from steps.conformal import coverage_table, fit_thresholds, prediction_sets  # noqa: E402
from steps.metrics import minority_label  # noqa: E402
from steps.tuning import tune_family  # noqa: E402

OUT = ROOT / "benchmarks" / "results"


def one_split(name: str, seed: int, alpha: float) -> list[dict]:
    frame, target, order = load(name)
    X, y, X_test, y_test = split(frame, target, seed)
    y, y_test = y.astype(str), y_test.astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = tune_family("hist_gb", X, y, PreprocessConfig(),
                          TrainConfig(n_trials=1, timeout_s=None, seed=seed), timeout_s=None,
                          class_order=order)
    y_oof = y.iloc[res.row_index].to_numpy()
    positive = minority_label(y, sorted(y.unique())) if y.nunique() == 2 else None
    model, oof = calibrate(res.model, res.oof_proba, y_oof, res.classes, positive, "sigmoid")
    proba, classes = model.predict_proba(X_test), [str(c) for c in model.classes_]
    oof_classes = [str(c) for c in res.classes]
    rows = []
    for by_class in (True, False):
        rule = fit_thresholds(y_oof, oof, oof_classes, alpha, by_class)
        table = coverage_table(y_test, prediction_sets(proba, classes, rule, order), classes)
        per_class = table[table["class"] != "all"]
        worst = per_class.loc[per_class["coverage"].idxmin()]
        overall = table[table["class"] == "all"].iloc[0]
        rows.append({"dataset": name, "seed": seed,
                     "thresholds": "per class" if by_class else "shared",
                     "coverage": overall["coverage"], "least_covered": worst["class"],
                     "least_coverage": worst["coverage"], "least_rows": int(worst["rows"]),
                     "mean_size": overall["mean_size"], "singletons": overall["singletons"],
                     "singleton_accuracy": overall["singleton_accuracy"]})
        print(f"{name} seed {seed} {rows[-1]['thresholds']:9s} coverage {overall['coverage']:.3f} "
              f"least {worst['class']} {worst['coverage']:.3f} size {overall['mean_size']:.2f}",
              flush=True)
    return rows


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    grouped = runs.groupby(["dataset", "thresholds"], sort=False)
    table = grouped.agg(coverage=("coverage", "mean"), least_coverage=("least_coverage", "mean"),
                        worst_split=("least_coverage", "min"), mean_size=("mean_size", "mean"),
                        singletons=("singletons", "mean"),
                        singleton_accuracy=("singleton_accuracy", "mean"))
    return table.reset_index().round(3)


def write(runs: pd.DataFrame, args) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    runs.to_csv(OUT / "prediction_sets_runs.csv", index=False)
    table = summary(runs)
    head = "| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns) + "\n"
    cell = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    body = "".join("| " + " | ".join(cell(v) for v in row) + " |\n"
                   for row in table.itertuples(index=False))
    text = ("## Prediction sets (`benchmarks/prediction_sets.py`)\n\n"
            f"Conformal prediction sets at {1 - args.alpha:.0%} from hist_gb's out-of-fold, "
            f"calibrated probabilities (its quick start, 5 folds), scored on the test rows of "
            f"seeds {', '.join(map(str, args.seeds))}: `coverage` over all test rows, "
            "`least_coverage` that of the least covered class (mean over splits; "
            "`worst_split` its lowest), `mean_size` classes per set, `singletons` the share of "
            "single-class sets and `singleton_accuracy` how often those are right; hpc_data's "
            "ordered classes get runs of neighbouring classes, as in the pipeline. Per-class "
            "thresholds promise the level for every class; a "
            "shared one, on average over the rows.\n\n" + head + body)
    (OUT / "prediction_sets.md").write_text(text)
    print(text)
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", nargs="+", default=DATASETS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--alpha", type=float, default=0.1)
    args = ap.parse_args(argv)
    runs = [row for name in args.datasets for seed in args.seeds
            for row in one_split(name, seed, args.alpha)]
    write(pd.DataFrame(runs), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
