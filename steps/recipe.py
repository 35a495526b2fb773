"""Model pipeline recipe: preprocessing -> outlier filter -> sampler -> classifier.

Everything that learns from data lives inside one imblearn ``Pipeline`` so that
cross-validation refits it per fold: samplers and the outlier filter act only in
``fit`` (imblearn semantics) and never see validation or test rows.
"""
from __future__ import annotations

import logging
from collections import Counter

import numpy as np
from imblearn.combine import SMOTEENN
from imblearn.over_sampling import ADASYN, SMOTE, SVMSMOTE, BorderlineSMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler
from imblearn import FunctionSampler
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import IsolationForest
from sklearn.impute import KNNImputer, MissingIndicator, SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (FunctionTransformer, MinMaxScaler, OrdinalEncoder,
                                   RobustScaler, StandardScaler)

from steps.config import PreprocessConfig
from steps.encoding import CardinalityEncoder, one_hot
from steps.models import FAMILIES, class_weights
from steps.ordinal import SHARED, OrdinalClassifier
from steps.selection import PARAM as SELECT_K, make_selector

log = logging.getLogger(__name__)

SMOTE_FAMILY = {"smote", "svm_smote", "borderline_smote", "adasyn", "smoteenn"}
SAMPLER_KINDS = SMOTE_FAMILY | {"random_over", "random_under"}
_SCALERS = {"standard": StandardScaler, "robust": RobustScaler, "minmax": MinMaxScaler}


def _as_object(X):
    """Categoricals as plain objects: pandas string/category dtypes and mixed
    types confuse the imputers and encoders; missing stays missing."""
    X = X.astype(object)
    return X.where(X.notna(), np.nan)


def _missing_marks(X):
    """1.0 where a value is missing, else 0.0: a float frame MissingIndicator reads fast
    (converting thousands of numeric columns to objects first doubled a wide fit)."""
    return X.isna().astype(float)


def make_preprocessor(roles: dict[str, list[str]], cfg: PreprocessConfig,
                      scale: bool = True) -> ColumnTransformer:
    numeric, categorical = list(roles.get("numeric", [])), list(roles.get("categorical", []))
    imputer = (KNNImputer() if cfg.numeric_imputer == "knn"
               else SimpleImputer(strategy=cfg.numeric_imputer))
    num_steps = [imputer]
    if scale and cfg.scaling != "none":
        num_steps.append(_SCALERS[cfg.scaling]())
    if cfg.encoding == "onehot":
        encoder = one_hot(cfg.max_categories)
    elif cfg.encoding == "auto":  # one-hot for few levels, target encoding for many
        encoder = CardinalityEncoder(cfg.max_categories)
    else:  # unseen and missing levels share one code, below every known level
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                 encoded_missing_value=-1, max_categories=cfg.max_categories)
    cat_imputer = SimpleImputer(strategy=cfg.categorical_imputer, fill_value="__missing__")
    transformers = []
    if numeric:
        transformers.append(("num", make_pipeline(*num_steps), numeric))
    if categorical:
        transformers.append(("cat", make_pipeline(
            FunctionTransformer(_as_object, feature_names_out="one-to-one"),
            cat_imputer, encoder), categorical))
    if cfg.missing_indicators and numeric + categorical:
        # marks first (1.0 = missing: NaN, None, pd.NA alike), then one column per column
        # with a mark in the fitting rows; error_on_new=False: a column first missing at
        # predict time is imputed, not refused
        transformers.append(("missing", make_pipeline(
            FunctionTransformer(_missing_marks, feature_names_out="one-to-one"),
            MissingIndicator(missing_values=1.0, features="missing-only", error_on_new=False)),
            numeric + categorical))
    # dense output: SMOTE-family samplers and several classifiers need it
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)


def _drop_outliers(X, y, contamination: float, seed: int):
    """IsolationForest filter; keeps every row of a class it would wipe out
    (a rare class is not an outlier)."""
    inlier = IsolationForest(contamination=contamination, random_state=seed).fit_predict(X) == 1
    y_arr = np.asarray(y)
    for label, n in Counter(y_arr).items():
        if (inlier & (y_arr == label)).sum() < min(n, 2):
            inlier[y_arr == label] = True
    log.debug("outlier filter dropped %d of %d rows", (~inlier).sum(), len(inlier))
    return X[inlier], y_arr[inlier]


_SAID: set[str] = set()


def _say_once(level: int, msg: str, *args) -> None:
    """Log a sampler adjustment once per process: every CV fold of every trial refits the
    sampler, and the same sentence would fill the console."""
    text = msg % args
    if text not in _SAID:
        _SAID.add(text)
        log.log(level, text)


class AdaptiveSampler(BaseEstimator):
    """Builds the imblearn sampler at fit time from the class counts it is given.

    CV folds shrink classes, so the SMOTE family's ``k_neighbors`` is reduced to
    ``smallest oversampled class - 1``. A class with a single row cannot be
    interpolated: then the whole resampling falls back to random oversampling
    (logged), which is what SMOTE degenerates to anyway.
    """

    def __init__(self, kind: str = "smote", k_neighbors: int = 5, seed: int = 0):
        self.kind = kind
        self.k_neighbors = k_neighbors
        self.seed = seed

    def fit(self, X, y):
        self.fit_resample(X, y)
        return self

    def fit_resample(self, X, y):
        self.sampler_ = self._build(Counter(np.asarray(y)))
        return self.sampler_.fit_resample(X, y)

    def _build(self, counts: Counter):
        kind, seed = self.kind, self.seed
        if kind not in SAMPLER_KINDS:
            raise ValueError(f"unknown sampler {kind!r}; expected one of {sorted(SAMPLER_KINDS)}")
        if kind == "random_over":
            return RandomOverSampler(random_state=seed)
        if kind == "random_under":
            return RandomUnderSampler(random_state=seed)
        majority = max(counts.values())
        smallest = min((n for n in counts.values() if n < majority), default=majority)
        if smallest < 2:
            _say_once(logging.WARNING, "%s: a class has %d row(s) in this fit; using random "
                      "oversampling", kind, smallest)
            self.k_used_ = 0
            return RandomOverSampler(random_state=seed)
        k = min(self.k_neighbors, smallest - 1)
        if k < self.k_neighbors:
            _say_once(logging.INFO, "%s: k_neighbors reduced %d -> %d (smallest class has %d "
                      "rows)", kind, self.k_neighbors, k, smallest)
        self.k_used_ = k
        if kind == "smote":
            return SMOTE(k_neighbors=k, random_state=seed)
        if kind == "svm_smote":
            return SVMSMOTE(k_neighbors=k, random_state=seed)
        if kind == "borderline_smote":
            return BorderlineSMOTE(k_neighbors=k, random_state=seed)
        if kind == "adasyn":
            return ADASYN(n_neighbors=k, random_state=seed)
        return SMOTEENN(smote=SMOTE(k_neighbors=k, random_state=seed), random_state=seed)


def resolve_imbalance(family: str, imbalance: str) -> tuple[str | None, str | None]:
    """(classifier class_weight, sampler kind) for a family and strategy.

    k-NN has neither ``class_weight`` nor ``sample_weight``: balanced random
    oversampling stands in for it (a duplicated row counts twice in the vote,
    which is what a class weight would do).
    """
    if imbalance == "class_weight":
        if FAMILIES[family].class_weight:
            return "balanced", None
        return None, "random_over"
    if imbalance == "none":
        return None, None
    return None, imbalance


def build_model_pipeline(roles: dict[str, list[str]], prep_cfg: PreprocessConfig, family: str,
                         params: dict, imbalance: str, seed: int, y=None,
                         class_order: list | None = None) -> Pipeline:
    """The full, unfitted model pipeline for one family and imbalance strategy.

    ``params['select_k']`` keeps that many columns after encoding (``steps.selection``).
    ``y`` (training labels) is optional; it lets a family derive class weights
    from the training prior (``class_weight_power`` in ``params``). With ``class_order``
    (the target's classes, lowest first) and ``params['ordinal']``, the classifier is
    the family's cumulative (Frank & Hall) decomposition.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {sorted(FAMILIES)}")
    spec = FAMILIES[family]
    class_weight, sampler = resolve_imbalance(family, imbalance)
    steps = [("prep", make_preprocessor(roles, prep_cfg, scale=spec.scale))]
    params = dict(params)
    k = params.pop(SELECT_K, None)
    if k is not None:  # wide tables: the k best columns of each training fold
        score = prep_cfg.feature_selection.score if prep_cfg.feature_selection else "f_classif"
        steps.append(("select", make_selector(k, score, seed)))
    if prep_cfg.outliers.enabled:
        steps.append(("outliers", FunctionSampler(
            func=_drop_outliers, validate=False,
            kw_args={"contamination": prep_cfg.outliers.contamination, "seed": seed})))
    if sampler is not None:
        steps.append(("sampler", AdaptiveSampler(sampler, prep_cfg.imbalance.k_neighbors, seed)))
    steps.append(("clf", _classifier(spec, params, seed, class_weight, y, class_order)))
    return Pipeline(steps)


def _classifier(spec, params: dict, seed: int, class_weight, y, class_order):
    if params.get("ordinal") and class_order and spec.ordinal:
        # each cut is balanced on its own counts inside the wrapper
        return OrdinalClassifier(spec.make(params, seed, class_weight), list(class_order),
                                 params.get("class_weight_power", 1.0),
                                 shared=params["ordinal"] == SHARED)
    return spec.make(params, seed, class_weights(class_weight, params, y))


def infer_roles(X) -> dict[str, list[str]]:
    """Numeric vs categorical by dtype (booleans are treated as categorical)."""
    numeric = [c for c in X.columns
               if is_numeric_dtype(X[c]) and not is_bool_dtype(X[c])]
    return {"numeric": numeric, "categorical": [c for c in X.columns if c not in numeric]}
