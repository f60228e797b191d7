"""What the contacts' endpoints share (``contacts.py``, ``contact_owner.py``): the answers'
serializers, the write serializers' fields, a contact as answered, who may own contacts."""

from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.response import Response

from agents.models import Agent
from agents.selectors import eligible_primary_agents
from contacts.models import Contact, Interaction, TimelineEntry

NO_OWNER_MESSAGE = (
    "No agent #{id} can own this company's contacts: only its active agents, supervisors and "
    "admins can."
)


# --- Fields shared by the write serializers ----------------------------------------------------
class Text(serializers.CharField):
    """A text field that may be empty and is checked by the service (lengths, spelling).
    DRF refuses NUL and lone surrogates (which no database stores) itself."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)


class Id(serializers.IntegerField):
    """An object's id: a positive 64-bit integer (anything else is a 400, not a query)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=2**63 - 1, **kwargs)
        self.error_messages = {
            **self.error_messages,
            "invalid": "An id is a whole number (e.g. 42), not a name or an email.",
            "min_value": "An id is a whole number from 1 up.",
            "max_value": "No object has an id this large.",
        }


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know (nothing sent is silently dropped)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {"non_field_errors": [f"Unknown fields: {', '.join(map(str, unknown))}."]}
                )
        return super().to_internal_value(data)


def eligible_owner(company, agent_id: int) -> Agent:
    """The company's agent ``agent_id`` if they may own its contacts. One message for an id
    that does not exist, another company's agent and one who can't own contacts, so no key
    learns of other companies' agents."""
    agent = eligible_primary_agents(company=company).filter(pk=agent_id).first()
    if agent is None:
        raise serializers.ValidationError(NO_OWNER_MESSAGE.format(id=agent_id))
    return agent


# --- Answers -----------------------------------------------------------------------------------
class AgentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(source="get_full_name")


class ContactSerializer(serializers.ModelSerializer):
    # A plain string: a contact may have no email (""), which no "email" format allows.
    email = serializers.CharField(read_only=True, help_text="Empty when it has none.")
    primary_agent = AgentRefSerializer(allow_null=True, read_only=True)
    reassign_in_progress = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "name",
            "phone",
            "email",
            "source",
            "tags",
            "primary_agent",
            "ownership_version",
            "reassign_in_progress",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_reassign_in_progress(self, contact: Contact) -> bool:
        return contact.reassign_hold is not None


class TimelineEntrySerializer(serializers.ModelSerializer):
    actor = AgentRefSerializer(
        allow_null=True, read_only=True, help_text="The person who made the change, if any."
    )
    agent = AgentRefSerializer(
        allow_null=True, read_only=True, help_text="The agent the change is about, if any."
    )
    details = serializers.DictField(read_only=True)

    class Meta:
        model = TimelineEntry
        fields = ["id", "kind", "message", "actor", "agent", "details", "created_at"]
        read_only_fields = fields


class InteractionSerializer(serializers.ModelSerializer):
    routed_to = AgentRefSerializer(allow_null=True, read_only=True)
    taken_by = AgentRefSerializer(allow_null=True, read_only=True)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "channel",
            "body",
            "source",
            "contact_center",
            "status",
            "routed_to",
            "pool",
            "route_reason",
            "taken_by",
            "taken_at",
            "handled_at",
            "created_at",
        ]
        read_only_fields = fields


def company_contacts(company):
    return Contact.objects.filter(company=company).select_related("primary_agent")


def contact_answer(company, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
    """The contact as it is now (read again after a change)."""
    contact = get_object_or_404(company_contacts(company), pk=pk)
    return Response(ContactSerializer(contact).data, status=status_code)
