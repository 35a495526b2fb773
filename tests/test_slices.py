"""Error analysis by slice: a segment the model serves badly is found, noise is not."""
import numpy as np
import pandas as pd

from steps.slices import column_slices, slice_errors, slices_figure, wilson


def _table(n=2000, seed=0, bad_protocol="K", bad_error=0.45, base_error=0.1):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"protocol": rng.choice(list("ABCDK"), n),
                      "size": rng.lognormal(3, 1, n),
                      "hour": rng.uniform(0, 24, n)})
    X.loc[rng.random(n) < 0.05, "size"] = np.nan
    y = rng.choice(["yes", "no"], n)
    error_rate = np.where(X["protocol"] == bad_protocol, bad_error, base_error)
    wrong = rng.random(n) < error_rate
    pred = np.where(wrong, np.where(y == "yes", "no", "yes"), y)
    return X, y, pred


def test_slices_cover_levels_quartiles_and_missing_values():
    X, _, _ = _table()
    found = {}
    for column, label, mask in column_slices(X):
        found.setdefault(column, []).append((label, int(mask.sum())))
    assert sorted(label for label, _ in found["protocol"]) == list("ABCDK")
    size_labels = [label for label, _ in found["size"]]
    assert len(size_labels) == 5 and "(missing)" in size_labels  # 4 quartiles + missing
    assert sum(n for _, n in found["size"]) == len(X)  # every row in exactly one slice
    many = pd.DataFrame({"city": [f"c{i % 40}" for i in range(400)]})
    labels = [label for _, label, _ in column_slices(many, max_levels=5)]
    assert len(labels) == 6 and labels[-1] == "(other)"


def test_the_bad_segment_is_flagged_and_nothing_else():
    X, y, pred = _table()
    table = slice_errors(X, y, pred)
    flagged = table[table["worse_than_overall"]]
    assert list(zip(flagged["column"], flagged["slice"])) == [("protocol", "K")]
    assert table.iloc[0]["slice"] == "K"  # flagged slices first
    k = table.set_index(["column", "slice"]).loc[("protocol", "K")]
    assert k["ci_low"] < k["error_rate"] < k["ci_high"]
    assert abs(k["error_rate"] - 0.45) < 0.06


def test_uniform_errors_flag_nothing_and_small_slices_are_left_out():
    X, y, pred = _table(bad_error=0.1, seed=3)
    table = slice_errors(X, y, pred)
    assert not table["worse_than_overall"].any()
    assert slice_errors(X.head(30), y[:30], pred[:30], min_rows=20)["rows"].ge(20).all()


def test_costs_per_slice_and_the_figure():
    X, y, pred = _table()
    costs = np.where(np.asarray(y) != np.asarray(pred), 5.0, 0.0)
    table = slice_errors(X, y, pred, row_costs=costs)
    np.testing.assert_allclose(table["expected_cost"], 5 * table["error_rate"])
    fig = slices_figure(table)
    title = fig.axes[0].get_title()
    assert "1 of" in title and "worse than overall" in title
    assert any("protocol = K" in t.get_text() for t in fig.axes[0].get_yticklabels())


def test_wilson_interval_matches_known_values():
    low, high = wilson(np.array([0.0, 50.0]), np.array([100.0, 100.0]), 1.96)
    assert low[0] == 0 and abs(high[0] - 0.037) < 0.001
    assert abs(low[1] - 0.404) < 0.001 and abs(high[1] - 0.596) < 0.001


def test_run_page_lists_the_worst_slices():
    from steps.report import _validation
    X, y, pred = _table()
    page = _validation({"metric": "macro_f1", "ci": [0.8, 0.9], "gates_passed": True,
                        "winner": "hist_gb", "score": 0.85, "cv_score": 0.84,
                        "slices": slice_errors(X, y, pred).head(15).to_dict("records")})
    assert "<h3>Worst slices</h3>" in page and "worse_than_overall" in page
    assert page.index(">K<") < page.index(">A<")  # the flagged slice leads
