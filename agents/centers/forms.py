from django import forms

from .models import UPGRADE_TARGETS, ContactCenter, Device, License


class CenterSettingsForm(forms.ModelForm):
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

    def clean_open_days(self):
        days = self.cleaned_data["open_days"].strip()
        if any(d not in "0123456" for d in days):
            raise forms.ValidationError("Use the digits 0 (Monday) to 6 (Sunday), e.g. 01234.")
        return "".join(sorted(set(days)))


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
