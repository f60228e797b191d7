"""CSV exports (the Order Details export, a list import's rejected rows): cells a spreadsheet
shows as text and never runs as a formula, written one row at a time for a streamed answer."""

import csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_writer():
    """A ``csv.writer`` whose ``writerow`` returns the row's text (for a streamed answer).
    Every cell is quoted: a cell holding another locale's list separator ("a;=B1", where
    Excel splits on semicolons) must not become two, the second a formula."""
    return csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
