"""The out-of-office form of the agent's availability page: from – to as wall-clock times in
the company's zone (datetime-local inputs), a note, a cover agent of the company."""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from ..models import Agent, Company
from ..selectors import eligible_primary_agents
from ..zones import UTC, local, zone_of
from .models import NOTE_MAX

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time in a named zone (not the server's, not the browser's): the page says
    which. A time the clocks skip (spring forward) is refused with the reason; one they pass
    twice (fall back) is the first of the two."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, *, time_zone: str, **kwargs):
        kwargs.setdefault("input_formats", LOCAL_FORMATS)
        super().__init__(**kwargs)
        self.zone = zone_of(time_zone)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            naive = value.replace(tzinfo=None)
        else:
            naive = None
            for fmt in self.input_formats:
                try:
                    naive = datetime.strptime(str(value).strip(), fmt)
                    break
                except ValueError:
                    continue
            if naive is None:
                raise ValidationError(
                    "Enter a date and time, e.g. 2026-12-04 17:00.", code="invalid"
                )
        moment = naive.replace(tzinfo=self.zone)
        if moment.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) != naive:
            raise ValidationError(
                f"{naive:%H:%M} does not exist on {naive:%a %d %b} in {self.zone.key}: the "
                "clocks go forward then. Pick a time an hour later.",
                code="imaginary",
            )
        return moment


class CoverField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Agent) -> str:
        return obj.full_name or obj.email


class AbsenceForm(forms.Form):
    starts_at = forms.DateTimeField(label="From")  # replaced per company in __init__
    ends_at = forms.DateTimeField(label="To")
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        help_text="Optional, e.g. “Holiday in Lisbon”. Only your company sees it.",
    )
    cover = CoverField(
        queryset=Agent.objects.none(),
        required=False,
        empty_label="— Nobody: my texts and forms go to Active —",
        help_text="Receives your texts and forms in their Mine while you are away.",
        error_messages={
            "invalid_choice": "Choose a cover from the list: an active Lead Center agent of "
            "your company."
        },
    )

    def __init__(self, *args, company: Company, agent: Agent, **kwargs):
        super().__init__(*args, **kwargs)
        self.company, self.agent = company, agent
        zone = company.time_zone
        # "Out from now" needs no typing: From starts at this minute, on the company's clock
        # (a string in the input's own format, so Django does not shift it to the server's).
        self.fields["starts_at"] = LocalDateTimeField(
            label="From",
            time_zone=zone,
            initial=lambda: f"{local(timezone.now(), zone):%Y-%m-%dT%H:%M}",
        )
        self.fields["ends_at"] = LocalDateTimeField(label="To", time_zone=zone)
        # Everyone may be picked here (the service says why someone can't): choosing
        # yourself gets its own message instead of "not one of the choices".
        cover = self.fields["cover"]
        cover.queryset = eligible_primary_agents(company=company)
        others = cover.queryset.exclude(pk=agent.pk)
        cover.widget.choices = [("", cover.empty_label)] + [
            (a.pk, cover.label_from_instance(a)) for a in others
        ]
