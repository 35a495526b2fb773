"""``tabpipe predict``: score a table with a registered model (the champion by default).

Thin wiring around ``steps.scoring``: find the model in the registry, download its weights,
check them against the checksum recorded at registration, and write the scored table.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines import tracking
from steps.columns import DataValidationError
from steps.data import file_sha256


class ModelNotFound(LookupError):
    pass


@dataclass
class Scored:
    model_id: str
    model_name: str
    family: str
    frame: pd.DataFrame
    agreement: dict | None
    not_most_probable: int = 0  # rows decided for a class other than their most probable
    input_findings: list = field(default_factory=list)  # steps.drift.check_inputs
    periods: object = None  # labelled rows with the model's time column: steps.over_time
    seen_rows: int = 0  # of those, rows inside the model's training period
    prediction_sets: dict | None = None  # the conformal rule recorded with the model


def find_model(ref: str | None, champion_tag: str = "champion"):
    """``ref``: a model ID (any registered model), a model name (its published champion),
    or None (the only published champion on the server)."""
    from clearml import Model
    if ref and tracking.is_clearml_id(ref):
        try:
            model = Model(model_id=ref)
            model.name  # noqa: B018 - resolves the ID now, not at first use
        except Exception as err:  # the SDK raises plain ValueError/RuntimeError kinds
            raise ModelNotFound(f"no model with ID {ref} on this server ({err})") from None
        return model
    hits = Model.query_models(model_name=ref, tags=[champion_tag], only_published=True,
                              max_results=50)
    if ref:
        hits = [m for m in hits if m.name == ref]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        what = f"named {ref!r} " if ref else ""
        raise ModelNotFound(f"no published {champion_tag} model {what}on this server; run "
                            "`tabpipe run` first, or pass --model <model ID> (see `tabpipe show models`)")
    listing = "; ".join(f"{m.name} ({m.id})" for m in hits)
    raise ModelNotFound(f"{len(hits)} published {champion_tag} models: {listing}; "
                        "choose one with --model <name or ID>")


def load_weights(model):
    """The fitted estimator, after checking the file against its recorded SHA-256."""
    import joblib

    meta = tracking.model_metadata(model)
    # the SDK logs each download to stdout, which belongs to the command's own summary here
    logging.getLogger("clearml.storage").setLevel(logging.WARNING)
    path = Path(model.get_local_copy(raise_on_error=True))
    expected = meta.get("weights_sha256")
    if expected and file_sha256(path) != expected:
        raise RuntimeError(f"model {model.id}: downloaded weights do not match their recorded "
                           "SHA-256; the stored file is damaged or was replaced")
    return joblib.load(path), meta


def score_table(frame: pd.DataFrame, ref: str | None, champion_tag: str = "champion") -> Scored:
    from steps.drift import check_inputs
    from steps.scoring import ScoringSpec, agreement, not_most_probable, prepare_rows, score_rows
    from steps.over_time import labelled_periods
    model = find_model(ref, champion_tag)
    estimator, meta = load_weights(model)
    spec = ScoringSpec.from_metadata(meta, f"model {model.name} ({model.id})")
    scored = score_rows(estimator, frame, spec)
    X = prepare_rows(frame, spec)  # the model's input columns, for CV+ sets and the input check
    sets = tracking.json_metadata(meta, "prediction_sets")
    if sets:  # every class the model cannot rule out at the recorded error rate
        from steps.cv_plus import with_cv_plus_sets
        from steps.conformal import with_sets
        from steps.scoring import PROBA_PREFIX
        scored = (with_cv_plus_sets(scored, X, estimator)
                  if sets.get("method") == "cv_plus" else
                  with_sets(scored, spec.classes, sets, PROBA_PREFIX))
    findings = check_inputs(X, spec.profile)
    periods, seen = labelled_periods(scored, spec.target, spec.classes,
                                     tracking.json_metadata(meta, "period"))
    return Scored(model.id, model.name, str(meta.get("family", "?")), scored,
                  agreement(scored, spec.target), not_most_probable(scored, spec.classes),
                  findings, periods, seen, sets or None)


def default_output(source: Path) -> Path:
    """Beside the scored table, whatever the working directory."""
    return source.with_name(f"{source.stem}-predictions.csv")


def check_output(out: Path, overwrite: bool) -> None:
    """Before any download: a known format, and no earlier result replaced unasked."""
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise DataValidationError(f"--out must end in .csv or .parquet, got {out.name!r}")
    if out.exists() and not overwrite:
        raise DataValidationError(f"{out} already exists; choose another --out or pass --overwrite")


def write_output(frame: pd.DataFrame, out: Path, overwrite: bool) -> None:
    check_output(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)


def summary_lines(result: Scored, out: Path) -> list[str]:
    from steps.drift import summary
    from steps.scoring import PREDICTION
    counts = result.frame[PREDICTION].value_counts()
    lines = [f"model: {result.model_name} {result.model_id} ({result.family})",
             f"scored {len(result.frame)} rows -> {out}",
             "predicted: " + ", ".join(f"{c} {n}" for c, n in counts.items())]
    lines += _set_lines(result.frame, result.prediction_sets)
    if result.not_most_probable:
        lines.append(f"{result.not_most_probable} row(s) are predicted a class other than their "
                     "most probable one: probabilities are calibrated to observed frequencies, decisions keep the "
                     "class weighting (binary: the threshold) tuned for the primary metric")
    if result.agreement:
        a = result.agreement
        covered = (f"; their prediction sets held the true class on {a['set_coverage']:.1%} of "
                   f"them (built for {1 - result.prediction_sets['alpha']:.0%}: far below that, "
                   "the rows differ from the training data)"
                   if "set_coverage" in a and result.prediction_sets else "")
        lines.append(f"the table has known labels for {a['rows']} rows: accuracy "
                     f"{a['accuracy']:.3f}, macro-F1 {a['macro_f1']:.3f}{covered}. Rows the "
                     "model was trained on score higher than new ones")
    if result.seen_rows:
        lines.append(f"{result.seen_rows} of those rows fall inside the model's training period: "
                     "score only later rows to measure it on new data")
    if result.periods is not None:
        from steps.over_time import trend_note
        lines.append("by period of the model's time column:")
        lines += [f"  {r['start']} .. {r['end']} ({r['rows']} rows): macro-F1 {r['macro_f1']:.3f}"
                  f" [{r['ci_low']:.3f}, {r['ci_high']:.3f}]" for r in result.periods.to_dict("records")]
        lines.append(trend_note(result.periods, "macro_f1", "these rows")
                     .replace("test macro_f1", "macro-F1"))
    return lines + summary(result.input_findings, len(result.frame))


def _set_lines(frame: pd.DataFrame, rule: dict | None) -> list[str]:
    from steps.conformal import SEPARATOR, SET_COLUMN
    if SET_COLUMN not in frame or not rule:
        return []
    sizes = frame[SET_COLUMN].map(lambda text: len(text.split(SEPARATOR)) if text else 0)
    scope = "of every class" if rule.get("by_class") else "overall"
    how = " by CV+ (every fold model scores each row)" if rule.get("method") == "cv_plus" else ""
    return [f"{SET_COLUMN}: the classes the model cannot rule out, built{how} to hold the true "
            f"class in {1 - rule['alpha']:.0%} of rows {scope} (mean size {sizes.mean():.2f}, "
            f"{(sizes == 1).mean():.0%} single-class, {(sizes > 1).sum()} rows with more than "
            "one class)"]
