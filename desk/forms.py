"""The Lead Center's forms: a contact with its primary agent (saved through routing's rules),
and the agent's presence."""

from django import forms
from django.core.exceptions import ValidationError

from agents.models import Agent, Company, Presence
from agents.selectors import eligible_primary_agents
from contacts.models import Contact
from contacts.services import contact_clean
from routing.rules import contact_save_routed


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Agent) -> str:
        return f"{obj.full_name} ({obj.email})" if obj.full_name else obj.email


class ContactForm(forms.Form):
    """Add or edit a contact in the Lead Center, with its primary agent."""

    # No max_length here: contact_clean says what is too long, the same for every path.
    name = forms.CharField(required=False)
    phone = forms.CharField(required=False, help_text="Any spelling; +country code for abroad.")
    email = forms.CharField(required=False)
    source = forms.CharField(required=False)
    primary_agent = AgentChoiceField(
        queryset=Agent.objects.none(), required=False, empty_label="— No primary agent —"
    )

    def __init__(self, *args, company: Company, contact: Contact | None = None, **kwargs):
        if contact is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": contact.name,
                    "phone": contact.display_phone,
                    "email": contact.email,
                    "source": contact.source,
                    "primary_agent": contact.primary_agent_id,
                },
            )
        super().__init__(*args, **kwargs)
        self.company = company
        self.contact = contact
        self.fields["primary_agent"].queryset = eligible_primary_agents(company=company)

    def clean(self):
        data = super().clean()
        try:
            data.update(
                contact_clean(
                    company=self.company,
                    name=data.get("name", ""),
                    phone=data.get("phone", ""),
                    email=data.get("email", "") or "",
                    source=data.get("source", ""),
                    exclude_pk=self.contact.pk if self.contact else None,
                )
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                if field not in self.errors:
                    self.add_error(field if field in self.fields else None, messages)
        return data

    def save(self, *, actor: Agent) -> Contact:
        return contact_save_routed(
            company=self.company,
            contact=self.contact,
            actor=actor,
            values={k: self.cleaned_data[k] for k in ("name", "phone", "email", "source")},
            primary_agent=self.cleaned_data.get("primary_agent"),
            primary_agent_changed="primary_agent" in self.changed_data,
            reason="set in the Lead Center",
        )


class PresenceForm(forms.Form):
    presence = forms.ChoiceField(choices=Presence.choices)
