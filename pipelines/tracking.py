"""The one ClearML reporting adapter: every scalar, plot, table and artifact goes
through here so names line up across runs in the web UI's compare view.

Naming: scalar title = stage (``cv``, ``test``, ``trial``, ``leaderboard``),
series = metric or family; plots ``<stage>/<what>``; tables ``<stage>/<what>``.
"""
from __future__ import annotations

import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Any, Mapping

from steps.numbers import is_finite_number

log = logging.getLogger(__name__)


def is_clearml_id(text: str) -> bool:
    """Whether ``text`` has the shape of a ClearML task or model ID (32 hex digits)."""
    return bool(re.fullmatch(r"[0-9a-f]{32}", text or ""))


def current_task():
    from clearml import Task
    task = Task.current_task()
    if task is None:
        raise RuntimeError("no current ClearML task: step wrappers must run inside a pipeline step")
    return task


def report_scalars(task, title: str, values: Mapping[str, Any], iteration: int = 0) -> None:
    logger = task.get_logger()
    for series, value in values.items():
        if is_finite_number(value):
            logger.report_scalar(title=title, series=str(series), value=float(value), iteration=iteration)


def report_single_values(task, values: Mapping[str, Any], prefix: str = "") -> None:
    logger = task.get_logger()
    for name, value in values.items():
        if is_finite_number(value):
            logger.report_single_value(f"{prefix}{name}", float(value))


def report_table(task, title: str, frame, series: str = "table") -> None:
    """A missing value shows as an empty cell (ClearML would write 'nan' into float columns,
    which pandas now warns about once per table)."""
    if hasattr(frame, "isna") and frame.isna().any().any():
        frame = frame.astype(object).where(frame.notna(), "")
    task.get_logger().report_table(title=title, series=series, iteration=0, table_plot=frame)


FIGURE_DPI = 110


def report_figures(task, stage: str, figures: Mapping[str, Any]) -> None:
    """Report matplotlib figures as PNG debug samples named ``<stage>/<name>`` (the web UI's
    and the run page's figures). Rendered here with a margin: ClearML's own conversion saves
    with ``pad_inches=0``, which cut the top off every title."""
    import matplotlib.pyplot as plt
    logger, folder = task.get_logger(), None
    for name, fig in figures.items():
        if fig is None:
            continue
        folder = folder or scratch_dir("figures")
        path = folder / (re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{stage}_{name}") + ".png")
        fig.savefig(path, dpi=FIGURE_DPI, bbox_inches="tight", pad_inches=0.08)
        logger.report_image(title=f"{stage}/{name}", series=name, iteration=0,
                            local_path=str(path), delete_after_upload=True)
        plt.close(fig)


def upload_json(task, name: str, payload: Any) -> None:
    """Small JSON artifacts, uploaded synchronously so consumers can rely on them."""
    task.upload_artifact(name=name, artifact_object=json.loads(json.dumps(payload, default=str)),
                         wait_on_upload=True)


def upload_file(task, name: str, path: Path) -> None:
    task.upload_artifact(name=name, artifact_object=str(path), wait_on_upload=True)


def scratch_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"tabpipe-{prefix}-"))


def connect_section(task, name: str, section: Mapping[str, Any]) -> None:
    """Show the step's own config section on its task (read-only record)."""
    task.connect_configuration(configuration=dict(section), name=name)


def set_model_metadata(model, values: Mapping[str, Any]) -> None:
    """Typed model metadata (shown in the registry's metadata tab, castable on read)."""
    typed = {}
    for key, value in values.items():
        kind = type(value).__name__ if isinstance(value, (bool, int, float, str)) else "str"
        text = value if isinstance(value, str) or kind != "str" else json.dumps(value, default=str)
        typed[str(key)] = {"value": str(text), "type": kind}
    model.set_all_metadata(typed, replace=False)


def model_metadata(model) -> dict[str, Any]:
    """Read metadata back with the types it was written with."""
    return dict(model.get_all_metadata_casted() or {})


def json_metadata(meta: Mapping[str, Any], key: str) -> Any:
    """A metadata value ``set_model_metadata`` stored as JSON text (a list, a dict), decoded."""
    value = meta.get(key)
    return json.loads(value) if isinstance(value, str) and value else value
