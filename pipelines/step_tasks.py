"""Dataset-versioning and preprocessing steps: fetch by ID, call steps.*, report, return IDs."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from pipelines import tracking
from pipelines.datastore import (create_version, fetch_frame, fetch_json, find_version,
                                 frozen_split_of)
from steps.config import DataConfig, PreprocessConfig

log = logging.getLogger(__name__)
DATASETS_DIR = Path(__file__).resolve().parent.parent / "datasets"
RAW_FILE, TRAIN_FILE, TEST_FILE = "data.parquet", "train.parquet", "test.parquet"
SUMMARY, RECIPE, SPLIT = "summary.json", "recipe.json", "split.json"


def run_version_dataset(data_cfg: str, project: str) -> tuple[str, str]:
    """Register the table as a dataset version; reuse the latest if content is unchanged."""
    from steps.data import class_counts, content_hash, schema_of
    from steps.ordinal import order_tag

    cfg = DataConfig.model_validate(json.loads(data_cfg))
    table = _load(cfg)
    frame = table.frame.reset_index(drop=True)
    digest = content_hash(frame)
    name = cfg.dataset_name or table.name
    class_order = _class_order(cfg, table, frame)
    split_tags = [f"{key}:{value}" for key, value in (("group_column", table.group_column),
                                                      ("time_column", table.time_column)) if value]
    tags = [f"sha256:{digest[:16]}", *filter(None, [order_tag(class_order)]), *split_tags]
    latest = find_version(project, name)
    if latest is not None and _same_version(latest.tags, tags):
        log.info("dataset %s unchanged (sha256 %s): reusing version %s", name, digest[:12], latest.id)
        return latest.id, digest
    id_columns = list(table.id_columns)
    schema = schema_of(frame, table.target, id_columns,
                       {table.group_column: "group", table.time_column: "time"})
    summary = {
        "name": name, "source": table.source, "target": table.target, "rows": int(len(frame)),
        "columns": int(frame.shape[1]), "class_counts": class_counts(frame[table.target]),
        "sha256": digest, "id_columns": id_columns, "schema": schema,
        "parent": latest.id if latest is not None else None,
        "positive_label": (table.card or {}).get("positive_label"),
        "class_order": class_order, "group_column": table.group_column,
        "time_column": table.time_column,
        "changes_since_parent": _changes_since(latest, frame, table.target),
    }
    files = {RAW_FILE: frame, SUMMARY: summary}
    ds_id = create_version(project, name, files, parent=latest, tags=tags,
                           description=_describe(summary), tables={"schema": pd.DataFrame(schema)})
    task = tracking.current_task()
    tracking.report_single_values(task, {"rows": summary["rows"], "columns": summary["columns"]})
    tracking.report_table(task, "dataset/class_counts",
                          pd.DataFrame(summary["class_counts"].items(), columns=["class", "rows"]))
    _report_changes(task, summary["changes_since_parent"], latest)
    return ds_id, digest


def _changes_since(parent, frame: pd.DataFrame, target: str) -> dict | None:
    """How this version differs from its parent (None for a first version). Informative
    only: a parent that cannot be read is logged, never a failure of the step."""
    from steps.versions import version_diff
    if parent is None:
        return None
    try:
        return version_diff(fetch_frame(parent.id, RAW_FILE), frame, target)
    except Exception as err:  # noqa: BLE001 - the new version matters more than its diff
        log.warning("could not compare with parent version %s: %s", parent.id, err)
        return None


def _change_lines(summary: dict) -> list[str] | None:
    from steps.versions import describe_diff
    diff = summary.get("changes_since_parent")
    return describe_diff(diff) if diff else None


def _report_changes(task, diff: dict | None, parent) -> None:
    from steps.versions import describe_diff
    if diff is None:
        return
    lines = describe_diff(diff)
    task.get_logger().report_text(f"changes since parent version {parent.id}:\n  "
                                  + "\n  ".join(lines))
    log.info("changes since parent version %s: %s", parent.id, "; ".join(lines))
    tracking.report_table(task, "dataset/changes_vs_parent", pd.DataFrame(diff["changes"]))


def _class_order(cfg: DataConfig, table, frame: pd.DataFrame) -> list[str] | None:
    """The declared order of the target's classes (config first, then the card), checked
    against the classes in the data."""
    from steps.ordinal import check_class_order
    order = cfg.class_order or (table.card or {}).get("class_order")
    if not order:
        return None
    return check_class_order(order, frame[table.target].dropna().astype(str).unique())


def _same_version(stored: list[str], wanted: list[str]) -> bool:
    """Same content, class order and split column (a new declaration is a new version)."""
    def key(tags):
        return {t for t in tags
                if t.startswith(("sha256:", "class_order:", "group_column:", "time_column:"))}
    return key(stored) == key(wanted)


def _load(cfg: DataConfig):
    """The table, fetching an uploaded file (remote mode) to a local copy first."""
    import dataclasses

    from pipelines.uploads import is_remote, local_copy
    from steps.data import load_table
    if not is_remote(cfg.source):
        return load_table(cfg, DATASETS_DIR)
    local = local_copy(cfg.source)
    name = cfg.dataset_name or Path(cfg.source).stem
    table = load_table(cfg.model_copy(update={"source": local, "dataset_name": name}), DATASETS_DIR)
    return dataclasses.replace(table, source=cfg.source, name=name)


def _describe(summary: dict) -> str:
    counts = ", ".join(f"{k}: {v}" for k, v in summary["class_counts"].items())
    diff = summary.get("changes_since_parent")
    since = (f"; since the parent: {diff['rows_added']} rows new or edited, {diff['rows_removed']} "
             "removed or edited" if diff else "")
    return (f"{summary['rows']} rows x {summary['columns']} columns from {summary['source']}; "
            f"target {summary['target']} ({counts}); sha256 {summary['sha256'][:16]}{since}")


def run_preprocess(dataset_id: str, dataset_hash: str, preprocess_cfg: str, project: str) -> str:
    """Validate, derive, freeze the stratified split (once per dataset version) and profile."""
    from steps.data import column_roles, prepare_frame, split_fingerprint, split_frame
    from steps.prepare import dropped_row_notes
    from steps.splits import (before_test, gap_needs_time, period_note, period_shift,
                              shift_notes, small_test_note, split_columns)
    from steps.time_folds import fold_groups

    cfg = PreprocessConfig.model_validate(json.loads(preprocess_cfg))
    summary = fetch_json(dataset_id, SUMMARY, alias="raw_dataset")
    recipe_key = _recipe_key(dataset_id, cfg)
    name = f"{summary['name']}-prepared"
    existing = find_version(project, name, tags=[f"recipe:{recipe_key}"])
    if existing is not None:
        log.info("prepared version %s already exists for this dataset and recipe", existing.id)
        return existing.id
    raw = fetch_frame(dataset_id, RAW_FILE)
    target = summary["target"]
    group, time = summary.get("group_column"), summary.get("time_column")
    prepared = prepare_frame(raw, target, cfg, id_columns=summary.get("id_columns", []),
                             group_column=group, time_column=time)
    frame = prepared.frame
    gap_needs_time(cfg.time_gap, time)
    split_tag = f"split:{dataset_id[:12]}:{cfg.test_size}:{cfg.split_seed}"
    frozen = frozen_split_of(project, name, split_tag)
    if frozen is None:
        train, test = split_frame(frame, target, cfg.test_size, cfg.split_seed, group, time,
                                  cfg.time_gap)
        test_rows = sorted(int(i) for i in test.index)
    else:
        test_rows = frozen["test_rows"]
        mask = frame.index.isin(test_rows)
        train, test = frame[~mask], frame[mask]
        if time:  # never rows after a backtest's test period, nor those in the labels' gap
            train = train[before_test(train, test, time, cfg.time_gap)]
        log.info("reusing the frozen test split of this dataset version (%d rows)", len(test))
    split = {"dataset_id": dataset_id, "dataset_hash": dataset_hash, "test_size": cfg.test_size,
             "seed": cfg.split_seed, "test_rows": test_rows,
             "split_id": split_fingerprint(test_rows, dataset_hash)}
    split_cols = split_columns(summary)
    features = frame.drop(columns=split_cols)
    X_train, groups = fold_groups(train.drop(columns=[target]), summary)
    X_test = test.drop(columns=[target, *split_cols])  # the feature columns the checks look at
    signal, leakage = _leakage_checks(X_train, X_test, train[target], groups, cfg, bool(time))
    pairs, notes = _data_notes(X_train, train[target], cfg.missing_indicators)
    small = small_test_note(test[target])
    for line in small:
        log.warning("data note: %s", line)
    notes = dropped_row_notes(prepared, cfg.min_class_rows) + small + notes  # said with scores
    shift = None
    if time:  # what moved between the periods, and which columns are trends or counters
        shift = period_shift(X_train, X_test, seed=cfg.split_seed)
        notes[:0] = [period_note(train, test, time, frame, cfg.time_gap),
                     *shift_notes(shift)]
        for line in notes[:1 + int(shift["suspect"].sum())]:
            log.info("data note: %s", line)
    recipe = {"target": target, "dataset_name": summary["name"],
              "roles": column_roles(features, target), "group_column": group, "time_column": time,
              "time_gap": cfg.time_gap if time else None,
              "classes": sorted(map(str, frame[target].unique())),
              "positive_label": summary.get("positive_label"),
              "class_order": summary.get("class_order"),
              "dropped": prepared.dropped, "derived": prepared.derived,
              "derivations": [d.model_dump(mode="json") for d in prepared.derivations],
              "train_rows": int(len(train)), "test_rows": int(len(test)),
              "parent_dataset_id": summary.get("parent"), "data_changes": _change_lines(summary),
              "split_id": split["split_id"], "dataset_id": dataset_id, "dataset_hash": dataset_hash,
              "leakage_findings": leakage, "data_notes": notes,
              "leakage_suspects": _suspects(signal)}
    files = {TRAIN_FILE: train, TEST_FILE: test, SPLIT: split, RECIPE: recipe}
    prepared_id = create_version(project, name, files, parent_id=dataset_id,
                                 tags=[f"recipe:{recipe_key}", split_tag],
                                 description=f"train {len(train)} / test {len(test)} rows; "
                                             f"split {split['split_id'][:12]}")
    _report_profile(frame, target, recipe)
    if signal is not None:
        _report_signal(signal, cfg.leakage_auc)
    if shift is not None:
        _report_shift(shift)
    if len(pairs):
        tracking.report_table(tracking.current_task(), "data/redundant_columns", pairs)
    return prepared_id


def _suspects(signal: pd.DataFrame | None) -> list[dict] | None:
    """The columns the leakage check flagged, for the validation step's leakage gate (None:
    the check is off)."""
    if signal is None:
        return None
    return [{"column": str(r.column), "auc": float(r.auc)} for r in signal.itertuples()
            if r.suspect]


def _leakage_checks(X_train: pd.DataFrame, X_test: pd.DataFrame, y_train: pd.Series, groups,
                    cfg: PreprocessConfig, out_of_time: bool = False
                    ) -> tuple[pd.DataFrame | None, list[str]]:
    """(signal per column, findings) on the training rows; (None, []) when turned off."""
    if cfg.leakage_auc is None:
        return None, []
    from steps.leakage import feature_signal, leakage_findings, repeated_test_rows
    signal = feature_signal(X_train, y_train, cfg.leakage_auc, seed=cfg.split_seed, groups=groups)
    findings = leakage_findings(signal, repeated_test_rows(X_train, X_test), len(X_test),
                                out_of_time)
    for line in findings:
        log.warning("possible leakage: %s", line)
    return signal, findings


def _data_notes(X: pd.DataFrame, y: pd.Series, indicators: bool
                ) -> tuple[pd.DataFrame, list[str]]:
    """Redundant column pairs, and notes on them, on rows no model can separate and on
    values missing not at random."""
    from steps.profile import (conflict_note, conflicting_rows, missingness_notes,
                               redundancy_notes, redundant_pairs)
    pairs = redundant_pairs(X)
    notes = (redundancy_notes(pairs) + conflict_note(conflicting_rows(X, y), len(X))
             + missingness_notes(X, y, indicators))
    for line in notes:
        log.info("data note: %s", line)
    return pairs, notes


def _recipe_key(dataset_id: str, cfg: PreprocessConfig) -> str:
    import hashlib
    blob = json.dumps({"dataset": dataset_id, "cfg": cfg.model_dump(mode="json")}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _report_profile(frame: pd.DataFrame, target: str, recipe: dict) -> None:
    from steps.data import class_balance_figure, class_counts, missing_rate_figure, profile_frame

    task = tracking.current_task()
    profile = profile_frame(frame, target)
    tracking.report_table(task, "data/profile", profile.reset_index())
    counts = class_counts(frame[target])
    tracking.report_figures(task, "data", {"class_balance": class_balance_figure(counts),
                                           "missing_rate": missing_rate_figure(profile)})
    tracking.report_single_values(task, {"train_rows": recipe["train_rows"],
                                         "test_rows": recipe["test_rows"]})
    if recipe["dropped"]:
        tracking.report_table(task, "data/dropped_columns", pd.DataFrame(
            sorted(recipe["dropped"].items()), columns=["column", "reason"]))


def _report_shift(shift: pd.DataFrame) -> None:
    from steps.leakage import signal_figure
    from steps.splits import SHIFT_AUC
    task = tracking.current_task()
    tracking.report_table(task, "data/period_shift", shift)
    figure = signal_figure(shift, SHIFT_AUC,
                           title="Test period vs training period, per column (red: trend)",
                           xlabel="ROC-AUC of telling the periods apart from the column alone")
    tracking.report_figures(task, "data", {"period_shift": figure})


def _report_signal(signal: pd.DataFrame, threshold: float) -> None:
    from steps.leakage import signal_figure
    task = tracking.current_task()
    tracking.report_table(task, "data/feature_signal", signal)
    tracking.report_figures(task, "data", {"feature_signal": signal_figure(signal, threshold)})
