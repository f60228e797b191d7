"""Uploaded list files: stored in chunks under the upload folder (refused past the size
limit), removed once their import is finished (the rows are in the database then).

The folder and the limit are read from the settings when used, so that a test (or a
deployment) can point them elsewhere after this module is imported."""

import os
import tempfile
from pathlib import Path

from django.conf import settings

from .csv_reader import Refused
from .models import ListImport


def upload_dir() -> Path:
    """Where uploads wait for their import: ``VAR_DIR/uploads/contact_lists``."""
    return Path(settings.VAR_DIR) / "uploads" / "contact_lists"


def store_upload(chunks, *, name: str) -> tuple[Path, int]:
    """Write an uploaded file to disk in chunks; refuse it past the size limit."""
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    limit = settings.CONTACT_LIST_MAX_UPLOAD_BYTES
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below
        dir=folder, prefix="list-", suffix=".csv", delete=False
    )
    size = 0
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise Refused(too_big_message(size, limit))
            handle.write(chunk)
    except BaseException:
        handle.close()
        os.unlink(handle.name)
        raise
    handle.close()
    return Path(handle.name), size


def too_big_message(size: int, limit: int) -> str:
    return (
        f"The file is larger than the limit of {limit / 1_048_576:.0f} MB "
        f"({'over ' if size > limit else ''}{size / 1_048_576:.1f} MB): split it and append "
        "the rest."
    )


def remove_stored(path: Path) -> None:
    """Delete a stored upload (a file outside the upload folder is never touched)."""
    if path.is_relative_to(upload_dir()) and path.exists():
        path.unlink()


def remove_upload(list_import: ListImport) -> None:
    """Drop the stored file once the import is finished (the rows are in the database)."""
    remove_stored(Path(list_import.file_path))
