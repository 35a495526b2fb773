"""Typed pipeline configuration: one section per step, validated loudly.

Unknown keys and bad values fail with the key's dotted path, e.g.
``train.n_trials: Input should be greater than 0``. Each step receives only
its own section (``cfg.train``, ``cfg.evaluate``...), never the whole tree.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from steps.config_errors import format_errors
from steps.config_types import (Derivation, FeatureSelectionConfig, GateConfig,
                                PredictionSetsConfig, Section, TimeGap)
from steps.search_config import BUILTIN_FAMILIES, CustomFamily, SearchOverride, TrialTasks
from steps.yaml12 import YAMLError, load_yaml, yaml_problem

Metric = Literal["macro_f1", "balanced_accuracy", "f_beta", "roc_auc", "pr_auc"]
ThresholdMetric = Literal["f_beta", "macro_f1", "balanced_accuracy", "accuracy", "weighted_f1"]
Imbalance = Literal[
    "none", "class_weight", "smote", "svm_smote", "borderline_smote",
    "adasyn", "random_over", "random_under", "smoteenn",
]


class ConfigError(ValueError):
    """A configuration problem, reported with the dotted path of each bad key."""


class ProjectConfig(Section):
    name: str = "tabpipe"  # ClearML project for tasks, datasets and models


class DataConfig(Section):
    """Dataset versioning step: where the table comes from and how it is named."""
    source: str = "hpc_data"  # a card in datasets/ or a path to a .csv/.parquet file
    target: str | None = None  # required for files; cards name their own
    dataset_name: str | None = None  # defaults to the card name or the file stem
    id_columns: list[str] = Field(default_factory=list)
    # Ordered target classes, lowest first (e.g. [low, medium, high]); defaults to the
    # card's. Recorded on the dataset version; training may then model the order.
    class_order: list[str | int] | None = None
    # Rows sharing a value of this column (a patient, a customer, a machine) stay on one side
    # of the test split and of every CV fold. Defaults to the card's; not a feature.
    group_column: str | None = None
    # Dates or numbers growing with time: the latest rows become the test split (train.time_cv
    # says how CV folds follow time; steps/splits.py). Defaults to the card's; not a feature.
    time_column: str | None = None
    # Generator overrides for synthetic cards only, e.g. {"rows": 100000, "seed": 1};
    # rejected for real datasets and files so a typo never loads the wrong data.
    params: dict[str, Any] = Field(default_factory=dict)


class OutlierConfig(Section):
    enabled: bool = False
    contamination: float = Field(0.01, gt=0, lt=0.5)


class ImbalanceConfig(Section):
    strategy: Imbalance = "class_weight"
    search: list[Imbalance] = Field(default_factory=list)  # non-empty: tuned per trial
    k_neighbors: int = Field(5, ge=1)  # SMOTE family; reduced for tiny classes


class PreprocessConfig(Section):
    test_size: float = Field(0.2, gt=0, lt=1)
    split_seed: int = 0
    drop_columns: list[str] = Field(default_factory=list)
    drop_constant: bool = True
    drop_id_like: bool = True  # unique-per-row integer/string columns
    # Classes with fewer rows are dropped with their rows (a warning and a data note): too few
    # to learn, and a stratified 80/20 split can leave them without a single test row. 10 keeps
    # 2 test rows and 5 CV folds possible. null keeps every class of 2 rows or more.
    min_class_rows: int | None = Field(10, ge=2)
    # With data.time_column: how long after its time a row's label is known ("90D" for a churn
    # label over the next 90 days; a number for a numeric time column). Rows that close before
    # the test period, or before a CV fold's scored period, are left out of that training set:
    # their labels would not be known yet when the model is used. null: labels are immediate.
    time_gap: TimeGap | None = None
    derivations: list[Derivation] = Field(default_factory=list)
    # Text columns holding ISO 8601 dates/times (2024-03-01, 2024-03-01T12:30:00) and
    # datetime columns become datetime_parts derivations instead of raw text.
    datetime_features: bool = True
    numeric_imputer: Literal["median", "mean", "knn"] = "median"
    categorical_imputer: Literal["most_frequent", "constant"] = "most_frequent"
    # One 0/1 column per column that has missing values in the fitting rows: imputation alone
    # erases whether a value was missing, which is often a signal (an income not given, a
    # test not ordered). Columns without missing values add nothing.
    missing_indicators: bool = True
    encoding: Literal["auto", "onehot", "ordinal"] = "auto"
    scaling: Literal["standard", "robust", "minmax", "none"] = "standard"
    max_categories: int = Field(30, ge=2)  # one-hot levels kept per column; auto: more -> target encoding
    outliers: OutlierConfig = Field(default_factory=OutlierConfig)
    imbalance: ImbalanceConfig = Field(default_factory=ImbalanceConfig)
    # Wide tables (more feature columns than `above`): keep the k best columns by a univariate
    # score, k searched per family among `search`; null: every column, however many.
    feature_selection: FeatureSelectionConfig | None = Field(
        default_factory=FeatureSelectionConfig)
    # A column whose one-column, cross-fitted ROC-AUC reaches this is flagged as possible target
    # leakage (steps.leakage), as are test rows repeating training rows; null: no checks.
    leakage_auc: float | None = Field(0.98, ge=0.5, le=1.0)


class TrainConfig(Section):
    families: list[str] = Field(default_factory=lambda: list(BUILTIN_FAMILIES))
    metric: Metric = "macro_f1"
    beta: float = Field(1.0, gt=0)  # for metric f_beta
    cv_folds: int = Field(5, ge=2, le=20)
    # data.time_column: folds learn only from earlier periods, or take blocks of time in any order
    time_cv: Literal["forward", "blocked"] = "forward"
    n_trials: int = Field(40, ge=1)  # per family
    # per family; None: no time limit, n_trials alone decides and a run repeats exactly
    timeout_s: float | None = Field(60.0, gt=0)
    budget_s: float | None = Field(None, gt=0)  # whole training stage; overrides timeout_s
    # Fastest-growing fit costs: tuned and fit on a stratified subsample above these sizes.
    max_rows: dict[str, int] = Field(default_factory=lambda: {
        "svm": 20000, "knn": 50000, "random_forest": 30000, "extra_trees": 30000})
    # With an ordered target (``data.class_order`` or the card's), families that can (hist_gb)
    # also search steps.ordinal's cumulative decomposition (separate fits or one shared model).
    ordinal: bool = True
    # Per family and parameter: a value fixes it, a list gives the choices, {low, high, log}
    # the range (steps.search_space); parameters left out keep the family's own space.
    search: dict[str, dict[str, SearchOverride]] = Field(default_factory=dict)
    # Your own scikit-learn classifiers by import path, tuned once listed in ``families``.
    custom_families: dict[str, CustomFamily] = Field(default_factory=dict)
    # Families whose trials run as their own ClearML tasks (steps.search_config.TrialTasks).
    trial_tasks: TrialTasks = Field(default_factory=TrialTasks)
    n_jobs: int = 1
    seed: int = 0

    @model_validator(mode="after")
    def _family_names(self):
        from steps.search_config import check_family_names, check_trial_tasks
        check_family_names(self.families, self.custom_families)
        check_trial_tasks(self.trial_tasks, self.families, self.budget_s)
        if self.search:  # checked against the families' real spaces (imports scikit-learn)
            from steps.search_space import check_search
            check_search(self.search, self.families, self.custom_families)
        return self


class EvaluateConfig(Section):
    metric: Metric = "macro_f1"
    beta: float = Field(1.0, gt=0)
    bootstrap: int = Field(1000, ge=0)
    threshold_tuning: bool = True  # binary only, on out-of-fold train predictions
    # null: tuned for ``metric`` when it judges decisions, else F-beta (threshold_metric in
    # steps.thresholds: a threshold_beta other than 1 also means F-beta)
    threshold_metric: ThresholdMetric | None = None
    threshold_beta: float = Field(1.0, gt=0)
    # Probabilities mapped back to observed frequencies by a map fitted on out-of-fold training
    # predictions; decisions unchanged (steps.calibration). Binary: sigmoid or isotonic;
    # multiclass: any value but none means temperature-and-class-bias scaling.
    calibration: Literal["sigmoid", "isotonic", "none"] = "sigmoid"
    permutation_repeats: int = Field(5, ge=0)
    # partial dependence plots of the N most important columns (0: none; needs permutation)
    dependence_features: int = Field(4, ge=0, le=12)
    slices: bool = True  # the winner's test error rate per slice of each column (steps.slices)
    # Seconds for the winner's learning curve on training rows (steps.learning_curve); 0: none
    learning_curve_s: float = Field(20.0, ge=0)
    # The winner is chosen on out-of-fold training scores, never on the test split; a greedy
    # blend of the families (Caruana selection) competes with the single best when enabled.
    ensemble: bool = True
    ensemble_rounds: int = Field(25, ge=1)
    gates: GateConfig = Field(default_factory=GateConfig)
    # Prediction sets (steps.conformal): every class the winner cannot rule out at error rate
    # alpha, thresholds from out-of-fold training predictions, coverage measured on test;
    # by_class: each class covered at 1 - alpha (Mondrian). null: none.
    prediction_sets: PredictionSetsConfig | None = Field(default_factory=PredictionSetsConfig)
    # Misclassification costs, true class -> predicted class -> cost (a correct decision costs
    # 0, an unlisted error 1): every score gains expected_cost and, with cost_decisions, the
    # served model decides for the least expected cost on its calibrated probabilities
    # (steps.error_costs) instead of a tuned threshold or the argmax, and the winner is the
    # candidate whose decisions cost least out of fold.
    costs: dict[str, dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]]] | None = None
    cost_decisions: bool = True

    @property
    def deciding_costs(self) -> dict | None:
        """The costs the served model decides by (``costs`` with ``cost_decisions``), else None."""
        return self.costs if self.cost_decisions else None

    @model_validator(mode="after")
    def _correct_decisions_are_free(self):
        for true, row in (self.costs or {}).items():
            if row.get(true, 0) != 0:
                raise ValueError(f"evaluate.costs.{true}.{true}: a correct decision costs 0")
        return self


class PublishConfig(Section):
    model_name: str | None = None  # defaults to "<dataset_name>-classifier"
    min_improvement: float = Field(0.0, ge=0)  # over the champion's primary metric
    champion_tag: str = "champion"
    # candidate and champion re-scored on the same test rows, paired bootstrap resamples
    # (0: compare the recorded scores only)
    bootstrap: int = Field(1000, ge=0)
    require_significant_gain: bool = False  # publish only if the paired 95% interval of the
    # gain lies above min_improvement, not just the point estimate
    # a champion scored on another test split (another dataset version or split seed) or
    # metric cannot be compared head to head: keep it, or publish the gated candidate anyway
    other_split: Literal["keep", "publish"] = "keep"


class ExecutionConfig(Section):
    mode: Literal["embedded", "local", "remote"] = "embedded"
    queue: str = "default"  # steps queue
    controller_queue: str = "services"
    step_queues: dict[str, str] = Field(default_factory=dict)  # per-step override
    agents: int = Field(0, ge=0)  # embedded only: local clearml-agent workers to start
    cache: bool = True
    force_rerun: bool = False
    retries: int = Field(1, ge=0)  # infrastructure failures only
    data_dir: str = ".tabpipe"  # embedded server state
    report: bool = True  # after a run here: <data_dir>/reports/<run id>/index.html


class PipelineConfig(Section):
    project: ProjectConfig = Field(default_factory=ProjectConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    preprocess: PreprocessConfig = Field(default_factory=PreprocessConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    publish: PublishConfig = Field(default_factory=PublishConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)

    @model_validator(mode="after")
    def _metrics_agree(self) -> "PipelineConfig":
        if self.train.metric != self.evaluate.metric:
            raise ValueError(
                f"train.metric ({self.train.metric}) and evaluate.metric "
                f"({self.evaluate.metric}) must be the same primary metric")
        return self

    def digest(self) -> str:
        """Stable hash of the effective config (recorded on models and runs)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


def parse_config(raw: dict[str, Any] | None) -> PipelineConfig:
    try:
        return PipelineConfig.model_validate(raw or {})
    except ValidationError as err:
        raise ConfigError(format_errors(err, PipelineConfig)) from None


def set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> None:
    """Apply one ``a.b.c=value`` override to a raw config dict (value parsed as YAML)."""
    keys = dotted.split(".")
    node = raw
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set {dotted}: {key} is not a section")
    if isinstance(value, str) and not value.strip():  # YAML reads it as null: say so instead
        raise ConfigError(f"--set {dotted}= has no value; write {dotted}=null for none")
    try:
        node[keys[-1]] = load_yaml(value) if isinstance(value, str) else value
    except YAMLError as err:
        raise ConfigError(f"--set {dotted}: {value!r} is not valid YAML "
                          f"({yaml_problem(err)}); quote text, close brackets") from None


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> PipelineConfig:
    """Load a YAML config (or defaults) and apply ``key.path=value`` overrides."""
    raw: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            raw = load_yaml(p.read_text()) or {}
        except YAMLError as err:
            raise ConfigError(f"{p}: not valid YAML: {yaml_problem(err)}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{p}: top level must be a mapping of sections")
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like section.key=value")
        key, value = item.split("=", 1)
        set_dotted(raw, key.strip(), value)
    return parse_config(raw)
