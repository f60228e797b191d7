"""Reading a contact-list CSV as a stream: encoding and delimiter detected, the header and
every row checked against the list limits. Nothing here touches the database.

- Encoding: UTF-8 (with or without BOM) if the whole file decodes as UTF-8, else
  Windows-1252; a file that is neither (or UTF-16) is refused. ``read`` reads as one
  encoding and raises ``UnicodeDecodeError`` where the file is not in it: the import then
  reads it again in the next (``ENCODINGS``), in one pass for a UTF-8 file.
- Delimiter: the most frequent of comma, semicolon and tab in the header line.
- Phone columns: headers with "phone", "mobile", "cell" or "tel" as a word or word part
  ("Home phone", "mobile_2", "Tel."); at least one, at most ten.
"""

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError

from agents.phone import normalise_phone

from .models import MAX_CELL_CHARS, MAX_COLUMNS, MAX_HEADER_CHARS, MAX_PHONE_COLUMNS, MAX_ROWS

CHUNK = 1 << 20
# The csv module refuses a cell above its (process-wide) limit; we keep its default of
# 131,072 characters: anything near it is an unclosed quote, and the file is refused.
FIELD_LIMIT = csv.field_size_limit()
PHONE_HEADER = re.compile(r"phone|mobile|(?:^|[^a-z])(?:cell|tel)(?:$|[^a-z])", re.IGNORECASE)
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


class Refused(Exception):
    """The file as a whole is refused; ``message`` says why, for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Layout:
    encoding: str
    delimiter: str
    columns: list[str] = field(default_factory=list)
    phone_indexes: list[int] = field(default_factory=list)


# Tried in turn: a file is read as UTF-8 until a byte says it is not, then read again.
ENCODINGS = ("utf-8-sig", "cp1252")
NOT_TEXT = (
    "The file is neither UTF-8 nor Windows-1252 text (is it a spreadsheet or a zip?). "
    "Save it as CSV UTF-8 and upload again."
)


def refuse_utf16(path: Path) -> None:
    with open(path, "rb") as handle:
        if handle.read(4).startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise Refused(
                "The file is UTF-16: save it as UTF-8 (CSV UTF-8 in Excel) and upload again."
            )


def detect_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _first_line(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, newline="") as handle:
        return handle.readline(64 * 1024)


def check_header(cells: list[str]) -> tuple[list[str], list[int]]:
    columns = [c.strip() for c in cells]
    if not columns or columns == [""]:
        raise Refused("The file is empty: the first line must name the columns.")
    if len(columns) > MAX_COLUMNS:
        raise Refused(f"The file has {len(columns)} columns; a list has at most {MAX_COLUMNS}.")
    for number, name in enumerate(columns, start=1):
        if not name:
            raise Refused(f"Column {number} has no name in the first line.")
        if len(name) > MAX_HEADER_CHARS:
            raise Refused(
                f"The name of column {number} has {len(name)} characters; at most "
                f"{MAX_HEADER_CHARS}."
            )
        if "\x00" in name:
            raise Refused(f"The name of column {number} contains a NUL character.")
    lowered = [c.lower() for c in columns]
    for name in columns:
        if lowered.count(name.lower()) > 1:
            raise Refused(f"Two columns are named “{name}”: give each column its own name.")
    phones = [i for i, name in enumerate(columns) if PHONE_HEADER.search(name)]
    if not phones:
        raise Refused(
            "No phone column: name at least one column with “phone” in it (e.g. “Phone”, "
            "“Mobile phone”)."
        )
    if len(phones) > MAX_PHONE_COLUMNS:
        raise Refused(
            f"The file has {len(phones)} phone columns; a list has at most {MAX_PHONE_COLUMNS}."
        )
    return columns, phones


@dataclass
class Row:
    line: int
    phone: str = ""
    cells: list[str] | None = None
    reason: str = ""
    raw: str = ""


def read(
    path: Path,
    *,
    region: str,
    layout: Layout | None = None,
    encoding: str = ENCODINGS[0],
    progress: Callable[[int], None] | None = None,
) -> tuple[Layout, "Rows"]:
    """The file's layout, and its rows one at a time: each valid (E.164 phones, first phone
    apart) or rejected with its reason. Raises ``Refused`` for the file as a whole (on
    the header at once; later for too many rows or a broken quote), and
    ``UnicodeDecodeError`` where the file is not in ``encoding`` (the caller reads it again
    in the next of ``ENCODINGS``, or refuses it with ``NOT_TEXT``)."""
    refuse_utf16(path)
    encoding = layout.encoding if layout else encoding
    delimiter = detect_delimiter(_first_line(path, encoding).lstrip("\ufeff"))
    binary = open(path, "rb")  # noqa: SIM115 - closed by Rows
    text = io.TextIOWrapper(binary, encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        try:
            header = next(reader, [])
        except csv.Error as error:
            raise Refused(f"The first line cannot be read as CSV: {error}.") from None
        columns, phones = check_header(header)
    except (Refused, UnicodeDecodeError):
        binary.close()
        raise
    found = Layout(encoding=encoding, delimiter=delimiter, columns=columns, phone_indexes=phones)
    return found, Rows(binary, text, reader, found, region, progress)


@dataclass
class Rows:
    """The rows after the header, read once: iterate for ``Row``s, or ``copy_blocks``."""

    binary: io.BufferedReader
    text: io.TextIOWrapper
    reader: Any
    layout: Layout
    region: str
    progress: Callable[[int], None] | None

    def __iter__(self) -> Iterator[Row]:
        for line, cells in _records(self.binary, self.reader, self.progress):
            yield check_row(line, cells, self.layout, self.region)

    def close(self) -> None:
        self.binary.close()


def _blank(cells: list[str]) -> bool:
    """A blank line (skipped, not a row)."""
    return not cells or (len(cells) == 1 and not cells[0].strip())


def _unreadable(line: int, error: csv.Error) -> Refused:
    return Refused(
        f"Line {line} cannot be read as CSV ({error}); often a quote that is never closed."
    )


def _check_count(count: int) -> None:
    if count > MAX_ROWS:
        raise Refused(f"The file has more than {MAX_ROWS:,} rows; a list has at most {MAX_ROWS:,}.")


def _records(binary, reader, progress) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of every row that is not blank; ``Refused`` past the row limit or on a
    row the csv module cannot read."""
    previous_end = reader.line_num
    count = 0
    try:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                if progress is not None:
                    progress(binary.tell())
                return
            except csv.Error as error:
                raise _unreadable(previous_end + 1, error) from None
            line = previous_end + 1
            previous_end = reader.line_num
            if _blank(cells):
                continue
            count += 1
            _check_count(count)
            if progress is not None and count % 4096 == 0:
                progress(binary.tell())
            yield line, cells
    finally:
        binary.close()


def check_row(line: int, cells: list[str], layout: Layout, region: str) -> Row:
    """One row, valid (phones in E.164, ``cells`` changed in place) or rejected with why.

    The reference for every path: ``copy_blocks`` takes a shortcut only where it gives the
    same answer."""
    width = len(layout.columns)
    names = layout.columns
    delimiter = layout.delimiter
    if len(cells) != width:
        return Row(
            line,
            reason=f"{len(cells)} cells; the header has {width}",
            raw=delimiter.join(cells)[:1000],
        )
    if max(map(len, cells)) > MAX_CELL_CHARS:
        at = next(i for i, c in enumerate(cells) if len(c) > MAX_CELL_CHARS)
        return Row(
            line,
            reason=f"“{names[at]}” has {len(cells[at]):,} characters (at most {MAX_CELL_CHARS})",
            raw=delimiter.join(cells)[:1000],
        )
    joined = delimiter.join(cells)
    if "\x00" in joined:
        return Row(line, reason="Contains a NUL character", raw=joined.replace("\x00", ""))
    first = ""
    for i in layout.phone_indexes:
        value = cells[i]
        if not value or value.isspace():
            cells[i] = ""
            continue
        try:
            cells[i] = normalise_phone(value, region=region)
        except ValidationError as error:
            return Row(line, reason=f"“{names[i]}”: {error.messages[0]}", raw=joined[:1000])
        if not first:
            first = cells[i]
    if not first:
        return Row(line, reason="No phone number", raw=joined[:1000])
    return Row(line, phone=first, cells=cells)


def _phones(cells: list[str], phones: list[int], region: str) -> str:
    """The first phone of a row with all its phone cells in E.164 (changed in place), or
    "" with the cells untouched (an invalid phone, or none)."""
    found = []
    first = ""
    for i in phones:
        value = cells[i]
        if not value or value.isspace():
            found.append("")
            continue
        try:
            found.append(normalise_phone(value, region=region))
        except ValidationError:
            return ""
        if not first:
            first = found[-1]
    if first:
        for i, value in zip(phones, found, strict=True):
            cells[i] = value
    return first


def copy_format(delimiter: str) -> str:
    """The ``WITH (...)`` options of a COPY reading ``copy_blocks``' text: PostgreSQL's
    text format (a tenth faster to read than its CSV format: no quotes to look for)."""
    literal = {",": "','", ";": "';'", "\t": "E'\\t'"}[delimiter]
    return f"FORMAT text, DELIMITER {literal}"


def _copy_field(value: object, delimiter: str) -> str:
    """A value in COPY's text format: backslash, newline, carriage return and the
    delimiter escaped with a backslash."""
    text = str(value)
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\n" in text:
        text = text.replace("\n", "\\n")
    if "\r" in text:
        text = text.replace("\r", "\\r")
    if delimiter in text:
        text = text.replace(delimiter, "\\" + delimiter)
    return text


class _Blocks:
    """The text after the header in runs of whole lines (each ends with a newline but the
    file's last), about ``chunk_chars`` at a time; ``lines()`` gives the csv module the
    lines of one run and, when a quoted cell goes on, of the runs after it."""

    def __init__(self, text: io.TextIOWrapper, chunk_chars: int):
        self.text = text
        self.chunk_chars = chunk_chars
        self.rest = ""
        self.queued: list[str] = []

    def next_run(self) -> str:
        """The next whole lines (a line longer than a chunk is read to its end, as the csv
        module reads it), or the file's last line without its newline; "" at the end.
        A line ends with LF, CRLF or a lone CR (a CR that ends the chunk may be a CRLF's)."""
        parts = [self.rest]
        while True:
            chunk = self.text.read(self.chunk_chars)
            if not chunk:
                self.rest = ""
                return "".join(parts)
            end = max(chunk.rfind("\n"), chunk.rfind("\r", 0, len(chunk) - 1)) + 1
            if end:
                parts.append(chunk[:end])
                self.rest = chunk[end:]
                return "".join(parts)
            parts.append(chunk)

    def lines(self, run: str) -> Iterator[str]:
        """The lines of ``run`` (split as a file opened with ``newline=""`` splits them),
        then of the following runs for as long as they are asked for; ``queued`` holds the
        lines not given yet of the run being read."""
        self.queued = self._split(run)

        def given() -> Iterator[str]:
            while True:
                while self.queued:
                    yield self.queued.pop()
                more = self.next_run()
                if not more:
                    return
                self.queued = self._split(more)

        return given()

    @staticmethod
    def _split(run: str) -> list[str]:
        lines = io.StringIO(run, newline="").readlines()
        lines.reverse()
        return lines


def _plain_lines(run: str) -> list[str] | None:
    """The lines of a run that the csv module and COPY's text format both split on the
    delimiter alone, with nothing to escape: no quote, no backslash, no NUL (PostgreSQL
    refuses it), no carriage return but in a line's CRLF. None for any other run."""
    if '"' in run or "\\" in run or "\x00" in run:
        return None
    if "\r" not in run:
        lines = run.split("\n")
    else:
        lines = run.split("\r\n")
        # Every CR and every LF was in a CRLF (counting characters costs less than "\r\n").
        if not run.count("\r") == run.count("\n") == len(lines) - 1:
            return None
    if not lines[-1]:
        lines.pop()
    return lines


REJECTED_PER_BLOCK = 4096


def _refuse_unreadable(text: str, delimiter: str, line: int) -> None:
    """Refuse a line the csv module cannot read (a cell past its limit) as it refuses it."""
    try:
        next(csv.reader([text], delimiter=delimiter))
    except csv.Error as error:
        raise _unreadable(line, error) from None


def copy_blocks(
    rows: Rows,
    *,
    list_id: int,
    import_id: int,
    order: list[int] | None = None,
    chunk_chars: int = CHUNK,
) -> Iterator[tuple[str, int, list[Row]]]:
    """The valid rows as ``COPY … FROM STDIN WITH (copy_format(delimiter))`` text, a
    block of about ``chunk_chars`` at a time, with the block's count of valid rows and its
    rejected rows. Each line: the list's and the import's ids, the line number, the first
    phone, the cells (phones in E.164).
    ``order``: the list's columns in the file (append).

    The same answers as ``check_row`` over the csv module's rows, at a fraction of the cost:
    a run of lines without quotes (or anything else PostgreSQL reads differently) is split
    on the delimiter, and a usual row (the header's width, short cells, valid phones) goes
    to PostgreSQL as the file's own line with its phones rewritten. Every other row, and
    every row of a run with quotes, is read by the csv module and checked by ``check_row``."""
    layout, region, progress = rows.layout, rows.region, rows.progress
    d = layout.delimiter
    width = len(layout.columns)
    phones = layout.phone_indexes
    single = phones[0] if len(phones) == 1 else None
    source = _Blocks(rows.text, chunk_chars)
    quick = single is not None and order is None
    last = width - 1
    prefix = f"{int(list_id)}{d}{int(import_id)}{d}"
    line = rows.reader.line_num  # the header's last line
    count = 0

    def reference(at: int, cells: list[str], out: list[str], rejected: list[Row]) -> int:
        """A row through ``check_row``: written with COPY's escapes or rejected (a blank
        line is skipped). Returns the characters written."""
        nonlocal count
        if _blank(cells):
            return 0
        count += 1
        row = check_row(at, cells, layout, region)
        if row.cells is None:
            rejected.append(row)
            return 0
        cells = row.cells if order is None else [row.cells[i] for i in order]
        fields = [list_id, import_id, row.line, row.phone, *cells]
        out.append(d.join(_copy_field(value, d) for value in fields) + "\n")
        return len(out[-1])

    try:
        while run := source.next_run():
            out: list[str] = []
            rejected: list[Row] = []
            lines = _plain_lines(run)
            if lines is not None:
                for text in lines:
                    line += 1
                    # The usual row: the header's width, short cells, one phone column and
                    # the file's column order: only the cells up to the phone are split off.
                    if quick and len(text) <= MAX_CELL_CHARS and text.count(d) == last:
                        head = text.split(d, single + 1)
                        value = head[single]
                        if value and not value.isspace():
                            try:
                                first = normalise_phone(value, region=region)
                            except ValidationError:
                                first = ""
                            if first:
                                head[single] = first
                                count += 1
                                out.append(f"{prefix}{line}{d}{first}{d}{d.join(head)}\n")
                                continue
                    if len(text) > FIELD_LIMIT:  # the csv module refuses a cell this long
                        _refuse_unreadable(text, d, line)
                    # Any other plain row: all its cells split; written as it is when it
                    # passes, else through the reference check (which says why not).
                    cells = text.split(d)
                    first = ""
                    if len(cells) == width and (
                        len(text) <= MAX_CELL_CHARS or max(map(len, cells)) <= MAX_CELL_CHARS
                    ):
                        first = _phones(cells, phones, region)
                    if first:
                        count += 1
                        if order is not None:
                            cells = [cells[i] for i in order]
                        out.append(f"{prefix}{line}{d}{first}{d}{d.join(cells)}\n")
                    else:
                        reference(line, cells, out, rejected)
            else:
                reader = csv.reader(source.lines(run), delimiter=d)
                base = line
                size = 0
                while source.queued:
                    try:
                        cells = next(reader)
                    except StopIteration:
                        break
                    except csv.Error as error:
                        raise _unreadable(line + 1, error) from None
                    size += reference(line + 1, cells, out, rejected)
                    line = base + reader.line_num
                    # Quoted cells across lines can carry this loop from run to run: the
                    # block is sent at its size all the same.
                    if size >= chunk_chars or len(rejected) >= REJECTED_PER_BLOCK:
                        _check_count(count)
                        yield "".join(out), len(out), rejected
                        out, rejected, size = [], [], 0
            _check_count(count)
            if progress is not None:
                progress(rows.binary.tell())
            yield "".join(out), len(out), rejected
    finally:
        rows.binary.close()


def csv_safe(value: object) -> str:
    """A cell for a CSV export that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text and text[0] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text
