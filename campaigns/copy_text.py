"""The fast path of a list import: a file's rows as PostgreSQL ``COPY`` text (its text
format), in blocks, with the same answers as the reference reader (``csv_reader.check_row``
over the csv module's rows). Nothing here touches the database."""

import csv
import io
from collections.abc import Iterator

from django.core.exceptions import ValidationError

from agents.phone import normalise_phone

from .csv_reader import Row, Rows, blank_line, check_count, check_row, unreadable
from .models import MAX_CELL_CHARS

CHUNK = 1 << 20
# The csv module refuses a cell above its (process-wide) limit; we keep its default of
# 131,072 characters: anything near it is an unclosed quote, and the file is refused.
FIELD_LIMIT = csv.field_size_limit()


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


def _refuseunreadable(text: str, delimiter: str, line: int) -> None:
    """Refuse a line the csv module cannot read (a cell past its limit) as it refuses it."""
    try:
        next(csv.reader([text], delimiter=delimiter))
    except csv.Error as error:
        raise unreadable(line, error) from None


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
        if blank_line(cells):
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
                        _refuseunreadable(text, d, line)
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
                        raise unreadable(line + 1, error) from None
                    size += reference(line + 1, cells, out, rejected)
                    line = base + reader.line_num
                    # Quoted cells across lines can carry this loop from run to run: the
                    # block is sent at its size all the same.
                    if size >= chunk_chars or len(rejected) >= REJECTED_PER_BLOCK:
                        check_count(count)
                        yield "".join(out), len(out), rejected
                        out, rejected, size = [], [], 0
            check_count(count)
            if progress is not None:
                progress(rows.binary.tell())
            yield "".join(out), len(out), rejected
    finally:
        rows.binary.close()
