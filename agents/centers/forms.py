from django import forms

from .models import UPGRADE_TARGETS, ContactCenter, Device, License

# The stored digit string ("01234") is shown and edited as one checkbox per weekday.
WEEKDAYS = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]


class CenterSettingsForm(forms.ModelForm):
    open_days = forms.MultipleChoiceField(
        label="Open days",
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The days the center takes calls (when it is not always open).",
    )

    class Meta:
        model = ContactCenter
        fields = [
            "name",
            "routing_type",
            "preferred_agent_routing",
            "always_open",
            "open_days",
            "opens_at",
            "closes_at",
            "after_hours",
            "after_hours_number",
        ]
        widgets = {
            "opens_at": forms.TimeInput(attrs={"type": "time"}),
            "closes_at": forms.TimeInput(attrs={"type": "time"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "open_days" not in self.initial or isinstance(self.initial["open_days"], str):
            self.initial["open_days"] = list(self.instance.open_days or "")

    def clean_open_days(self) -> str:
        # Back to the stored form: the days' digits, Monday (0) first.
        return "".join(sorted(set(self.cleaned_data["open_days"])))

    def clean(self):
        data = super().clean()
        if not data.get("always_open") and not data.get("open_days"):
            self.add_error(
                "open_days", "Pick at least one open day, or make the center always open."
            )
        return data


class AlertsForm(forms.ModelForm):
    class Meta:
        model = ContactCenter
        fields = ["alert_min_available", "alert_max_wait_minutes"]


class UpgradeForm(forms.Form):
    to_license = forms.ChoiceField(
        label="Upgrade to",
        choices=[(v, License(v).label) for v in UPGRADE_TARGETS],
        widget=forms.RadioSelect,
    )
    numbers = forms.ChoiceField(
        label="Their existing numbers",
        choices=[("keep", "Keep them"), ("remove", "Remove them")],
        widget=forms.RadioSelect,
    )


class DeviceForm(forms.Form):
    kind = forms.ChoiceField(choices=Device.Kind.choices)
    label = forms.CharField(required=False, max_length=100)
    number = forms.CharField(required=False, max_length=40, label="Number (forwarding only)")
    ring = forms.BooleanField(required=False, initial=True, label="Ring this device")
