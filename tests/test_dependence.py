"""Partial dependence: the direction and range of each column's effect on the predicted
probabilities, from one batched prediction sized by the model's speed."""
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from steps.dependence import (BUDGET_S, GRID, MAX_LEVELS, MAX_ROWS, MIN_ROWS, affordable_rows,
                              dependence_figure, dependence_table, grid_values)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    n = 1500
    X = pd.DataFrame({"dose": rng.uniform(0, 10, n), "noise": rng.normal(size=n),
                      "site": rng.choice(["a", "b", "c"], n)})
    logit = 0.8 * (X.dose - 5) + np.where(X.site == "c", 2.0, 0.0)
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "sick", "well")
    model = make_pipeline(make_column_transformer((OneHotEncoder(), ["site"]),
                                                  remainder="passthrough"),
                          LogisticRegression(max_iter=1000))
    return model.fit(X, y), X


def test_effects_show_their_direction_and_irrelevant_columns_stay_flat(fitted):
    model, X = fitted
    table = dependence_table(model, X, ["dose", "noise", "site"], rows=200)
    dose = table[table.feature == "dose"]
    assert len(dose) == GRID and dose["value"].is_monotonic_increasing
    assert np.all(np.diff(dose["proba_sick"]) > 0) and np.ptp(dose["proba_sick"]) > 0.5
    assert np.ptp(table[table.feature == "noise"]["proba_sick"]) < 0.05
    site = table[table.feature == "site"].set_index("value")["proba_sick"]
    assert site["c"] > site["a"] + 0.2 and set(site.index) == {"a", "b", "c"}
    np.testing.assert_allclose(table[["proba_sick", "proba_well"]].sum(axis=1), 1.0)


def test_grid_values_and_row_budget():
    assert grid_values(pd.Series([3, 1, 2, 2, np.nan])) == [1, 2, 3]  # few values: all of them
    many = grid_values(pd.Series(np.arange(1000.0)))
    assert len(many) == GRID and many[0] == pytest.approx(49.95) and many[-1] == pytest.approx(949.05)
    levels = grid_values(pd.Series([f"l{i % 20}" for i in range(100)] + ["l0"] * 10))
    assert len(levels) == MAX_LEVELS and levels[0] == "l0"  # most frequent first
    assert grid_values(pd.Series([np.nan, np.nan])) == []
    assert affordable_rows(1e-6, 4) == MAX_ROWS  # fast model: the cap
    assert affordable_rows(1e-2, 4) == MIN_ROWS  # slow model: the floor
    assert affordable_rows(5e-4, 4) == int(BUDGET_S / (5e-4 * 4 * GRID))  # in between: the budget


def test_one_panel_per_feature(fitted):
    model, X = fitted
    table = dependence_table(model, X, ["dose", "site", "noise"], rows=100)
    fig = dependence_figure(table, positive_label="sick")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_xlabel() for ax in visible] == ["dose", "site", "noise"]
    assert all(len(ax.lines) == 1 for ax in visible)  # binary: the positive class only
    assert sorted(t.get_text() for t in visible[1].get_xticklabels()) == ["a", "b", "c"]
