"""ClearML Dataset I/O: versions are created once, finalized, and never modified."""
from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from pipelines.locks import file_lock
from pipelines.tracking import scratch_dir

log = logging.getLogger(__name__)


def find_version(project: str, name: str, tags: list[str] | None = None):
    """Latest finalized version of ``project/name`` (optionally with all ``tags``), or None."""
    from clearml import Dataset
    try:
        return Dataset.get(dataset_project=project, dataset_name=name, dataset_tags=tags,
                           only_completed=True, silence_alias_warnings=True)
    except ValueError:
        return None


def _write(folder: Path, files: Mapping[str, Any]) -> None:
    for filename, payload in files.items():
        path = folder / filename
        if isinstance(payload, pd.DataFrame):
            payload.to_parquet(path, index=True)
        else:
            path.write_text(json.dumps(payload, indent=1, sort_keys=True, default=str))


def create_version(project: str, name: str, files: Mapping[str, Any], *, parent=None,
                   parent_id: str | None = None, tags: list[str] | None = None,
                   description: str = "", tables: Mapping[str, pd.DataFrame] | None = None) -> str:
    """Create, upload and finalize a new dataset version; returns its ID."""
    from clearml import Dataset
    parents = [p for p in (parent_id, getattr(parent, "id", None)) if p]
    ds = Dataset.create(dataset_name=name, dataset_project=project, parent_datasets=parents or None,
                        dataset_tags=tags, description=description)
    folder = scratch_dir("dataset")
    _write(folder, files)
    ds.add_files(str(folder))
    with warnings.catch_warnings():
        # ClearML fills missing cells of metadata tables and data previews with the text
        # 'nan', which pandas 3 warns about once per float column: noise on the user's console
        warnings.filterwarnings("ignore", message=".*is not supported as a fill value")
        for table_name, table in (tables or {}).items():
            ds.set_metadata(table, metadata_name=table_name, ui_visible=True)
        ds.upload()
        ds.finalize()
    log.info("created dataset version %s/%s %s", project, name, ds.id)
    return ds.id


def _cache_lock():
    """Serialize dataset cache extraction between step processes of this user.

    Parallel training steps fetching the same version raced inside ClearML's cache merge
    (``OSError: Directory not empty`` from its rmtree); one lock per cache directory avoids it.
    """
    return file_lock(Path.home() / ".clearml" / "tabpipe-dataset-cache.lock")


def _local_file(dataset_id: str, filename: str, alias: str | None) -> Path:
    from clearml import Dataset
    ds = Dataset.get(dataset_id=dataset_id, alias=alias, silence_alias_warnings=alias is None)
    with _cache_lock():
        path = Path(ds.get_local_copy()) / filename
    if not path.is_file():
        raise FileNotFoundError(f"dataset {dataset_id} has no file {filename!r}")
    return path


def fetch_frame(dataset_id: str, filename: str, alias: str | None = None) -> pd.DataFrame:
    return pd.read_parquet(_local_file(dataset_id, filename, alias))


def fetch_json(dataset_id: str, filename: str, alias: str | None = None) -> Any:
    return json.loads(_local_file(dataset_id, filename, alias).read_text())


def frozen_split_of(project: str, name: str, split_tag: str) -> dict | None:
    """The test rows already frozen for this dataset version and split settings, if any."""
    version = find_version(project, name, tags=[split_tag])
    if version is None:
        return None
    return fetch_json(version.id, "split.json")
