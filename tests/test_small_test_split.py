"""A test split with a class of a few rows gets a note saying its score is rough, and how to
get a steadier figure; a split with enough rows of every class gets none."""
import pandas as pd

from steps.splits import SMALL_TEST_CLASS, small_test_note


def test_a_class_with_few_test_rows_is_named_with_what_one_row_costs():
    y = pd.Series(["absent"] * 13 + ["present"] * 4)  # rpart's kyphosis, 20% held out
    (note,) = small_test_note(y)
    assert "17 rows, only 4 of class 'present'" in note
    assert "recall by 0.25" in note and "--split-seeds 0 1 2" in note


def test_enough_rows_of_every_class_say_nothing():
    y = pd.Series(["VF"] * 442 + ["F"] * 270 + ["M"] * 103 + ["L"] * SMALL_TEST_CLASS)
    assert small_test_note(y) == []
    assert small_test_note(y.iloc[:-1])  # one row fewer of L: noted
