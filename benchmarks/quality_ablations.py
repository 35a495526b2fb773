"""Ablations behind design choices that were measured and not adopted.

Each one compares a variant against what the pipeline does, on the quality benchmark's
datasets, with paired scores (same folds or same splits) so small differences are judged
against their own noise. Figures, not tests.

    python benchmarks/quality_ablations.py features   # HGB: native categoricals, pair features
    python benchmarks/quality_ablations.py bagging    # HGB: refit vs fold-model average
    python benchmarks/quality_ablations.py neighbourhood --datasets hpc_data
                                                      # HGB quick start vs one-step changes

``features``: 5-fold CV repeated 3 times on the whole prepared table, HistGradientBoosting
with the hist_gb quick-start configuration (balanced weights), paired per fold against
one-hot encoding as the pipeline does. Variants: HGB's native categorical splits, and
log-products of every pair of the (up to 5 most skewed) non-negative integer count columns.
``bagging``: the benchmark's 3 stratified 80/20 splits; test macro-F1 of the refit on all
training rows, of the average of the 5 CV fold models, and of both averaged.

Findings, and every other variant measured for the model families and the blend, are in
docs/ABLATIONS.md.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import quality as q  # noqa: E402
import quality_peers as peers  # noqa: E402
from steps.columns import is_numeric  # noqa: E402
from steps.config import PreprocessConfig  # noqa: E402
from steps.models import FAMILIES  # noqa: E402
from steps.recipe import build_model_pipeline, infer_roles  # noqa: E402
from steps.study import _folds  # noqa: E402

QUICK_HGB = dict(FAMILIES["hist_gb"].quick_starts[0])
NATIVE_MAX_LEVELS = 16


def _hgb(**extra):
    from sklearn.ensemble import HistGradientBoostingClassifier
    p = QUICK_HGB
    return HistGradientBoostingClassifier(
        learning_rate=p["learning_rate"], max_iter=p["max_iter"], max_leaf_nodes=p["max_leaf_nodes"],
        min_samples_leaf=p["min_samples_leaf"], l2_regularization=p["l2_regularization"],
        early_stopping=False, class_weight="balanced", random_state=0, **extra)


def count_columns(frame: pd.DataFrame, most: int = 5) -> list[str]:
    """Non-negative integer columns with >= 10 levels and skew > 1, most skewed first."""
    found = []
    for col in frame.columns:
        if is_numeric(frame[col]):
            v = frame[col].dropna()
            if (v >= 0).all() and v.nunique() >= 10 and np.allclose(v, v.round()) and v.skew() > 1:
                found.append((float(v.skew()), col))
    return [c for _, c in sorted(found, reverse=True)[:most]]


def hybrid(frame: pd.DataFrame, max_levels: int = NATIVE_MAX_LEVELS) -> pd.DataFrame:
    """Native categories up to ``max_levels`` levels, one-hot columns above."""
    out = peers.as_categories(frame)
    wide = [c for c in out.columns if isinstance(out[c].dtype, pd.CategoricalDtype)
            and out[c].nunique() > max_levels]
    return pd.get_dummies(out, columns=wide, dtype=float)


def with_pairs(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for a, b in itertools.combinations(cols, 2):
        out[f"{a}*{b}"] = np.log1p(frame[a]) + np.log1p(frame[b])
    return out


def features(datasets) -> pd.DataFrame:
    from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score
    rows = []
    for name in datasets:
        frame, target, _ = q.load(name)
        y, X = frame[target].astype(str), frame.drop(columns=[target])
        cols = count_columns(X)
        cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=3, random_state=1)
        variants = {"onehot (pipeline)": (pd.get_dummies(peers.as_categories(X), dtype=float), _hgb()),
                    "native categorical": (peers.as_categories(X), _hgb(categorical_features="from_dtype")),
                    f"native <= {NATIVE_MAX_LEVELS} levels, one-hot above": (
                        hybrid(X), _hgb(categorical_features="from_dtype")),
                    "onehot + pair log-products": (
                        pd.get_dummies(peers.as_categories(with_pairs(X, cols)), dtype=float), _hgb())}
        base = None
        for label, (data, model) in variants.items():
            s = cross_val_score(model, data, y, cv=cv, scoring="f1_macro")
            base = s if base is None else base
            d = s - base
            rows.append({"dataset": name, "variant": label, "cv_macro_f1": s.mean(),
                         "paired_delta": d.mean(), "delta_se": d.std() / np.sqrt(len(d)),
                         "columns": data.shape[1], "pairs_of": ",".join(cols)})
            print(f"{name:12s} {label:28s} {s.mean():.4f}  Δ {d.mean():+.4f} ± "
                  f"{d.std() / np.sqrt(len(d)):.4f}", file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def bagging(datasets) -> pd.DataFrame:
    from sklearn.metrics import f1_score
    rows = []
    for name in datasets:
        frame, target, order = q.load(name)
        params = {**QUICK_HGB, **({"ordinal": True} if order else {})}
        for seed in (0, 1, 2):
            X_tr, y_tr, X_te, y_te = q.split(frame, target, seed)
            X_tr, y_tr = X_tr.reset_index(drop=True), y_tr.reset_index(drop=True)
            roles, classes = infer_roles(X_tr), sorted(y_tr.unique())

            def fit(idx):
                model = build_model_pipeline(roles, PreprocessConfig(), "hist_gb", params,
                                             "class_weight", seed, y=y_tr.iloc[idx], class_order=order)
                return peers.proba_in_order(model.fit(X_tr.iloc[idx], y_tr.iloc[idx]), X_te, classes)
            refit = fit(np.arange(len(y_tr)))
            bag = sum(fit(tr) for tr, _ in _folds(y_tr, 5, seed, [])) / 5
            labels = np.asarray(classes, dtype=object)
            f1 = lambda p: f1_score(y_te, labels[p.argmax(1)], average="macro")  # noqa: E731
            rows.append({"dataset": name, "seed": seed, "refit": f1(refit), "fold_bag": f1(bag),
                         "refit_plus_bag": f1((refit + 5 * bag) / 6)})
            print(rows[-1], file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


HGB_VARIANTS = {"quick start (pipeline)": {}, "min_samples_leaf 5": {"min_samples_leaf": 5},
                "min_samples_leaf 40": {"min_samples_leaf": 40},
                "31 leaves, 300 iterations": {"max_leaf_nodes": 31, "max_iter": 300},
                "l2_regularization 1": {"l2_regularization": 1.0},
                "max_features 0.5": {"max_features": 0.5},
                "class_weight_power 0.5": {"class_weight_power": 0.5}}


def neighbourhood(datasets) -> pd.DataFrame:
    """Out-of-fold (the pipeline's 5 folds) and test macro-F1 of hist_gb's quick start and
    one-parameter changes of it, per split; random_forest/extra_trees with and without the
    ordinal decomposition on ordered targets."""
    from dataclasses import replace

    from sklearn.metrics import f1_score
    import steps.models as models
    rows = []
    for name in datasets:
        frame, target, order = q.load(name)
        plans = [("hist_gb", label, {**QUICK_HGB, **({"ordinal": True} if order else {}), **extra})
                 for label, extra in HGB_VARIANTS.items()]
        if order:
            plans += [(f, f"ordinal={o}", {**FAMILIES[f].quick_starts[0], "ordinal": o})
                      for f in ("random_forest", "extra_trees") for o in (False, True)]
        for seed in (0, 1, 2):
            X_tr, y_tr, X_te, y_te = q.split(frame, target, seed)
            X_tr, y_tr = X_tr.reset_index(drop=True), y_tr.reset_index(drop=True)
            roles, classes = infer_roles(X_tr), sorted(y_tr.unique())
            labels = np.asarray(classes, dtype=object)
            for family, label, params in plans:
                saved = models.FAMILIES[family]
                models.FAMILIES[family] = replace(saved, ordinal=True)  # allow it for forests too
                try:
                    def fit(idx, X_out):
                        model = build_model_pipeline(roles, PreprocessConfig(), family, params,
                                                     "class_weight", seed, y=y_tr.iloc[idx],
                                                     class_order=order)
                        fitted = model.fit(X_tr.iloc[idx], y_tr.iloc[idx])
                        return labels[peers.proba_in_order(fitted, X_out, classes).argmax(1)]
                    oof = np.empty(len(y_tr), dtype=object)
                    for tr, va in _folds(y_tr, 5, seed, []):
                        oof[va] = fit(tr, X_tr.iloc[va])
                    test = fit(np.arange(len(y_tr)), X_te)
                finally:
                    models.FAMILIES[family] = saved
                rows.append({"dataset": name, "seed": seed, "family": family, "variant": label,
                             "cv_macro_f1": f1_score(y_tr, oof, average="macro"),
                             "test_macro_f1": f1_score(y_te, test, average="macro")})
                print(rows[-1], file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    return table.groupby(["dataset", "family", "variant"], sort=False)[
        ["cv_macro_f1", "test_macro_f1"]].agg(["mean", "min"]).reset_index()


def run_ablation(ablations: dict, description: str, argv=None) -> tuple[str, pd.DataFrame]:
    """Parse ``ABLATION [--datasets ...]``, run it single-threaded, print its table."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("ablation", choices=list(ablations))
    ap.add_argument("--datasets", nargs="+", default=q.DATASETS)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    with threadpool_limits(limits=1):
        table = ablations[args.ablation](args.datasets)
    print(table.round(4).to_string(index=False))
    return args.ablation, table


def main(argv=None) -> int:
    ablation, table = run_ablation(ABLATIONS, __doc__.splitlines()[0], argv)
    if ablation == "bagging":
        delta = table[["fold_bag", "refit_plus_bag"]].sub(table["refit"], axis=0)
        print("mean Δ vs refit:", delta.mean().round(4).to_dict(),
              "| better on", (delta > 0).sum().to_dict(), "of", len(table))
    return 0


ABLATIONS = {"features": features, "bagging": bagging, "neighbourhood": neighbourhood}

if __name__ == "__main__":
    raise SystemExit(main())
