"""Command line: ``tabpipe`` (or ``python -m pipelines``).

clearml is imported lazily, after argument parsing, so the CLI's own arguments
never leak into the pipeline task's parameters.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from pipelines.cli_help import EPILOG, PREDICT_EPILOG
from pipelines.cli_results import cmd_predict, cmd_report, cmd_runs
from pipelines.cli_server import SERVER_COMMANDS, server_command
from pipelines.queues import NoWorkers
from pipelines.controller_process import ServerGone, stop_like_ctrl_c
from steps.config import ConfigError, load_config, load_yaml

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "default.yaml"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tabpipe", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="ClearML pipeline for imbalanced tabular classification: "
                    "dataset versioning, leakage-free preprocessing, parallel Optuna-tuned "
                    "model families, honest validation, gated model publishing.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run the pipeline end to end",
                         formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    _config_args(run)
    run.add_argument("--dataset", help="bundled dataset card name (sets data.source)")
    run.add_argument("--csv", metavar="PATH", help="a .csv or .parquet file (sets data.source)")
    run.add_argument("--target", help="target column of --csv (sets data.target)")
    run.add_argument("--mode", choices=["embedded", "local", "remote"],
                     help="embedded (default): local server; local: configured server, steps "
                          "here; remote: controller and steps on clearml-agent queues")
    run.add_argument("--agents", type=int, help="embedded: start N local clearml-agent workers")
    run.add_argument("--force", action="store_true", help="ignore step caches for this run")
    run.add_argument("--split-seeds", type=int, nargs="+", metavar="SEED",
                     help="a split study: one run per seed (preprocess.split_seed), then the "
                          "test score's mean, sd and range over the splits and against earlier "
                          "settings (as `tabpipe runs --splits`); winners are registered as "
                          "<dataset>-split-study unless publish.model_name is set")
    run.add_argument("--json", action="store_true",
                     help="print the run summary as JSON on stdout (progress goes to stderr)")
    run.add_argument("--verbose", "-v", action="store_true",
                     help="show every line ClearML prints (default: the pipeline's progress "
                          "only; each task's full log is on the server either way)")
    dag = sub.add_parser("dag", help="print the DAG built from the config (no server needed)")
    _config_args(dag)
    check = sub.add_parser("check-config", help="validate a config and print the effective values")
    _config_args(check)
    sub.add_parser("datasets", help="list the bundled dataset cards")
    predict = sub.add_parser(
        "predict", help="score a table with a registered model (the champion by default)",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=PREDICT_EPILOG)
    _config_args(predict)  # execution.data_dir (embedded server) and publish.champion_tag
    predict.add_argument("table", type=Path, help="a .csv or .parquet file with the feature columns")
    predict.add_argument("--model", metavar="NAME_OR_ID",
                         help="a model ID, or a model name for its published champion "
                              "(default: the only published champion)")
    predict.add_argument("--out", type=Path, help="where to write the scored table "
                                                  "(.csv or .parquet; default <table>-predictions.csv beside "
                                                  "the table)")
    predict.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    _read_mode_arg(predict)
    report = sub.add_parser("report", help="a run as an HTML page: decision, leaderboard, every figure")
    _config_args(report)  # execution.data_dir: the embedded server's data
    report.add_argument("run", nargs="?", help="pipeline run (controller task) ID, or its first "
                                               "6+ hex digits; default: the latest")
    report.add_argument("--out", type=Path, help="folder for index.html and its figures "
                                                 "(default <data_dir>/reports/<run id>)")
    _read_mode_arg(report)
    runs = sub.add_parser("runs", help="the pipeline runs as a table; --compare shows what "
                                       "changed between two")
    _config_args(runs)  # execution.data_dir: the embedded server's data
    runs.add_argument("--limit", type=_positive, default=20, help="newest N runs (default 20)")
    runs.add_argument("--compare", nargs="*", metavar="RUN_ID",
                      help="two run IDs (A B; the first 6+ hex digits do), or none for the two "
                           "newest: the settings that "
                           "differ, then winner, scores and decision side by side, test F1 per "
                           "class and each family's cv and test score in A and B; on the same "
                           "test split, B - A paired on its rows with a 95%% bootstrap interval "
                           "(is the change more than the split's noise?)")
    runs.add_argument("--splits", action="store_true",
                      help="group the runs by setting across test splits (runs that differ only "
                           "in preprocess.split_seed): mean, sd and range of the test score per "
                           "setting, and each setting against the newest one, paired split by split")
    runs.add_argument("--out", type=Path, metavar="DIR",
                      help="with --splits: also write DIR/index.html, the groups with a figure "
                           "of each setting's test score by split, linked to each run's report")
    runs.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                      help="resamples for --compare's paired intervals (default 1000; 0: none)")
    runs.add_argument("--json", action="store_true",
                      help="the rows (with --compare the comparison, with --splits the groups) "
                           "as JSON")
    _read_mode_arg(runs)
    server = sub.add_parser("server", help="the embedded ClearML-compatible server",
                            add_help=False)
    server.add_argument("args", nargs=argparse.REMAINDER)
    show = sub.add_parser("show", help="read-only view of the embedded server", add_help=False)
    show.add_argument("args", nargs=argparse.REMAINDER)
    agents = sub.add_parser("agents", help="start local clearml-agent workers", add_help=False)
    agents.add_argument("args", nargs=argparse.REMAINDER)
    return p


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _read_mode_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mode", choices=["embedded", "local"], default="embedded",
                   help="embedded (default): the local server `tabpipe run` used; "
                        "local: the server configured in clearml.conf / CLEARML_*")


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", type=Path, default=DEFAULT_CONFIG,
                   help=f"YAML config (default: {DEFAULT_CONFIG.name}; see configs/)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key, e.g. train.n_trials=10 (repeatable)")


def _run_overrides(args) -> list[str]:
    extra = list(args.overrides)
    if args.dataset and args.csv:
        raise ConfigError("use either --dataset or --csv, not both")
    if args.dataset:
        extra.append(f"data.source={args.dataset}")
    if args.csv:
        extra.append(f"data.source={Path(args.csv).resolve()}")
    if args.target:
        extra.append(f"data.target={args.target}")
    if args.mode:
        extra.append(f"execution.mode={args.mode}")
    if args.agents is not None:
        extra.append(f"execution.agents={args.agents}")
    if args.force:
        extra.append("execution.force_rerun=true")
    return extra


def _cmd_run(args) -> int:
    from pipelines.preflight import preflight
    from pipelines.runner import run_pipeline
    from pipelines.summary import print_summary
    from steps.data import DataValidationError
    stop_like_ctrl_c()  # kill, a CI time limit or a closed terminal: cleaned up as Ctrl-C is
    if args.split_seeds:
        from pipelines import split_study
        cfgs = split_study.study_configs(args.config, _run_overrides(args), args.split_seeds)
    else:
        cfgs = [load_config(args.config, _run_overrides(args))]
    try:
        preflight(cfgs[0])  # the data and the config's columns, the same for every seed
    except (DataValidationError, FileNotFoundError, ValueError) as err:
        print(f"tabpipe: invalid input: {err}", file=sys.stderr)
        return 2
    if args.split_seeds:
        return split_study.run_and_print(cfgs, args.verbose, args.json)
    result = run_pipeline(cfgs[0], verbose=args.verbose, progress=sys.stderr if args.json else None)
    print_summary(result, as_json=args.json)
    failed = [n for n, s in result.steps.items() if s["status"] == "failed"]
    return 1 if failed else 0


def _cmd_dag(args) -> int:
    from pipelines.dag import build_dag
    spec = build_dag(load_config(args.config, args.overrides))
    for step in spec.steps:
        parents = ", ".join(step.parents) or "-"
        print(f"{step.name:<20} <- {parents:<22} queue={step.queue} cache={step.cache}  "
              f"{step.description}".rstrip())
    return 0


def _cmd_datasets(_args) -> int:
    for card in sorted((DEFAULT_CONFIG.parent.parent / "datasets").glob("*.yaml")):
        meta = load_yaml(card.read_text()) or {}
        line = f"{card.stem:<24} target={meta.get('target', '?'):<12} {meta.get('description', '')}"
        print(line.rstrip() if len(line) <= 120 else line[:116].rsplit(" ", 1)[0] + " ...")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S")
    if argv and argv[0] in SERVER_COMMANDS:  # before parsing: their own --help must reach them
        try:
            return server_command(argv[0], argv[1:], DEFAULT_CONFIG)
        except ConfigError as err:
            print(f"tabpipe: {err}", file=sys.stderr)
            return 2
    args = _parser().parse_args(argv)
    if args.command != "run":  # downloads in this process: no progress bars between results
        from pipelines.console import QUIET_ENV
        for key, value in QUIET_ENV.items():
            os.environ.setdefault(key, value)
    try:
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "report":
            return cmd_report(args)
        if args.command == "runs":
            return cmd_runs(args)
        if args.command == "predict":
            return cmd_predict(args)
        if args.command == "dag":
            return _cmd_dag(args)
        if args.command == "check-config":
            print(json.dumps(load_config(args.config, args.overrides).model_dump(mode="json"),
                             indent=2))
            return 0
        return _cmd_datasets(args)
    except ConfigError as err:
        print(f"tabpipe: {err}", file=sys.stderr)
        return 2
    except (ServerGone, NoWorkers) as err:
        print(f"tabpipe: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ntabpipe: interrupted. The run's unfinished tasks are marked stopped; steps "
              "that completed are cached, so the same command continues from them.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
