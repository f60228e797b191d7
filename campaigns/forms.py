from django import forms
from django.core.exceptions import ValidationError

from agents.centers.models import Disposition

from .contact_lists import contact_list_clean
from .csv_reader import HEAD_BYTES, Refused, check_start
from .models import MAX_SORT_COLUMNS, Campaign, ContactList
from .services import campaign_clean, campaign_create_clean


class DispositionForm(forms.Form):
    # No disposition is preselected: the agent picks one (the empty choice is refused).
    disposition = forms.ModelChoiceField(
        queryset=Disposition.objects.none(),
        empty_label="— Pick a disposition —",
        error_messages={"required": "Pick a disposition before saving."},
    )
    callback_at = forms.DateTimeField(
        label="Call back at (optional)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["disposition"].queryset = Disposition.objects.filter(
            center_id=campaign.queue_id, is_active=True
        )


class OwnerChangeForm(forms.Form):
    line = forms.IntegerField(min_value=1, label="Line of the record")
    new_value = forms.CharField(max_length=512, label="New owner (email or user ID)")


def _checked_file(form, upload):
    """The uploaded file, refused by the field when the upload was cut at the size limit
    (``upload_limit``) or when its start would be refused by the load (the same check as
    ``contact_lists.list_import_start``'s)."""
    refused = getattr(form.request, "upload_refused", "") if form.request else ""
    if refused:
        raise forms.ValidationError(refused)
    if upload is None:
        return upload
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    try:
        check_start(head, whole=len(head) >= upload.size)
    except Refused as refusal:
        raise forms.ValidationError(refusal.message) from None
    return upload


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file")

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)
        if getattr(request, "upload_refused", ""):
            self.fields["file"].required = False

    def clean_file(self):
        return _checked_file(self, self.cleaned_data.get("file"))


class ContactListForm(forms.ModelForm):
    """The admin's new list: a name (unique in the company: ``contact_lists.contact_list_clean``)
    and its first file. ``request`` and ``company`` are set by the admin."""

    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 or Windows-1252; comma, semicolon or tab; at least one phone column.",
    )
    request = None
    company = None

    class Meta:
        model = ContactList
        fields = ["name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if getattr(self.request, "upload_refused", ""):
            self.fields["file"].required = False

    def clean_name(self):
        name = self.cleaned_data.get("name", "")
        if self.company is None:
            return name
        try:
            return contact_list_clean(company=self.company, name=name)
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict["name"]) from None

    def clean_file(self):
        return _checked_file(self, self.cleaned_data.get("file"))


DIRECTIONS = [("asc", "ascending"), ("desc", "descending")]


class CampaignForm(forms.ModelForm):
    """The admin's campaign form: the agent column and the sorting are chosen among the
    list's columns (grouped by list until one is picked)."""

    agent_column = forms.ChoiceField(label="Agent-owned column")
    company = None  # set by the admin (the company is no field of the form)

    class Meta:
        model = Campaign
        fields = ["name", "queue", "contact_list", "agent_column", "cover_works_absent_owner"]

    def __init__(self, *args, lists=None, **kwargs):
        super().__init__(*args, **kwargs)
        lists = list(lists or [])
        chosen = self.initial.get("contact_list") or self.data.get("contact_list")
        picked = [c for c in lists if str(c.pk) == str(getattr(chosen, "pk", chosen))]
        shown = picked or lists
        grouped = [(c.name, [(col, col) for col in c.columns]) for c in shown if c.columns]
        columns = grouped[0][1] if len(grouped) == 1 else grouped
        if "agent_column" in self.fields:
            self.fields["agent_column"].choices = [("", "———")] + list(columns)
        for i in range(1, MAX_SORT_COLUMNS + 1):
            self.fields[f"sort_{i}"] = forms.ChoiceField(
                label=f"Sort {i}", required=False, choices=[("", "———")] + list(columns)
            )
            self.fields[f"direction_{i}"] = forms.ChoiceField(
                label=f"Direction {i}", required=False, choices=DIRECTIONS
            )
        if self.instance.pk:
            for i, (column, direction) in enumerate(self.instance.sort, start=1):
                self.initial[f"sort_{i}"] = column
                self.initial[f"direction_{i}"] = direction

    def sort_value(self) -> list[list[str]]:
        return [item for item in self._sort_items() if item[0]]

    def _sort_items(self) -> list[list[str]]:
        """The four sort fields as they are (empty ones included: the service keys its
        errors by position, ``sort_<n>``)."""
        data = self.cleaned_data
        return [
            [data.get(f"sort_{i}") or "", data.get(f"direction_{i}") or "asc"]
            for i in range(1, MAX_SORT_COLUMNS + 1)
        ]

    def clean(self):
        """The service's checks, each error by its field (``Sort 1`` for sorting by the agent
        column), so the page shows the form again with everything else kept."""
        data = super().clean()
        if self.company is None or "sort_1" not in self.fields or self.errors:
            return data
        try:
            if self.instance.pk:
                campaign_clean(
                    company=self.company,
                    queue=self.instance.queue,
                    contact_list=self.instance.contact_list,
                    agent_column=self.instance.agent_column,
                    sort=self._sort_items(),
                )
            else:
                campaign_create_clean(
                    company=self.company,
                    name=data.get("name", ""),
                    queue=data["queue"],
                    contact_list=data["contact_list"],
                    agent_column=data.get("agent_column", ""),
                    sort=self._sort_items(),
                )
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        return data
