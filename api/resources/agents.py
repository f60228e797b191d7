"""Agents: list and read with access level, presence, working state and load (the workload
page's numbers); set presence (scope ``routing``) through the presence service."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.response import Response

from agents.availability.rules import (
    AVAILABLE,
    AWAY,
    FULL,
    OFF_HOURS,
    OFFLINE,
    OUT_OF_OFFICE,
    availability_of,
)
from agents.models import AccessLevel, Agent, Company, Presence
from agents.selectors import company_agents
from agents.services import agent_set_presence
from campaigns.selectors import pending_records_by_agent
from contacts.selectors import load_annotations
from leads.selectors import open_leads_by_agent

from ..base import ApiGenericView, ApiListView
from ..models import Scope
from ..problems import problem


def problem_answer(status: int, description: str) -> dict:
    """An ``extend_schema`` responses entry for a problem answer the shared hook
    (``api.schema``) does not add, e.g. a 409."""
    return {
        (status, "application/problem+json"): OpenApiResponse(
            response={"$ref": "#/components/schemas/Problem"}, description=description
        )
    }


@extend_schema_field({"type": "string", "enum": list(Presence.values)})
class WorkingStateField(serializers.CharField):
    """What presence means now: available, away or offline (offline also when not seen
    lately or deactivated)."""

    # Inline in the schema: the enum is Presence's, already named by `presence`.


class LoadSerializer(serializers.Serializer):
    primary_contacts = serializers.IntegerField(help_text="Contacts they are primary agent of.")
    open_interactions = serializers.IntegerField(
        help_text="Open texts, forms, calls and chats routed to them."
    )
    open_leads = serializers.IntegerField()
    pending_campaign_records = serializers.IntegerField(
        help_text="Records still to work in their queues of running or paused campaigns."
    )


AVAILABILITY_STATUSES = (AVAILABLE, OUT_OF_OFFICE, OFF_HOURS, AWAY, OFFLINE, FULL)


class AvailabilitySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(s, s) for s in AVAILABILITY_STATUSES],
        help_text="Whether routing gives them work now, by the rules of docs/availability.md "
        "in their order: out of office, off hours, presence (away, offline), full (at capacity).",
    )
    reason = serializers.CharField(
        help_text="The why log's words, e.g. “out of office until 2026-12-04 17:00”."
    )
    until = serializers.DateTimeField(
        allow_null=True, help_text="When it ends (the absence's end, the next working hour)."
    )


class AgentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(source="get_full_name")
    access_level = serializers.ChoiceField(choices=AccessLevel.choices)
    is_active = serializers.BooleanField()
    presence = serializers.ChoiceField(
        choices=Presence.choices, help_text="The presence the agent (or a key) chose."
    )
    working_state = WorkingStateField(
        source="presence_now",
        help_text="What the presence means now, as routing reads it: offline when the agent "
        "is deactivated, or not seen for PRESENCE_OFFLINE_AFTER_MINUTES (15 by default).",
    )
    presence_changed_at = serializers.DateTimeField(allow_null=True)
    last_seen_at = serializers.DateTimeField(allow_null=True)
    availability = serializers.SerializerMethodField()
    load = serializers.SerializerMethodField()

    @extend_schema_field(AvailabilitySerializer)
    def get_availability(self, agent: Agent) -> dict:
        # Decided for the whole page at once (``availability_context``).
        state = self.context["availability"][agent.pk]
        return {"status": state.status, "reason": state.why, "until": state.until}

    @extend_schema_field(LoadSerializer)
    def get_load(self, agent: Agent) -> dict:
        leads = self.context.get("open_leads", {})
        pending = self.context.get("pending_campaign", {})
        return {
            "primary_contacts": agent.primary_count,
            "open_interactions": agent.open_count,
            "open_leads": leads.get(agent.pk, 0),
            "pending_campaign_records": pending.get(agent.pk, 0),
        }


def agents_with_load(company: Company) -> QuerySet[Agent]:
    """Every agent of the company (deactivated ones too) with the workload page's numbers
    annotated (``contacts.selectors.load_annotations``)."""
    return company_agents(company=company, active_only=False).annotate(
        **load_annotations(company=company)
    )


def load_context(company: Company) -> dict:
    """Open leads and pending campaign records per agent: one query each, whatever the
    number of agents (the workload page reads the same)."""
    return {
        "open_leads": open_leads_by_agent(company),
        "pending_campaign": pending_records_by_agent(company),
    }


def one_agent_context(company: Company, agent: Agent) -> dict:
    return {
        **load_context(company),
        "availability": availability_of(company=company, agents=[agent]),
    }


class AgentList(ApiListView):
    """The company's agents, oldest first (cursor-paginated), with presence, working state
    and load (the workload page's numbers)."""

    # Four queries per page whatever its size: the key and its company, the page (load
    # annotated), open leads, pending campaign records.

    serializer_class = AgentSerializer

    @extend_schema(
        operation_id="agents_list",
        parameters=[
            OpenApiParameter("access_level", str, enum=AccessLevel.values),
            OpenApiParameter("is_active", bool),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        agents = agents_with_load(self.company)
        params = self.request.query_params
        level = params.get("access_level")
        if level:
            if level not in AccessLevel.values:
                raise serializers.ValidationError(
                    {"access_level": [f"Use one of: {', '.join(AccessLevel.values)}."]}
                )
            agents = agents.filter(access_level=level)
        active = params.get("is_active")
        if active:
            if active.lower() not in ("true", "false", "1", "0"):
                raise serializers.ValidationError({"is_active": ["Use true or false."]})
            agents = agents.filter(is_active=active.lower() in ("true", "1"))
        return agents

    def paginate_queryset(self, queryset):
        # The page's agents are known here: their availability is read once for them all.
        page = super().paginate_queryset(queryset)
        self.availability = availability_of(company=self.company, agents=page)
        return page

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            **load_context(self.company),
            "availability": getattr(self, "availability", {}),
        }


def agent_of(company: Company, pk: int) -> Agent:
    return get_object_or_404(agents_with_load(company), pk=pk)


class AgentDetail(ApiGenericView):
    """One agent of the company, with presence, working state and load."""

    serializer_class = AgentSerializer

    @extend_schema(operation_id="agents_read", responses=AgentSerializer)
    def get(self, request, pk: int):
        agent = agent_of(self.company, pk)
        return Response(AgentSerializer(agent, context=one_agent_context(self.company, agent)).data)


class PresenceSerializer(serializers.Serializer):
    presence = serializers.ChoiceField(choices=Presence.choices)


class AgentPresence(ApiGenericView):
    """Set an agent's presence, as the agent does in the Lead Center: it also counts as seen
    now, so *available* makes them available to routing (owner-first
    texts, groups, rules, claims, ring lists) until they are not seen for
    PRESENCE_OFFLINE_AFTER_MINUTES, like a presence set on the page. A deactivated agent's
    presence cannot change (409): they are offline to routing whatever it says."""

    serializer_class = PresenceSerializer
    scopes = {"PUT": Scope.ROUTING}

    @extend_schema(
        operation_id="agents_presence_set",
        request=PresenceSerializer,
        responses={
            200: AgentSerializer,
            **problem_answer(409, "The agent is deactivated: their presence cannot change."),
        },
    )
    def put(self, request, pk: int):
        agent = agent_of(self.company, pk)
        body = PresenceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not agent.is_active:
            return problem(
                409,
                f"{agent} is deactivated: routing treats them as offline whatever their "
                "presence. Reactivate them in the admin first.",
                kind="agent-inactive",
            )
        agent_set_presence(agent=agent, presence=body.validated_data["presence"])
        agent = agent_of(self.company, pk)
        return Response(AgentSerializer(agent, context=one_agent_context(self.company, agent)).data)


urlpatterns = [
    path("agents/", AgentList.as_view(), name="api-agents"),
    path("agents/<int:pk>/", AgentDetail.as_view(), name="api-agent"),
    path("agents/<int:pk>/presence/", AgentPresence.as_view(), name="api-agent-presence"),
]
