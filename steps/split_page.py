"""Settings over test splits as a page: the group table, each setting against its dataset's
newest, and a figure of every run's test score by split seed, one line per setting.

Lines that run parallel across the splits mean the setting's effect is consistent and the
splits differ in difficulty; lines that cross mean the difference is split noise. Pure
rendering (matplotlib, HTML text); the wiring layer gathers the groups and writes the files.
"""
from __future__ import annotations

from steps.figures import new_figure
from steps.report import STYLE, _e, table
from steps.runs import config_changes
from steps.split_summary import contrasts, paired_text

MAX_LINES = 8  # settings drawn; older groups stay in the table
FIGURE = "splits.png"
LABEL_CHARS = 48


def _what(group: dict, first: dict) -> str:
    """What sets ``group`` apart from ``first`` (its dataset's newest group), short:
    ``strategy=smote, n_trials=10``."""
    if group is first:
        return ""
    changes = [f"{key.rsplit('.', 1)[-1]}={b}" for key, _, b in
               config_changes(first["settings"], group["settings"])]
    text = ", ".join(changes) or "other data"
    return " (" + (text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 3] + "...") + ")"


def _label(group: dict, first: dict, multiple_datasets: bool) -> str:
    mean, sd = group["test"]["mean"], group["test"]["sd"]
    spread = f" ± {sd:.3f}" if sd is not None else ""
    data = f" {group['dataset']}" if multiple_datasets else ""
    return (f"group {group['group']}{data}{_what(group, first)}: {mean:.3f}{spread} "
            f"over {group['splits']} split(s)")


def split_figure(groups: list[dict]):
    """Test score by split seed, one line (with its mean dashed) per group, group 1 on top."""
    fig, axes = new_figure(7.0, 4.4)
    ax = axes[0, 0]
    shown = groups[:MAX_LINES]
    seeds = sorted({s for g in shown for s in g["seeds"]})
    several = len({g["dataset"] for g in shown}) > 1
    newest: dict = {}  # per dataset, the group the others of that dataset are set against
    for rank, group in enumerate(shown):
        xs = [seeds.index(s) for s in group["seeds"]]
        ys = [group["test_by_run"][r] for r in group["runs"]]
        line, = ax.plot(xs, ys, marker="o", linewidth=2.2 if rank == 0 else 1.2,
                        zorder=len(shown) - rank,
                        label=_label(group, newest.setdefault(group["dataset"], group), several))
        ax.hlines(group["test"]["mean"], min(xs) - 0.15, max(xs) + 0.15, colors=line.get_color(),
                  linestyles="dashed", linewidth=0.8)
    ax.set_xticks(range(len(seeds)), [str(s) for s in seeds])
    ax.set_xlabel("preprocess.split_seed (a frozen stratified test split each)")
    ax.set_ylabel(f"test {groups[0]['metric'] if groups else 'score'}")
    ax.set_title("Each setting's test score by split (dashed: its mean)")
    ax.grid(alpha=0.3)
    if len(groups) > MAX_LINES:
        ax.text(0.01, 0.01, f"{len(groups) - MAX_LINES} older setting(s) in the table only",
                transform=ax.transAxes, fontsize=8, color="gray")
    ax.legend(fontsize=8, loc="best")
    return fig


def _rows(groups: list[dict]) -> list[dict]:
    return [{"group": g["group"], "dataset": g["dataset"], "splits": g["splits"],
             "seeds": ",".join(map(str, g["seeds"])), "metric": g["metric"],
             "test mean": g["test"]["mean"], "sd": g["test"]["sd"], "min": g["test"]["min"],
             "max": g["test"]["max"], "cv mean": g["cv"]["mean"],
             "winners": ", ".join(f"{w} x{n}" for w, n in g["winners"].items())} for g in groups]


def _runs(groups: list[dict], reports: dict[str, str]) -> str:
    items = []
    for g in groups:
        for seed, run in zip(g["seeds"], g["runs"]):
            ref = reports.get(run)
            name = f"<a href='{_e(ref)}'><code>{_e(run)}</code></a>" if ref else f"<code>{_e(run)}</code>"
            items.append(f"<li>group {g['group']}, seed {seed}: {name} "
                         f"test {g['test_by_run'][run]:.4f}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def render_split_page(groups: list[dict], reports: dict[str, str], title: str) -> str:
    """``reports``: run ID -> relative link to that run's report page, where one exists."""
    if not groups:
        body = "<p>No finished pipeline runs with a test score.</p>"
    else:
        versus = "".join(f"<li>group {c['group']} against group {c['reference']}: {_e(c['what'])}; "
                         f"{_e(paired_text(c['paired']))}</li>" for c in contrasts(groups))
        body = (table(_rows(groups), _rows(groups)[0].keys())
                + (f"<h2>Against the newest group of the same dataset</h2><ul>{versus}</ul>"
                   if versus else "")
                + f"<h2>By split</h2><figure><img src='{FIGURE}' alt='test score by split'>"
                  "<figcaption>Parallel lines: a consistent effect on splits of different "
                  "difficulty; crossing lines: split noise.</figcaption></figure>"
                + f"<h2>Runs</h2>{_runs(groups, reports)}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{_e(title)}</h1>"
            "<p>Runs grouped by every setting except <code>preprocess.split_seed</code> and "
            "<code>execution</code>, and by dataset content; a rerun of a split counts once.</p>"
            f"{body}</body></html>")
