"""Human-readable end-of-run summary: what ran, what was reused, what was decided."""
from __future__ import annotations

import json
from pathlib import Path

from steps.runs import headline, verdict as decision_verdict

STATUS_MARK = {"completed": "ok", "cached": "cached", "failed": "FAILED", "skipped": "skipped",
               "aborted": "aborted", "pending": "pending", "running": "running"}


def summary_dict(result) -> dict:
    return {"mode": result.mode, "pipeline_task_id": result.pipeline_task_id,
            "server": result.server, "steps": result.steps, "decision": result.decision,
            "report": result.report}


def validation_report(result) -> dict | None:
    """The validate step's returned report (winner, metric, score, ...), if it ran."""
    raw = ((result.steps.get("validate") or {}).get("returns") or {}).get("report")
    return json.loads(raw) if raw else None


def print_summary(result, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps(summary_dict(result), indent=2, default=str))
        return
    print(f"\npipeline run ({result.mode}): controller task {result.pipeline_task_id}")
    for name, info in result.steps.items():
        mark = STATUS_MARK.get(str(info["status"]), str(info["status"]))
        print(f"  {name:<22} {mark:<8} task {info['task_id']}")
    rep = validation_report(result)
    if rep:
        lo, hi = rep["ci"]
        print(f"\nwinner: {rep['winner']}  test {rep['metric']} {rep['score']:.4f} "
              f"(95% CI {lo:.4f}-{hi:.4f}); gates {'passed' if rep['gates_passed'] else 'FAILED'}")
        for line in rep.get("leakage_findings") or []:
            print(f"  possible leakage: {line}")
        for line in rep.get("data_notes") or []:
            print(f"  data note: {line}")
        if rep.get("over_time"):
            print(f"  over time: {rep['over_time']['note']}")
        if rep.get("prediction_sets"):
            print(f"  {rep['prediction_sets']['note']}")
    if result.decision:
        d = result.decision
        verdict = decision_verdict(d)
        print(f"model {d['name']} {d['model_id']}: "
              f"{headline(verdict)}")
        for reason in d["reasons"]:
            print(f"  - {reason}")
    if result.report:
        print(f"\nreport: {Path(result.report).as_uri()}")
    if result.server:
        if result.server.get("for_another_run"):
            how = ("still up for another run using it, which stops it when it ends; "
                   "`tabpipe server start` keeps it up")
        elif result.server.get("stays_up"):
            how = "open it in a browser: every run with its report, each task's and model's page"
        else:
            how = ("stopped with this run: `tabpipe server start` serves every run's report and "
                   "its task and model pages again; or `tabpipe show tasks | models`")
        print(f"\nserver: {result.server['api']}  ({how})")
