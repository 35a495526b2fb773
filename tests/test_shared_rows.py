"""Families tuned on different rows (row caps, the cost guard) are blended and ranked on
the training rows they all predicted out of fold: caps nest, so those rows are the
smallest cap's."""
import numpy as np
import pandas as pd
import pytest

from pipelines.validate_candidates import blendable, on_rows, shared_rows
from steps.config import TrainConfig
from steps.subsample import nested_sample
from steps.tuning import cap_rows, family_rows


def _labels(n=5634, seed=0):
    rng = np.random.default_rng(seed)
    return pd.Series(rng.choice(["stay", "churn", "rare"], n, p=[0.68, 0.25, 0.07]))


def test_caps_nest_and_keep_the_class_shares():
    y = _labels()
    small, mid, large = (set(nested_sample(y, cap, 0)) for cap in (2000, 4108, 5072))
    assert (len(small), len(mid), len(large)) == (2000, 4108, 5072)
    assert small <= mid <= large
    shares = y.iloc[sorted(small)].value_counts(normalize=True)
    pd.testing.assert_series_equal(shares, y.value_counts(normalize=True), atol=0.002,
                                   check_names=False)
    # a cap of an already capped table (the cost guard after train.max_rows) nests too
    capped = y.iloc[sorted(large)]
    assert set(capped.index[nested_sample(capped, 2000, 0)]) == small
    # another seed draws other rows; two independent draws would share far fewer
    assert len(small & set(nested_sample(y, 2000, 1))) < 1000


def test_cap_rows_of_two_families_nest_in_the_family_rows():
    X = pd.DataFrame({"x": np.arange(5634.0)})
    y = _labels()
    X, y, _ = family_rows("logreg", X, y, TrainConfig())
    a = cap_rows(X, y, 2000, seed=0, quiet=True)[0].index
    b = cap_rows(X, y, 4108, seed=0, quiet=True)[0].index
    assert set(a) <= set(b) and a.is_monotonic_increasing


def _family(rows, seed, classes=("churn", "rare", "stay")):
    """A family's out-of-fold predictions on ``rows`` of a 5634-row training split."""
    rng = np.random.default_rng(seed)
    y = _labels().iloc[rows].reset_index(drop=True)
    proba = rng.dirichlet(np.ones(len(classes)), len(rows))
    return {"oof": {"rows": np.asarray(rows), "y": y, "proba": proba, "classes": list(classes)}}


def test_a_capped_family_joins_the_blend_on_the_rows_every_family_predicted():
    y = _labels()
    every = np.arange(len(y))
    capped = nested_sample(y, 2000, 0)
    families = {"logreg": _family(every, 1), "svm": _family(nested_sample(y, 5072, 0), 2),
                "hist_gb": _family(capped, 3), "knn": _family(every, 4)}
    chosen, rows = blendable(families)
    assert sorted(chosen) == ["hist_gb", "knn", "logreg", "svm"]
    assert np.array_equal(rows, capped)
    for name, family in chosen.items():  # each restricted to the same rows, same labels
        assert np.array_equal(family["oof"]["rows"], capped)
        pd.testing.assert_series_equal(family["oof"]["y"], chosen["hist_gb"]["oof"]["y"])
    # the restriction takes each row's own prediction
    where = {r: i for i, r in enumerate(every)}
    np.testing.assert_allclose(chosen["logreg"]["oof"]["proba"],
                               families["logreg"]["oof"]["proba"][[where[r] for r in capped]])
    # a family on too few shared rows stays out; the others keep every row
    families["tiny"] = _family(nested_sample(y, 300, 0), 5)
    chosen, rows = blendable(families)
    assert "tiny" not in chosen and len(rows) == 2000
    assert shared_rows(families) is None  # too few for a ranking on shared rows


def test_candidates_on_the_same_rows_are_ranked_as_before():
    y = _labels()
    every = np.arange(len(y))
    assert shared_rows({"a": _family(every, 1), "b": _family(every, 2)}) is None
    rows = shared_rows({"a": _family(every, 1), "b": _family(nested_sample(y, 2000, 0), 2)})
    assert len(rows) == 2000


def test_shared_rows_with_too_few_of_a_class_do_not_choose():
    """3% positives: 2000 shared rows hold about 60 of them, too few to weight a blend or
    rank the families on; the families on every row are blended, each ranked on its own."""
    rng = np.random.default_rng(4)
    y = pd.Series(np.where(rng.random(8000) < 0.03, "yes", "no"))
    every = np.arange(len(y))

    def fam(rows, seed):
        return {"oof": {"rows": rows, "y": y.iloc[rows].reset_index(drop=True),
                        "proba": np.random.default_rng(seed).dirichlet([1, 1], len(rows)),
                        "classes": ["no", "yes"]}}
    families = {"logreg": fam(every, 1), "svm": fam(every, 2),
                "hist_gb": fam(nested_sample(y, 2000, 0), 3)}
    chosen, rows = blendable(families)
    assert sorted(chosen) == ["logreg", "svm"] and len(rows) == 8000
    assert shared_rows(families) is None
    # with 600 positives in the shared rows they do choose
    y[:] = np.where(rng.random(8000) < 0.3, "yes", "no")
    families = {"logreg": fam(every, 1), "hist_gb": fam(nested_sample(y, 2000, 0), 3)}
    assert len(blendable(families)[0]) == 2 and len(shared_rows(families)) == 2000


def test_on_rows_refuses_rows_the_family_did_not_predict():
    family = _family(np.arange(10), 1)
    with pytest.raises(KeyError):
        on_rows(family["oof"], [3, 12])
