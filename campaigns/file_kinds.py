"""Files that are plainly not CSV, told by their first bytes, with a sentence that names
what they are. ``csv_reader.check_start`` reads such a file as Windows-1252 text and
refuses it for what it finds there ("The name of column 1 contains a NUL character."),
true but no help to someone who uploaded a workbook."""

from .csv_reader import Refused

SAVE_AS_CSV = "save it as CSV UTF-8 (File › Save as › CSV UTF-8) and upload that file."

# (first bytes, what a person would call the file)
SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx), an OpenDocument sheet or another zip file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls)"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
)
HEAD = max(len(signature) for signature, _ in SIGNATURES)


def refuse_not_csv(head: bytes) -> None:
    """Raise ``Refused`` when ``head`` (the file's first bytes) starts as a known binary
    format; anything else is left to ``check_start``."""
    for signature, what in SIGNATURES:
        if head.startswith(signature):
            raise Refused(f"This file is {what}, not CSV: {SAVE_AS_CSV}")
