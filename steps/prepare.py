"""Validation, column drops and derivations before the split (nothing learned from data)."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from steps.columns import (DataValidationError, as_text, class_counts, is_constant, is_id_like,
                           one_way_to_split, unusable_reason)
from steps import datetimes
from steps.config import PreprocessConfig
from steps.config_types import DatetimeParts
from steps.derive import apply_derivation, check_derivation, inputs, outputs
from steps.splits import sortable_times

log = logging.getLogger(__name__)


@dataclass
class PreparedFrame:
    frame: pd.DataFrame  # original row index kept, so split row ids refer to the raw table
    dropped: dict[str, str] = field(default_factory=dict)  # column -> why it was dropped
    derived: list[str] = field(default_factory=list)  # columns added or filled by derivations
    derivations: list = field(default_factory=list)  # declared + detected; scoring replays them
    rows_dropped: dict[str, int] = field(default_factory=dict)  # reason -> number of rows
    rare_classes: dict[str, int] = field(default_factory=dict)  # dropped class -> its rows


def _columns_list(frame: pd.DataFrame) -> str:
    return ", ".join(map(str, frame.columns))


def _check_references(frame: pd.DataFrame, target: str, cfg: PreprocessConfig) -> None:
    if target not in frame.columns:
        raise DataValidationError(f"target column {target!r} not found; columns: {_columns_list(frame)}")
    unknown = [c for c in cfg.drop_columns if c not in frame.columns]
    if unknown:
        raise DataValidationError(f"preprocess.drop_columns names unknown column(s) {unknown}; "
                                  f"columns: {_columns_list(frame)}")
    if target in cfg.drop_columns:
        raise DataValidationError(f"preprocess.drop_columns includes the target {target!r}")
    for d in cfg.derivations:
        check_derivation(frame, d)
        if target in outputs(d) or (isinstance(d, DatetimeParts) and d.column == target):
            raise DataValidationError(f"derivation {d.kind} of {outputs(d)} would overwrite or "
                                      f"consume the target column {target!r}")


def _check_split_column(frame, target, cfg, id_columns, column, role) -> None:
    """A group or time column: present, not also dropped or the target, no missing values."""
    if column is None:
        return
    if column not in frame.columns:
        raise DataValidationError(f"{role} column {column!r} not found; columns: {_columns_list(frame)}")
    clash = [what for what, names in (("the target", [target]), ("preprocess.drop_columns",
             cfg.drop_columns), ("the id columns", id_columns)) if column in names]
    if clash:
        raise DataValidationError(f"{role} column {column!r} is also {clash[0]}; the {role} column "
                                  "is kept (only to decide the split), so name another one")
    missing = int(frame[column].isna().sum())
    if missing:
        raise DataValidationError(f"{role} column {column!r} has {missing} missing value(s): "
                                  f"every row needs a {role}")


def _target_as_labels(series: pd.Series) -> pd.Series:
    """Class labels as text; integral floats lose the ".0" so 1.0 and 1 read the same."""
    if pd.api.types.is_float_dtype(series.dtype) and (series.dropna() % 1 == 0).all():
        series = series.astype("Int64")
    return as_text(series)


def _check_column_names(frame: pd.DataFrame) -> None:
    repeated = frame.columns[frame.columns.duplicated()].unique()
    if len(repeated):
        raise DataValidationError(f"column name(s) {', '.join(map(repr, repeated))} appear more "
                                  "than once; rename them so every column is unique")


def _check_not_continuous(target: pd.Series, name: str) -> None:
    """A measurement is not a class: thousands of one-row "classes" help nobody."""
    values = target.dropna()
    if not pd.api.types.is_float_dtype(values.dtype) or (values % 1 == 0).all():
        return
    distinct = values.nunique()
    if distinct > max(20, len(values) // 20):
        raise DataValidationError(
            f"target {name!r} looks continuous ({distinct} distinct non-integer values in "
            f"{len(values)} rows, {values.min():.4g} to {values.max():.4g}); tabpipe classifies: "
            "bin it into classes first (e.g. pandas.qcut) or set data.target to the class column")


def _short(counts: dict, limit: int = 10) -> str:
    items = list(counts.items())
    text = ", ".join(f"{k!r}: {v}" for k, v in items[:limit])
    return "{" + text + (f", ... {len(items) - limit} more" if len(items) > limit else "") + "}"


def _check_classes(target: pd.Series, name: str) -> None:
    counts = class_counts(target)
    if len(counts) < 2:
        raise DataValidationError(
            f"target {name!r} has {len(counts)} class(es) {counts}: classification needs at least 2")
    tiny = {k: v for k, v in counts.items() if v < 2}
    if tiny:
        raise DataValidationError(
            f"target {name!r}: {len(tiny)} class(es) {_short(tiny)} have fewer than 2 rows, so a "
            "stratified split is impossible; merge or remove them before loading (all "
            f"{len(counts)} counts: {_short(counts)})")


def _columns_to_drop(frame: pd.DataFrame, target: str, cfg: PreprocessConfig,
                     id_columns: Iterable[str]) -> dict[str, str]:
    dropped = {c: "listed in preprocess.drop_columns" for c in cfg.drop_columns}
    for col in id_columns:
        if col in frame.columns and col != target:
            dropped.setdefault(col, "declared id column")
    for col in frame.columns:
        if col == target or col in dropped:
            continue
        series = frame[col]
        if cfg.drop_id_like and is_id_like(series):
            dropped[col] = "id-like: a distinct value in every row"
        elif cfg.drop_constant and is_constant(series):
            dropped[col] = "all values missing" if series.isna().all() else "constant: one distinct value"
    return dropped


def prepare_frame(frame: pd.DataFrame, target: str, cfg: PreprocessConfig,
                  id_columns: Iterable[str] = (), group_column: str | None = None,
                  time_column: str | None = None) -> PreparedFrame:
    """Validate, derive, drop; raise DataValidationError naming the column and the fix.
    ``group_column`` and ``time_column`` are kept as they are (they decide splits; they are
    never features); a derivation may still read the time column (its month, say)."""
    id_columns = list(id_columns)
    _check_column_names(frame)
    _check_references(frame, target, cfg)
    if group_column and time_column:
        raise DataValidationError(one_way_to_split(group_column, time_column))
    split_cols = [c for c in (group_column, time_column) if c]
    _check_split_column(frame, target, cfg, id_columns, group_column, "group")
    _check_split_column(frame, target, cfg, id_columns, time_column, "time")
    derivations = list(cfg.derivations)
    if cfg.datetime_features:
        skip = {*cfg.drop_columns, *id_columns, target, *split_cols,
                *(c for d in derivations for c in inputs(d))}
        found = datetimes.detect(frame, skip)
        for d in found:
            log.info("column %r holds dates: its parts replace it (preprocess.datetime_features: "
                     "false keeps it as it is)", d.column)
        derivations += found
    out = frame.copy()
    derived = []
    for d in derivations:
        out = apply_derivation(out, d)
        derived += outputs(d)
    if time_column:  # parsed once, here: the split, the folds and the periods read times
        out[time_column] = sortable_times(frame[time_column], time_column)
    rows_dropped = {}
    missing_target = out[target].isna()
    if missing_target.any():
        rows_dropped["missing target"] = int(missing_target.sum())
        log.warning("dropping %d rows with a missing target %r", rows_dropped["missing target"], target)
        out = out[~missing_target]
    _check_not_continuous(out[target], target)
    out[target] = _target_as_labels(out[target])
    rare = _rare_classes(out[target], cfg.min_class_rows)
    if rare:
        rows_dropped["rare class"] = sum(rare.values())
        log.warning("dropping class(es) %s: fewer than preprocess.min_class_rows=%d rows each, too "
                    "few to learn or to score; the model will never predict them "
                    "(preprocess.min_class_rows=2 keeps them)", _short(rare), cfg.min_class_rows)
        out = out[~out[target].isin(list(rare))]
    _check_classes(out[target], target)
    # Type problems first: the constant/id-like checks below need hashable values, and a
    # column the user did not ask to drop deserves an error, not a silent drop.
    explicit = {*cfg.drop_columns, *id_columns, target, *split_cols}
    problems = [f"column {c!r} {r}" for c in out.columns if c not in explicit
                for r in [unusable_reason(out[c])] if r]
    if problems:
        raise DataValidationError("; ".join(problems))
    dropped = _columns_to_drop(out.drop(columns=split_cols), target, cfg, id_columns)
    out = out.drop(columns=list(dropped))
    for col, why in dropped.items():
        log.info("dropping column %r: %s", col, why)
    if out.shape[1] - 1 - len(split_cols) < 1:
        raise DataValidationError(f"no feature columns left after dropping {dropped}")
    return PreparedFrame(frame=out, dropped=dropped, derived=derived, rows_dropped=rows_dropped,
                         derivations=derivations, rare_classes=rare)


def dropped_row_notes(prepared: PreparedFrame, min_class_rows: int | None) -> list[str]:
    """One line per reason rows were removed before the split (for the run's data notes)."""
    notes = []
    if prepared.rows_dropped.get("missing target"):
        notes.append(f"{prepared.rows_dropped['missing target']} rows without a target value "
                     "were dropped")
    if prepared.rare_classes:
        notes.append(f"class(es) {_short(prepared.rare_classes)} had fewer than "
                     f"preprocess.min_class_rows={min_class_rows} rows and were dropped with "
                     "their rows: the model never predicts them")
    return notes


def _rare_classes(target: pd.Series, min_rows: int | None) -> dict[str, int]:
    """Classes with fewer than ``min_rows`` rows, when dropping them leaves two classes or more
    (otherwise ``_check_classes`` says what is wrong with the target as a whole)."""
    if not min_rows:
        return {}
    counts = class_counts(target)
    rare = {k: v for k, v in counts.items() if v < min_rows}
    return rare if len(counts) - len(rare) >= 2 else {}
