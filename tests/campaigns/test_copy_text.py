"""The COPY-text fast path (``campaigns.copy_text``) against the reference reader
(``campaigns.csv_reader``): the same rows, phones, cells and rejections, whatever the file."""

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns import copy_text, csv_reader
from tests.campaigns.helpers import cells, phone

# --- The COPY stream says the same as the reference reader, row by row -------------------
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t"}


def _copy_lines(text, delimiter):
    """(line, phone, cells) of the text as COPY's text format reads it: a newline ends a
    row, an unescaped delimiter ends a field, a backslash escapes the next character."""
    out = []
    assert text == "" or text.endswith("\n")
    for copy_line in text.split("\n")[:-1]:
        fields, field, chars = [], "", iter(copy_line)
        for char in chars:
            if char == "\\":
                following = next(chars)
                field += _UNESCAPE.get(following, following)
            elif char == delimiter:
                fields.append(field)
                field = ""
            else:
                field += char
        list_id, import_id, line, first, *cells = [*fields, field]
        assert (list_id, import_id) == ("1", "2")
        out.append((int(line), first, cells))
    return out


_phones = st.sampled_from([phone(7), "(212) 555-0142", "", " ", "nope", "+44 20 7946 0958"])
_any = st.one_of(
    cells, st.sampled_from(["", " ", "x\\y", "é", "\x00", "a,b", "tab\tx", "cr\rx", "\\."])
)


@given(
    rows=st.lists(
        st.one_of(
            st.tuples(_phones, _any, st.one_of(_phones, _any)).map(list),
            st.lists(st.one_of(_phones, _any), min_size=1, max_size=4),
        ),
        max_size=12,
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
    chunk_chars=st.sampled_from([1, 7, 40, 1 << 20]),
    reorder=st.booleans(),
    last=st.sampled_from(["Mobile", "Note"]),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
)
@settings(max_examples=300, deadline=None)
def test_the_copy_stream_gives_the_reference_answer_for_every_row(
    tmp_path_factory, rows, delimiter, chunk_chars, reorder, last, ending
):
    # given a file with one or two phone columns among three (lines cut anywhere in runs)
    path = tmp_path_factory.mktemp("csv") / "list.csv"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=ending).writerows(
        [["Phone", "Name", last], *rows]
    )
    path.write_bytes(buffer.getvalue().encode())
    order = [2, 0, 1] if reorder else None
    # when it is read row by row (the reference) and as COPY text in blocks
    _, reference = csv_reader.read(path, region="US")
    expected_loaded, expected_rejected = [], []
    for row in reference:
        if row.cells is None:
            expected_rejected.append((row.line, row.reason, row.raw))
        else:
            cells = row.cells if order is None else [row.cells[i] for i in order]
            expected_loaded.append((row.line, row.phone, cells))
    _, stream = csv_reader.read(path, region="US")
    loaded, rejected, count = [], [], 0
    for text, valid, bad in copy_text.copy_blocks(
        stream, list_id=1, import_id=2, order=order, chunk_chars=chunk_chars
    ):
        loaded += _copy_lines(text, delimiter)
        count += valid
        rejected += [(row.line, row.reason, row.raw) for row in bad]
    # then both give the same rows, lines, phones, cells and rejections
    assert loaded == expected_loaded and count == len(loaded)
    assert rejected == expected_rejected


def test_a_cell_past_the_csv_limit_refuses_the_file_on_every_path(tmp_path):
    # given a file whose third row has a cell longer than the csv module reads (no quotes)
    path = tmp_path / "list.csv"
    path.write_text(f"Phone,Note\n{phone(1)},a\n{phone(2)},{'x' * 140_000}\n{phone(3)},c\n")
    # when it is read row by row (the reference) and as COPY text
    _, reference = csv_reader.read(path, region="US")
    with pytest.raises(csv_reader.Refused) as by_rows:
        list(reference)
    _, stream = csv_reader.read(path, region="US")
    with pytest.raises(csv_reader.Refused) as by_copy:
        list(copy_text.copy_blocks(stream, list_id=1, import_id=2))
    # then both refuse the file, naming the same line
    assert by_copy.value.message == by_rows.value.message
    assert by_rows.value.message.startswith("Line 3 cannot be read as CSV")


@pytest.mark.parametrize(
    "body",
    [
        "".join(f"{phone(i)},plain {i}\r" for i in range(300)),  # lone CRs (old Mac files)
        "".join(f'{phone(i)},"two\nlines {i}"\n' for i in range(300)),  # quoted newlines
    ],
)
def test_the_copy_stream_comes_in_blocks_of_about_its_size_whatever_the_lines(tmp_path, body):
    # given 300 rows whose runs never end at a plain newline
    path = tmp_path / "list.csv"
    path.write_text("Phone,Note\n" + body, newline="")
    # when read as COPY text in blocks of about 1,000 characters
    _, stream = csv_reader.read(path, region="US")
    blocks = list(copy_text.copy_blocks(stream, list_id=1, import_id=2, chunk_chars=1000))
    # then no block is much larger than that, and every row is there
    assert sum(valid for _, valid, _ in blocks) == 300
    assert max(len(text) for text, _, _ in blocks) < 2000
