"""Reading delimited text the way it arrives: comma, semicolon, tab or pipe separated, a
decimal comma beside semicolons (spreadsheets in much of Europe), a byte-order mark, or
Latin-1 bytes. A file that still cannot be read gets an error saying why, not a parser
traceback; a file read with the wrong separator would otherwise become one text column.
"""
from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)

SEPARATORS = ",;\t|"
SNIFF_BYTES = 64 * 1024
DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


class CsvReadError(ValueError):
    """The file is not a table pandas can read; the message says what was found."""


def _separator(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
    except csv.Error:  # one column, or no consistent separator: the default reader decides
        return ","


def _uses_decimal_comma(frame: pd.DataFrame) -> bool:
    """Some text column holds only numbers written with a decimal comma."""
    for col in frame.columns:
        values = frame[col].dropna()
        text = pd.api.types.is_string_dtype(values.dtype) or pd.api.types.is_object_dtype(values.dtype)
        if text and len(values) and values.astype(str).str.match(DECIMAL_COMMA).all():
            return True
    return False


def _read(path: Path, **kwargs) -> pd.DataFrame:
    try:  # utf-8-sig also strips a byte-order mark from the first column's name
        return pd.read_csv(path, encoding="utf-8-sig", **kwargs)
    except UnicodeDecodeError as err:
        log.warning("%s is not UTF-8 (byte %d); reading it as Latin-1", path.name, err.start)
        return pd.read_csv(path, encoding="latin-1", **kwargs)


def read_csv_table(path: Path) -> pd.DataFrame:
    with open(path, encoding="utf-8", errors="replace") as fh:  # enough to see the separator
        sample = fh.read(SNIFF_BYTES)
    if not sample.strip():
        raise CsvReadError(f"{path} is empty")
    sep = _separator(sample)
    try:
        frame = _read(path, sep=sep)
        if sep == ";" and _uses_decimal_comma(frame):
            frame = _read(path, sep=sep, decimal=",")
            log.info("%s: semicolon-separated with decimal commas", path.name)
    except pd.errors.ParserError as err:
        raise CsvReadError(f"{path} is not a consistent {sep!r}-separated table: {err}") from None
    if sep != ",":
        log.info("%s: columns separated by %r", path.name, sep)
    return frame
