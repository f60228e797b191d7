"""Reading a contact-list CSV as a stream, the reference for every path: encoding and
delimiter detected, the header and every row checked against the list limits (``read``,
``Rows``, ``check_row``). The COPY-text fast path (``copy_text``) gives the same answers.
Nothing here touches the database.

- Encoding: UTF-8 (with or without BOM) if the whole file decodes as UTF-8, else
  Windows-1252; a file that is neither (or UTF-16) is refused. ``read`` reads as one
  encoding and raises ``UnicodeDecodeError`` where the file is not in it: the import then
  asks ``odd_byte`` where, and reads it again as Windows-1252 (``ENCODINGS``) only if the
  file has no UTF-8 beyond ASCII anywhere; a file that is UTF-8 but for a byte is refused
  with that byte's line (read as Windows-1252, its "José" would become "JosÃ©").
- ``check_start``: what the load would refuse from the first megabyte (the header, a file
  with a header and no rows), checked when the file is uploaded, before anything is made.
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


HEAD_BYTES = 1 << 20  # what ``check_start`` reads of a file
UTF16 = "The file is UTF-16: save it as UTF-8 (CSV UTF-8 in Excel) and upload again."
NO_ROWS = "The file has a header and no rows: there is nothing to load."


def refuse_utf16(path: Path) -> None:
    with open(path, "rb") as handle:
        if handle.read(4).startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise Refused(UTF16)


# A character beyond ASCII decoded from valid UTF-8 (the BOM included), and a byte that
# was not UTF-8 (``surrogateescape`` turns byte 0xNN into U+DCNN).
_UTF8_BEYOND_ASCII = re.compile("[\u0080-\udc7f\udd00-\U0010ffff]")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


@dataclass
class OddByte:
    """The first byte of a file that is not UTF-8: its line, its value, and whether the
    file has UTF-8 beyond ASCII anywhere (then it is UTF-8 with a stray byte, not
    Windows-1252)."""

    line: int
    value: int
    utf8_elsewhere: bool

    @property
    def refusal(self) -> str:
        return (
            f"Line {self.line} has a byte that is not UTF-8 (0x{self.value:02X}) in a file "
            "that is otherwise UTF-8: correct that line, or save the file as UTF-8 (CSV UTF-8 "
            "in Excel), and upload it again."
        )

    @property
    def warning(self) -> str:
        return (
            f"Read as Windows-1252: the file is not UTF-8 (line {self.line} has the byte "
            f"0x{self.value:02X}). If accents look wrong, save it as CSV UTF-8 and upload it "
            "again."
        )


def odd_byte(path: Path, *, chunk: int = 1 << 20) -> OddByte | None:
    """Where a file stops being UTF-8 (None: it is UTF-8). Read only after a UTF-8 read
    failed, so a UTF-8 file is still read once; it stops as soon as both are known."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    found: OddByte | None = None
    line = 1
    utf8 = False
    with open(path, "rb") as handle:
        while True:
            data = handle.read(chunk)
            text = decoder.decode(data, final=not data)
            if found is None and (bad := _NOT_UTF8.search(text)):
                head = text[: bad.start()]
                found = OddByte(line + head.count("\n"), ord(bad.group()) - 0xDC00, utf8)
            elif found is None:
                line += text.count("\n")
            if not utf8 and _UTF8_BEYOND_ASCII.search(text):
                utf8 = True
            if not data or (found is not None and utf8):
                break
    if found is not None:
        found.utf8_elsewhere = utf8
    return found


def check_start(head: bytes, *, whole: bool) -> None:
    """Refuse, from its first bytes (``head``; ``whole``: the whole file), a file the load
    would refuse for its start: UTF-16, neither encoding, the header's checks, a header and
    no rows. The same checks as the load's (``check_header``), made before anything is
    stored or created; what is past ``head`` is left to the load."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Refused(UTF16)
    for encoding in ENCODINGS:
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(head, final=whole)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Refused(NOT_TEXT)
    delimiter = detect_delimiter(io.StringIO(text, newline="").readline(64 * 1024))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, [])
    except csv.Error as error:
        raise Refused(f"The first line cannot be read as CSV: {error}.") from None
    check_header(header)
    try:
        for cells in reader:
            if not blank_line(cells):
                return
    except csv.Error:
        return  # a quote that goes on past the head: the load says where it breaks
    if whole:
        raise Refused(NO_ROWS)


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
    """The rows after the header, read once: iterate for ``Row``s, or
    ``copy_text.copy_blocks``."""

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


def blank_line(cells: list[str]) -> bool:
    """A blank line (skipped, not a row)."""
    return not cells or (len(cells) == 1 and not cells[0].strip())


def unreadable(line: int, error: csv.Error) -> Refused:
    return Refused(
        f"Line {line} cannot be read as CSV ({error}); often a quote that is never closed."
    )


def check_count(count: int) -> None:
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
                raise unreadable(previous_end + 1, error) from None
            line = previous_end + 1
            previous_end = reader.line_num
            if blank_line(cells):
                continue
            count += 1
            check_count(count)
            if progress is not None and count % 4096 == 0:
                progress(binary.tell())
            yield line, cells
    finally:
        binary.close()


def check_row(line: int, cells: list[str], layout: Layout, region: str) -> Row:
    """One row, valid (phones in E.164, ``cells`` changed in place) or rejected with why.

    The reference for every path: ``copy_text.copy_blocks`` takes a shortcut only where it gives the
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
