"""``manage.py import_contact_list FILE --company NAME [--name LIST]``: the admin's import
from the command line, with a progress bar and the report; exits non-zero when refused.

Stopped (Ctrl-C, SIGTERM), it marks its import failed and drops the list and the file it
made, as for a refused file. Killed (SIGKILL), it cannot: its list stays with an import
*Loading* until the sweep fails it; a run again with the same ``--name`` replaces such a
list once its run is known to be gone (``recovery.list_import_discard``)."""

import signal
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from agents.models import Company
from campaigns.contact_lists import contact_list_create, contact_list_delete, list_import_start
from campaigns.csv_reader import Refused
from campaigns.importing import list_import_run
from campaigns.models import ContactList, ListImport
from campaigns.recovery import list_import_discard
from campaigns.uploads import remove_upload


class _Stopped(KeyboardInterrupt):
    """SIGTERM, raised where the command is (as Ctrl-C raises KeyboardInterrupt)."""


def _stop(signum, frame):
    raise _Stopped


class Command(BaseCommand):
    help = "Import a CSV file into a new contact list of a company and print the report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--company", required=True, help="The company's name.")
        parser.add_argument("--name", help="The list's name (default: the file's name).")

    def handle(self, *args, file: Path, company: str, name: str | None, **options) -> None:
        found = Company.objects.filter(name=company).first()
        if found is None:
            raise CommandError(f"No company is named “{company}”.")
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        name = (name or file.stem).strip()
        self._replace_stopped(found, name)
        try:
            # The list and its import together: a refused upload leaves neither.
            with transaction.atomic(), open(file, "rb") as handle:
                contact_list = contact_list_create(company=found, name=name)
                list_import = list_import_start(
                    contact_list=contact_list,
                    chunks=iter(lambda: handle.read(1 << 20), b""),
                    file_name=file.name,
                    enqueue=False,
                )
        except Refused as refusal:
            raise CommandError(refusal.message) from None
        except ValidationError as error:
            raise CommandError(
                f"{found} already has a list named “{name}”: pick another --name."
                if "name" in getattr(error, "error_dict", {})
                else " ".join(error.messages)
            ) from None
        bar = _Bar(self.stdout, list_import.file_size)
        previous = signal.signal(signal.SIGTERM, _stop)
        try:
            result = list_import_run(list_import_id=list_import.pk, on_progress=bar)
        except KeyboardInterrupt:
            self._stopped(list_import, contact_list)
            raise CommandError(
                f"Stopped at {bar.shown if bar.shown >= 0 else 0} %: nothing was loaded and the "
                f"list “{name}” was not kept."
            ) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
        bar.finish()
        remove_upload(result)
        if result.status != ListImport.Status.LOADED:
            contact_list_delete(contact_list=contact_list)
            raise CommandError(f"Refused: {result.message}")
        self.stdout.write(f"Loaded {result.rows_loaded} rows into “{contact_list}”.")
        self.stdout.write(f"Read as {result.encoding_label}.")
        if result.warning:
            self.stdout.write(f"Warning: {result.warning}")
        self.stdout.write(f"Rejected {result.rows_rejected} rows.")
        for reason, count in result.rejected_by_reason.items():
            self.stdout.write(f"  {count:>8}  {reason}")

    def _replace_stopped(self, company: Company, name: str) -> None:
        """A list of this name left by a run that stopped (nothing loaded, its run gone) is
        discarded; any other list of this name is refused."""
        existing = ContactList.objects.filter(company=company, name=name).first()
        if existing is None:
            return
        taken = f"{company} already has a list named “{name}”"
        if existing.columns:
            raise CommandError(f"{taken}: pick another --name.")
        imports = list(existing.imports.order_by("pk"))
        try:
            for list_import in imports[:-1]:
                list_import_discard(list_import=list_import)
            if imports:
                kept = list_import_discard(list_import=imports[-1])
            else:
                contact_list_delete(contact_list=existing)
                kept = None
        except ValidationError as error:
            raise CommandError(f"{taken}, still loading: {' '.join(error.messages)}") from None
        if kept is not None:
            raise CommandError(f"{taken}: pick another --name.")
        self.stdout.write(f"Replaced “{name}”, left empty by an import that stopped.")

    def _stopped(self, list_import: ListImport, contact_list: ContactList) -> None:
        """Mark the import failed, then drop its list and file (nothing was loaded: the
        load's transaction rolled back)."""
        if not connection.in_atomic_block:
            connection.close()  # the interrupted load's connection may be mid-COPY
        ListImport.objects.filter(pk=list_import.pk).update(
            status=ListImport.Status.FAILED,
            message="The command was stopped; nothing was loaded.",
            finished_at=timezone.now(),
        )
        remove_upload(list_import)
        contact_list_delete(contact_list=contact_list)


class _Bar:
    def __init__(self, out, total: int):
        self.out, self.total, self.shown = out, max(total, 1), -1
        self.tty = sys.stdout.isatty()

    def __call__(self, done: int) -> None:
        percent = min(100, int(100 * done / self.total))
        if percent == self.shown or (not self.tty and percent % 10):
            return
        self.shown = percent
        filled = percent // 4
        self.out.write(f"\r[{'#' * filled}{'.' * (25 - filled)}] {percent:3d}%", ending="")
        self.out.flush()

    def finish(self) -> None:
        self.out.write("")
