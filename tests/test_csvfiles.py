"""Delimited files as they arrive: separators, decimal commas, encodings, clear errors."""
import pandas as pd
import pytest

from steps.sources import DataSourceError, read_table_file

ROWS = [("a", 1.5, "x"), ("b", -2.25, "y"), ("a", 3.0, "x"), ("b", 4.75, "y")]


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return str(path)


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_separators_are_recognised(tmp_path, sep):
    text = sep.join(["label", "size", "kind"]) + "\n" + "".join(
        sep.join(map(str, r)) + "\n" for r in ROWS)
    frame, _ = read_table_file(_write(tmp_path / "t.csv", text))
    assert list(frame.columns) == ["label", "size", "kind"]
    assert frame["size"].tolist() == [1.5, -2.25, 3.0, 4.75]


def test_semicolons_with_decimal_commas_read_as_numbers(tmp_path):
    text = "label;size;kind\n" + "".join(f"{a};{str(b).replace('.', ',')};{c}\n" for a, b, c in ROWS)
    frame, _ = read_table_file(_write(tmp_path / "eu.csv", text))
    assert pd.api.types.is_float_dtype(frame["size"]) and frame["size"].sum() == 7.0


def test_byte_order_mark_and_latin1(tmp_path):
    bom, _ = read_table_file(_write(tmp_path / "bom.csv", "label,size\na,1\nb,2\n", "utf-8-sig"))
    assert list(bom.columns) == ["label", "size"]
    latin, _ = read_table_file(_write(tmp_path / "l1.csv", "label,city\na,Köln\nb,Málaga\n", "latin-1"))
    assert latin["city"].tolist() == ["Köln", "Málaga"]


def test_tsv_files_are_tables(tmp_path):
    frame, _ = read_table_file(_write(tmp_path / "t.tsv", "label\tsize\na\t1\nb\t2\n"))
    assert frame.shape == (2, 2)


@pytest.mark.parametrize("name, content, message", [
    ("empty.csv", "", r"empty\.csv is empty"),
    ("ragged.csv", "a,b\n1,2\n3,4,5,6\n", r"not a consistent ','-separated table"),
    ("bad.parquet", "not parquet at all", r"not a readable Parquet file"),
])
def test_unreadable_files_say_why(tmp_path, name, content, message):
    with pytest.raises(DataSourceError, match=message):
        read_table_file(_write(tmp_path / name, content))


def test_latin1_beyond_the_sniffed_sample(tmp_path):
    rows = "".join(f"a,{i}\n" for i in range(20000)) + "b,Düsseldorf\n"
    frame, _ = read_table_file(_write(tmp_path / "late.csv", "label,city\n" + rows, "latin-1"))
    assert frame["city"].iloc[-1] == "Düsseldorf"
