"""Model quality against peers, measured side by side on the same splits.

For each dataset card and seed: ``prepare_frame`` with the default PreprocessConfig,
then a stratified 80/20 ``split_frame``. Entries, all scored on the same test rows:

* ``tabpipe``: default families tuned by ``tune_with_budget`` (successive halving)
  within ``--budget`` seconds, the best family by out-of-fold score or their greedy blend
  (``steps.ensemble.select_final``, as the validation step does), probabilities calibrated
  on out-of-fold train probabilities (binary: sigmoid, then a decision threshold tuned on
  them; multiclass: temperature and class biases, decisions unchanged).
* ``tabpipe_equal``: the same, but every family gets ``budget / len(families)`` s.
* peers: most-frequent dummy, balanced logistic regression (same preprocessing),
  default HistGradientBoosting(class_weight='balanced'), SMOTE + RandomForest and
  FLAML AutoML with the same budget (skipped when flaml[automl] is missing).

    python benchmarks/quality.py                     # full run (~40 min on 2 cores)
    python benchmarks/quality.py --quick             # smoke run, results to /tmp
    python benchmarks/quality.py --datasets hpc_data --seeds 0 --budget 30
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from steps.budget import tune_with_budget  # noqa: E402
from steps.config import DataConfig, PreprocessConfig, TrainConfig  # noqa: E402
from steps.data import load_table, prepare_frame, split_frame  # noqa: E402
from steps.ensemble import ENSEMBLE, EnsembleClassifier, select_final  # noqa: E402
from steps.metrics import metric_value, minority_label  # noqa: E402
from steps.tuning import tune_family  # noqa: E402
import quality_peers as peers  # noqa: E402
import quality_report  # noqa: E402

log = logging.getLogger("quality")
DATASETS = ["hpc_data", "mlc_churn", "attrition", "credit_data"]
METRICS = ["macro_f1", "balanced_accuracy", "roc_auc", "log_loss"]
RESULTS = ROOT / "benchmarks" / "results"


def load(name: str) -> tuple[pd.DataFrame, str, list | None]:
    """The prepared frame, its target and the card's class order (None if unordered)."""
    table = load_table(DataConfig(source=name), ROOT / "datasets")
    prepared = prepare_frame(table.frame, table.target, PreprocessConfig(),
                             id_columns=table.id_columns)
    return prepared.frame, table.target, (table.card or {}).get("class_order")


def split(frame: pd.DataFrame, target: str, seed: int):
    train, test = split_frame(frame, target, PreprocessConfig().test_size, seed)
    return (train.drop(columns=[target]), train[target].astype(object),
            test.drop(columns=[target]), test[target].astype(object))


def test_scores(y_test, proba, pred, classes, positive) -> dict:
    """Test metrics with the pipeline's conventions (binary AUC on the training minority,
    multiclass AUC one-vs-rest macro)."""
    return {m: metric_value(m, y_test, pred, proba, classes, positive_label=positive)
            for m in METRICS}


# --- decision threshold ------------------------------------------------------------
def pick_threshold(y, oof, classes, positive) -> float:
    """The validation step's threshold for the benchmark's metric (macro-F1): tuned on the
    out-of-fold probabilities, ties to the cut nearest 0.5."""
    from steps.thresholds import threshold_metric, tune_threshold
    metric, beta = threshold_metric("macro_f1", 1.0, None, 1.0)
    return tune_threshold(y, oof[:, list(classes).index(positive)], beta, metric=metric,
                          positive_label=positive).threshold


def tabpipe_scores(model, oof, classes, y_used, y_tr, X_te, y_te) -> dict:
    """Test scores of the chosen model, calibrated and (binary) thresholded on its
    out-of-fold train probabilities, as the validation step does."""
    from steps.calibration import calibrate
    classes = list(classes)
    positive = minority_label(y_tr, classes) if len(classes) == 2 else None
    model, oof = calibrate(model, oof, np.asarray(y_used), classes, positive, "sigmoid")
    proba = peers.proba_in_order(model, X_te, classes)
    in_model = proba[:, [classes.index(c) for c in model.classes_]]
    pred = np.asarray(model.decide(in_model), dtype=object)  # multiclass: the model's argmax
    row = {"macro_f1_argmax": metric_value("macro_f1", y_te, pred, proba, classes)}
    if positive is not None:
        cut = pick_threshold(np.asarray(y_used), oof, classes, positive)
        other = classes[1 - classes.index(positive)]
        pred = np.where(proba[:, classes.index(positive)] >= cut, positive, other)
        row.update(threshold=cut)
    return {**test_scores(y_te, proba, pred, classes, positive), **row}


def final_model(results: dict, y_tr, ensemble: bool = True):
    """What the validation step serves: the best family by out-of-fold score, or the
    greedy blend of the full-row families when it scores higher out of fold."""
    full = {f: r for f, r in results.items() if len(r.row_index) == len(y_tr)}
    classes = next(iter(results.values())).classes
    if not full:  # every family row-capped: fall back to the best CV score
        winner = max(results, key=lambda f: results[f].best_score)
        res = results[winner]
        return winner, res.model, res.oof_proba, y_tr.iloc[res.row_index].to_numpy(), res.best_score
    positive = minority_label(y_tr, classes) if len(classes) == 2 else None
    choice = select_final({f: r.oof_proba for f, r in full.items()}, y_tr.to_numpy(), classes,
                          TrainConfig().metric, positive_label=positive, ensemble=ensemble)
    if choice.name != ENSEMBLE:
        res = full[choice.name]
        return choice.name, res.model, res.oof_proba, y_tr, choice.cv_scores[choice.name]
    sel = choice.ensemble
    model = EnsembleClassifier({f: full[f].model for f in sel.weights}, sel.weights)
    members = "+".join(sel.weights)
    return f"ensemble({members})", model, sel.blend({f: full[f].oof_proba for f in sel.weights}), \
        y_tr, sel.score


def run_tabpipe(X_tr, y_tr, X_te, y_te, budget, seed, equal: bool, class_order=None) -> dict:
    train_cfg = TrainConfig(seed=seed, budget_s=budget)
    families = list(train_cfg.families)
    t0 = time.monotonic()
    if equal:
        results = {f: tune_family(f, X_tr, y_tr, PreprocessConfig(), train_cfg,
                                  timeout_s=budget / len(families), class_order=class_order)
                   for f in families}
        detail = ""
    else:
        out = tune_with_budget(families, X_tr, y_tr, PreprocessConfig(), train_cfg, budget,
                               class_order=class_order)
        results = out.results
        detail = "dropped=" + ",".join(f"{d['family']}@r{d['round']}" for d in out.dropped)
    tune_s = time.monotonic() - t0
    winner, model, oof, y_used, cv = final_model(results, y_tr)
    row = tabpipe_scores(model, oof, classes_of(results), y_used, y_tr, X_te, y_te)
    return {**row, "wall_s": time.monotonic() - t0, "tune_s": tune_s,
            "cv_score": cv, "winner": winner, "detail": f"winner={winner}; {detail}"}


def classes_of(results: dict) -> list:
    return list(next(iter(results.values())).classes)


def run_peer(name, X_tr, y_tr, X_te, y_te, budget, seed) -> dict | None:
    t0 = time.monotonic()
    fitted = peers.fit(name, X_tr, y_tr, budget, seed)
    if fitted is None:
        return None
    model, detail = fitted
    classes = sorted(pd.unique(y_tr).tolist())
    proba = peers.proba_in_order(model, X_te, classes)
    pred = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
    positive = minority_label(y_tr, classes) if len(classes) == 2 else None
    return {**test_scores(y_te, proba, pred, classes, positive),
            "wall_s": time.monotonic() - t0, "detail": detail}


ENTRIES = ["tabpipe", "tabpipe_equal", *peers.PEERS]


def run_split(dataset, frame, target, seed, budget, entries, done, class_order=None) -> list[dict]:
    X_tr, y_tr, X_te, y_te = split(frame, target, seed)
    rows = []
    for entry in entries:
        if (dataset, seed, entry) in done:
            continue
        log.info("%s seed %d: %s ...", dataset, seed, entry)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if entry.startswith("tabpipe"):
                row = run_tabpipe(X_tr, y_tr, X_te, y_te, budget, seed, entry == "tabpipe_equal",
                                  class_order)
            else:
                row = run_peer(entry, X_tr, y_tr, X_te, y_te, budget, seed)
        if row is None:
            log.info("%s: skipped (not installed)", entry)
            continue
        row = {"dataset": dataset, "seed": seed, "method": entry, "budget_s": budget, **row}
        log.info("%s seed %d: %s macro-F1 %.3f  bal-acc %.3f  AUC %.3f  %.1fs", dataset, seed,
                 entry, row["macro_f1"], row["balanced_accuracy"], row["roc_auc"], row["wall_s"])
        rows.append(row)
    return rows


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=DATASETS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--budget", type=float, default=60.0, help="training seconds per entry")
    ap.add_argument("--entries", nargs="+", default=ENTRIES, choices=ENTRIES)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 6 s budget, seed 0, results to /tmp/tabpipe-quality")
    ap.add_argument("--out", type=Path, default=None, help="results folder")
    ap.add_argument("--no-ordinal", action="store_true",
                    help="ablation: ignore the cards' class order (no ordinal search)")
    ap.add_argument("--resume", action="store_true",
                    help="keep rows already in <out>/quality_runs.csv and run only the rest")
    args = ap.parse_args(argv)
    if args.quick:
        args.budget, args.seeds = 6.0, [0]
        args.out = args.out or Path("/tmp/tabpipe-quality")
    args.out = args.out or RESULTS
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    for name in ("optuna", "steps", "flaml"):
        logging.getLogger(name).setLevel(logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    runs_path = args.out / "quality_runs.csv"
    rows = pd.read_csv(runs_path).to_dict("records") if args.resume and runs_path.exists() else []
    done = {(r["dataset"], r["seed"], r["method"]) for r in rows}
    # one core per process: the machine is shared and OpenMP threads (HistGradientBoosting,
    # LightGBM) competing with other work slow down by orders of magnitude
    with threadpool_limits(limits=1):
        for dataset in args.datasets:
            frame, target, class_order = load(dataset)
            class_order = None if args.no_ordinal else class_order
            for seed in args.seeds:
                rows += run_split(dataset, frame, target, seed, args.budget, args.entries, done,
                                  class_order)
                pd.DataFrame(rows).to_csv(runs_path, index=False)  # checkpoint per split
    runs = pd.DataFrame(rows)
    summary = quality_report.summarise(runs)
    print(quality_report.text_table(summary))
    quality_report.write_all(runs, summary, args.out, args.budget)
    log.info("wrote %s", ", ".join(p.name for p in sorted(args.out.glob("quality*"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
