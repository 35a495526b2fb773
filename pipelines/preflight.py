"""Checks a run's input before any server or task exists (``tabpipe run``)."""
from __future__ import annotations

import contextlib
import logging

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _steps_quiet():
    """The steps log what they load and drop; the pipeline's own steps say it again moments
    later, so here only their warnings show."""
    logger = logging.getLogger("steps")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def preflight(cfg) -> None:
    """Load and validate the table before any server or task exists: bad input fails
    fast with the column at fault, and nothing is written."""
    with _steps_quiet():
        _check(cfg)


def _check(cfg) -> None:
    from pipelines.step_tasks import DATASETS_DIR
    from steps.data import load_table, prepare_frame, split_frame
    from steps.splits import gap_needs_time
    table = load_table(cfg.data, DATASETS_DIR)
    prepared = prepare_frame(table.frame, table.target, cfg.preprocess, id_columns=table.id_columns,
                             group_column=table.group_column, time_column=table.time_column)
    gap_needs_time(cfg.preprocess.time_gap, table.time_column)
    if table.group_column or table.time_column:  # where groups or periods can make it impossible
        split_frame(prepared.frame, table.target, cfg.preprocess.test_size,
                    cfg.preprocess.split_seed, table.group_column, table.time_column,
                    cfg.preprocess.time_gap)
    if cfg.evaluate.costs:  # class names are only known once the table is read
        from steps.error_costs import cost_matrix
        cost_matrix(cfg.evaluate.costs, sorted(map(str, prepared.frame[table.target].unique())))
    if cfg.train.custom_families:  # importable here, or the training steps would fail later
        from steps.custom_families import family_spec
        for name, custom in cfg.train.custom_families.items():
            family_spec(name, custom)
        if cfg.execution.mode == "remote":  # checked here; the agents' environments are not
            packages = sorted({c.estimator.split(".")[0].split(":")[0]
                               for c in cfg.train.custom_families.values()})
            ex = cfg.execution
            queues = sorted({ex.step_queues.get(f"train_{n}", ex.queue)
                             for n in cfg.train.custom_families})
            log.warning("custom families import %s: the clearml-agent workers on queue %s "
                        "need %s installed too, or their training steps fail",
                        ", ".join(packages), ", ".join(map(repr, queues)),
                        "it" if len(packages) == 1 else "them")
