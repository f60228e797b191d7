"""A contact's primary agent (scope `routing`): set or clear it, optionally only if it is still
the owner the caller last saw (a compare-and-set: 409 when it moved), one contact or up to
1,000 at once with a result per contact.

Every change goes through the one ownership path, ``contacts.ownership
.contacts_set_primary_agent``: the contacts' locks, the *Re-Assign in progress* hold, the
ownership version, the timeline rows (“by API key “name””), the counters, one email per
receiving agent."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from agents.selectors import eligible_primary_agents
from api.models import Scope
from contacts.models import Contact
from contacts.ownership import ANYONE, Outcome, Skip, contacts_set_primary_agent

from ..base import ApiGenericView
from ..problems import problem
from .contact_serializers import (
    NO_OWNER_MESSAGE,
    AgentRefSerializer,
    ContactSerializer,
    Id,
    StrictSerializer,
    Text,
    company_contacts,
    contact_answer,
    eligible_owner,
)

BULK_LIMIT = 1000
REASON_MAX = 200
OWNER_ROUTES = {"PUT": Scope.ROUTING, "POST": Scope.ROUTING, "DELETE": Scope.ROUTING}


class Reason(Text):
    def __init__(self, **kwargs):
        super().__init__(
            max_length=REASON_MAX,
            help_text="Optional: ends the change's timeline row (and its event's reason).",
            **kwargs,
        )


class PrimaryAgentSetSerializer(StrictSerializer):
    agent = Id(allow_null=True, help_text="The new primary agent's id, or null to clear it.")
    expected_agent = Id(
        required=False,
        allow_null=True,
        help_text="Change only if this is still the primary agent (null: only if it has "
        "none); otherwise 409 `owner-moved`. Left out: whoever owns it now.",
    )
    reason = Reason()

    def validate_agent(self, value):
        if value is None:
            return None
        return eligible_owner(self.context["company"], value)


class OwnerConflictSerializer(serializers.Serializer):
    """409: the change was not made."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    current_agent = AgentRefSerializer(
        allow_null=True,
        required=False,
        help_text="owner-moved: who owns the contact now (null: nobody).",
    )
    ownership_version = serializers.IntegerField(required=False)


CONFLICT = {(409, "application/problem+json"): OwnerConflictSerializer}


def _expected(values: dict):
    """The expected owner's id as the ownership path takes it (None: unowned; ``ANYONE``
    when not given)."""
    return values.get("expected_agent", ANYONE)


def _refusal(company, outcome: Outcome, pk: int):
    """The 409 (or 404) for a single contact the path left as it was."""
    why = outcome.skipped[pk]
    if why is Skip.MISSING:
        return problem(404, "No such object in this company.", kind="not-found")
    if why is Skip.HELD:
        return problem(
            409,
            f"Re-Assign in progress through {outcome.held_by[pk]}: the primary agent can't be "
            "changed until it finishes.",
            kind="reassign-in-progress",
        )
    contact = get_object_or_404(company_contacts(company), pk=pk)
    owner = contact.primary_agent
    return problem(
        409,
        "Someone changed this contact's primary agent in the meantime: it is now "
        f"{owner.get_full_name() if owner else 'nobody'}. Look again before changing it.",
        kind="owner-moved",
        current_agent=AgentRefSerializer(owner).data if owner else None,
        ownership_version=contact.ownership_version,
    )


def _set_one(view, pk: int, agent, expected, reason: str):
    contact = get_object_or_404(Contact.objects.filter(company=view.company), pk=pk)
    outcome = contacts_set_primary_agent(
        company=view.company,
        targets={contact.pk: agent},
        actor=None,
        reason=reason,
        expected_owner=expected,
    )
    if outcome.skipped.get(contact.pk, Skip.UNCHANGED) is not Skip.UNCHANGED:
        return _refusal(view.company, outcome, contact.pk)
    return contact_answer(view.company, contact.pk)


class ContactPrimaryAgent(ApiGenericView):
    """The contact's primary agent (scope `routing`).

    `PUT` sets it (`agent`: an id, or null to clear), through the one ownership path: the
    timeline row says “by API key “name””, the new agent gets the assignment email, the
    ownership version goes up. With `expected_agent` it is a compare-and-set: when the
    contact's owner is no longer that one, nothing changes and the answer is 409
    `owner-moved` naming the current owner. A contact being re-assigned through a group is
    409 `reassign-in-progress`. Setting the owner it already has changes nothing (200).

    `DELETE` clears it (optionally `?expected_agent=<id>`, the same compare-and-set)."""

    serializer_class = ContactSerializer
    scopes = OWNER_ROUTES

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "company": self.company}

    @extend_schema(
        operation_id="contacts_primary_agent_set",
        request=PrimaryAgentSetSerializer,
        responses={200: ContactSerializer, **CONFLICT},
    )
    def put(self, request, pk: int):
        data = PrimaryAgentSetSerializer(data=request.data, context={"company": self.company})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return _set_one(self, pk, values["agent"], _expected(values), values.get("reason", ""))

    @extend_schema(
        operation_id="contacts_primary_agent_clear",
        parameters=[
            OpenApiParameter(
                "expected_agent",
                int,
                description="Clear only if this agent is still the primary agent (else 409).",
            ),
            OpenApiParameter("reason", str, description="Optional: ends the timeline row."),
        ],
        responses={200: ContactSerializer, **CONFLICT},
    )
    def delete(self, request, pk: int):
        params = ClearParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        return _set_one(self, pk, None, _expected(values), values.get("reason", ""))


class ClearParamsSerializer(serializers.Serializer):
    expected_agent = Id(required=False)
    reason = Reason()


# --- Bulk ----------------------------------------------------------------------------------
class BulkItemSerializer(StrictSerializer):
    contact = Id(help_text="A contact id.")
    agent = Id(allow_null=True, help_text="The new primary agent's id, or null to clear it.")
    expected_agent = Id(
        required=False,
        allow_null=True,
        help_text="Change only if this is still its primary agent (null: only if none).",
    )


class BulkRequestSerializer(StrictSerializer):
    items = BulkItemSerializer(many=True, allow_empty=False)
    reason = Reason()

    def validate_items(self, items):
        if len(items) > BULK_LIMIT:
            raise serializers.ValidationError(
                f"At most {BULK_LIMIT:,} items in one request (this has {len(items):,}): send "
                "the rest in another request."
            )
        seen: set[int] = set()
        for item in items:
            if item["contact"] in seen:
                raise serializers.ValidationError(
                    f"Contact #{item['contact']} is listed twice: give each contact once."
                )
            seen.add(item["contact"])
        return items


class BulkResultSerializer(serializers.Serializer):
    contact = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=["changed", "unchanged", "owner_moved", "reassign_in_progress", "not_found"]
    )
    ownership_version = serializers.IntegerField(
        allow_null=True, help_text="The contact's ownership version now (null: not found)."
    )
    primary_agent = serializers.IntegerField(
        allow_null=True, help_text="The id of its primary agent now (null: none, or not found)."
    )


class BulkAnswerSerializer(serializers.Serializer):
    results = BulkResultSerializer(many=True, help_text="One per item, in the request's order.")


STATUS_OF = {
    Skip.UNCHANGED: "unchanged",
    Skip.OWNER_MOVED: "owner_moved",
    Skip.HELD: "reassign_in_progress",
    Skip.MISSING: "not_found",
}


class ContactPrimaryAgentBulk(ApiGenericView):
    """Set or clear the primary agent of up to 1,000 contacts in one request (scope
    `routing`), each with its own optional `expected_agent` (compare-and-set): one
    transaction through the one ownership path, one assignment email per receiving agent.
    Nothing is refused as a whole but a request that is not right (400: more than 1,000
    items, a contact listed twice, an agent who can't own the company's contacts); each
    contact gets its result, in the request's order: `changed`, `unchanged`, `owner_moved`,
    `reassign_in_progress` or `not_found` (also for another company's contact)."""

    serializer_class = BulkAnswerSerializer
    scopes = OWNER_ROUTES

    @extend_schema(
        operation_id="contacts_primary_agent_bulk",
        request=BulkRequestSerializer,
        responses={200: BulkAnswerSerializer},
    )
    def post(self, request):
        data = BulkRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = data.validated_data["items"]
        agents = self._agents(items)
        targets = {item["contact"]: agents.get(item["agent"]) for item in items}
        expected = {item["contact"]: _expected(item) for item in items}
        outcome = contacts_set_primary_agent(
            company=self.company,
            targets=targets,
            actor=None,
            reason=data.validated_data.get("reason", ""),
            expected_owner=expected,
        )
        now = dict(
            (pk, (version, owner))
            for pk, version, owner in Contact.objects.filter(
                company=self.company, pk__in=list(targets)
            ).values_list("pk", "ownership_version", "primary_agent_id")
        )
        results = []
        for item in items:
            pk = item["contact"]
            version, owner = now.get(pk, (None, None))
            why = outcome.skipped.get(pk)
            results.append(
                {
                    "contact": pk,
                    "status": "changed" if why is None else STATUS_OF[why],
                    "ownership_version": version,
                    "primary_agent": owner,
                }
            )
        return Response({"results": results})

    def _agents(self, items) -> dict:
        """The items' agents, each checked once (a 400 naming the first item of one who
        can't own the company's contacts)."""
        wanted = {item["agent"] for item in items} - {None}
        agents = {
            a.pk: a for a in eligible_primary_agents(company=self.company).filter(pk__in=wanted)
        }
        errors = {}
        for index, item in enumerate(items):
            agent_id = item["agent"]
            if agent_id is not None and agent_id not in agents and agent_id not in errors:
                errors[agent_id] = (index, NO_OWNER_MESSAGE.format(id=agent_id))
        if errors:
            raise serializers.ValidationError(
                {f"items[{index}].agent": [message] for index, message in errors.values()}
            )
        return agents


urlpatterns = [
    path(
        "contacts/<int:pk>/primary-agent/",
        ContactPrimaryAgent.as_view(),
        name="api-contact-primary-agent",
    ),
    path(
        "contacts/primary-agent/bulk/",
        ContactPrimaryAgentBulk.as_view(),
        name="api-contacts-primary-agent-bulk",
    ),
]
