"""``tabpipe predict | report | runs``: the commands that read what earlier runs left on a
server (models, tasks, reports) rather than start a run."""
from __future__ import annotations

import json
import sys

from steps.config import load_config


def cmd_predict(args) -> int:
    from pipelines import predict
    from pipelines.runner import existing_server
    from steps.data import DataValidationError
    from steps.sources import read_table_file
    cfg = load_config(args.config, args.overrides)
    out = args.out or predict.default_output(args.table)
    try:
        frame, _ = read_table_file(str(args.table))
        predict.check_output(out, args.overwrite)
        with existing_server(args.mode, cfg.execution):
            result = predict.score_table(frame, args.model, cfg.publish.champion_tag)
        predict.write_output(result.frame, out, args.overwrite)
    except (DataValidationError, LookupError, RuntimeError) as err:
        print(f"tabpipe predict: {err}", file=sys.stderr)
        return 2
    print("\n".join(predict.summary_lines(result, out)))
    return 0


def cmd_report(args) -> int:
    from pipelines.report import latest_run_id, write_report
    from pipelines.runner import existing_server, reports_root
    cfg = load_config(args.config, args.overrides)
    try:
        with existing_server(args.mode, cfg.execution):
            run_id = args.run or latest_run_id()
            path = write_report(run_id, args.out or reports_root(cfg.execution) / run_id)
    except (LookupError, RuntimeError) as err:
        print(f"tabpipe report: {err}", file=sys.stderr)
        return 2
    print(f"report of run {run_id}: {path}")
    return 0


def cmd_runs(args) -> int:
    from pipelines import runs
    from pipelines.runner import existing_server
    from steps.runs import format_changes, format_runs
    cfg = load_config(args.config, args.overrides)
    if args.out and not args.splits:
        print("tabpipe runs: --out writes the --splits page; add --splits", file=sys.stderr)
        return 2
    try:
        with existing_server(args.mode, cfg.execution):
            if args.compare is not None:
                result, text = runs.compare(args.compare, max(args.bootstrap, 0)), format_changes
            elif args.splits:
                from steps.split_summary import format_split_groups
                result, text = runs.split_summary(args.limit), format_split_groups
                if args.out:
                    from pipelines.runner import reports_root
                    from pipelines.split_study import write_split_page
                    page = write_split_page(result, args.out, reports_root(cfg.execution))
                    print(f"split page: {page.resolve().as_uri()}", file=sys.stderr)
            else:
                result, text = runs.list_runs(args.limit), format_runs
    except (LookupError, RuntimeError) as err:
        print(f"tabpipe runs: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, default=str) if args.json else text(result))
    return 0
