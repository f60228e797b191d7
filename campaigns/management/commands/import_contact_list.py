"""``manage.py import_contact_list FILE --company NAME [--name LIST]``: the admin's import
from the command line, with a progress bar and the report; exits non-zero when refused."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from agents.models import Company
from campaigns.csv_reader import Refused
from campaigns.importing import list_import_run
from campaigns.models import ContactList, ListImport
from campaigns.services import contact_list_delete, list_import_start
from campaigns.uploads import remove_upload


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
        name = name or file.stem
        if ContactList.objects.filter(company=found, name=name).exists():
            raise CommandError(f"{found} already has a list named “{name}”: pick another --name.")
        try:
            # The list and its import together: a refused upload leaves neither.
            with transaction.atomic(), open(file, "rb") as handle:
                contact_list = ContactList.objects.create(company=found, name=name)
                list_import = list_import_start(
                    contact_list=contact_list,
                    chunks=iter(lambda: handle.read(1 << 20), b""),
                    file_name=file.name,
                    enqueue=False,
                )
        except Refused as refusal:
            raise CommandError(refusal.message) from None
        bar = _Bar(self.stdout, list_import.file_size)
        result = list_import_run(list_import_id=list_import.pk, on_progress=bar)
        bar.finish()
        remove_upload(result)
        if result.status != ListImport.Status.LOADED:
            contact_list_delete(contact_list=contact_list)
            raise CommandError(f"Refused: {result.message}")
        self.stdout.write(f"Loaded {result.rows_loaded} rows into “{contact_list}”.")
        self.stdout.write(f"Rejected {result.rows_rejected} rows.")
        for reason, count in result.rejected_by_reason.items():
            self.stdout.write(f"  {count:>8}  {reason}")


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
