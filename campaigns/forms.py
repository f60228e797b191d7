from django import forms

from agents.centers.models import Disposition

from .models import MAX_SORT_COLUMNS, Campaign, ContactList


class DispositionForm(forms.Form):
    disposition = forms.ModelChoiceField(queryset=Disposition.objects.none(), empty_label=None)
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


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file")


class ContactListForm(forms.ModelForm):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 or Windows-1252; comma, semicolon or tab; at least one phone column.",
    )

    class Meta:
        model = ContactList
        fields = ["name"]


DIRECTIONS = [("asc", "ascending"), ("desc", "descending")]


class CampaignForm(forms.ModelForm):
    """The admin's campaign form: the agent column and the sorting are chosen among the
    list's columns (grouped by list until one is picked)."""

    agent_column = forms.ChoiceField(label="Agent-owned column")

    class Meta:
        model = Campaign
        fields = ["name", "queue", "contact_list", "agent_column"]

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
        data = self.cleaned_data
        return [
            [data[f"sort_{i}"], data.get(f"direction_{i}") or "asc"]
            for i in range(1, MAX_SORT_COLUMNS + 1)
            if data.get(f"sort_{i}")
        ]
