"""Names (or numbers) unique within a company: the check a form cannot make, and the race.

The company is no field of the forms that create these rows, so Django's own uniqueness
check never runs: services check it (``refuse_taken``), then save in a savepoint whose unique
constraint, hit by a parallel save a moment later, is the same message (``taken_as``)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction


def refuse_taken(
    rows: models.QuerySet, *, field: str, value, message: str, instance=None, code: str = "taken"
) -> None:
    """A ``ValidationError`` on ``field`` when another of ``rows`` has ``value`` there."""
    taken = rows.filter(**{field: value})
    if instance is not None and instance.pk is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise ValidationError({field: message}, code=code)


@contextmanager
def taken_as(*, field: str, message: str, code: str = "taken") -> Iterator[None]:
    """A savepoint (the caller's transaction goes on) whose unique constraint failing is the
    ``ValidationError`` on ``field``: the value was taken a moment ago, by someone else."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise ValidationError({field: message}, code=code) from None
