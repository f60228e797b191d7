"""Contact centers: list and read (routing type, hours, call types, members with their role,
working state and skill ranks); the ring list for a call type, computed as the inbound
webhook computes it for a call to the center (``agents.centers.selectors.center_ring_facts``
and ``routing.engine.ring_list``), changing nothing."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from agents.centers.models import CenterMembership, ContactCenter
from agents.centers.selectors import (
    center_is_open,
    center_members,
    center_rank_grid,
    center_ring_facts,
)
from agents.models import Company
from routing import engine

from ..base import ApiGenericView, ApiListView
from ..problems import problem
from .agents import WorkingStateField, problem_answer
from .contact_serializers import AgentRefSerializer


class CenterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    routing_type = serializers.ChoiceField(choices=ContactCenter.RoutingType.choices)
    preferred_agent_routing = serializers.BooleanField()
    is_active = serializers.BooleanField(help_text="A deactivated center takes no calls.")
    is_open = serializers.SerializerMethodField(help_text="Open now, by its hours.")
    always_open = serializers.BooleanField()
    open_days = serializers.CharField(help_text="Weekdays open, 0 = Monday … 6 = Sunday.")
    opens_at = serializers.TimeField(allow_null=True, help_text="In the company's time zone.")
    closes_at = serializers.TimeField(allow_null=True)
    after_hours = serializers.ChoiceField(choices=ContactCenter.AfterHours.choices)

    def get_is_open(self, center: ContactCenter) -> bool:
        return center_is_open(center)


class MemberSerializer(serializers.Serializer):
    agent = AgentRefSerializer()
    role = serializers.ChoiceField(choices=CenterMembership.Role.choices)
    position = serializers.IntegerField(help_text="Place in the fixed order.")
    working_state = WorkingStateField(source="presence_now", help_text="Effective presence now.")
    added_at = serializers.DateTimeField()
    ranks = serializers.SerializerMethodField(help_text="Call type → proficiency (1-100).")

    def get_ranks(self, membership: CenterMembership) -> dict[str, int]:
        return self.context["ranks"].get(membership.pk, {})


class CenterDetailSerializer(CenterSerializer):
    call_types = serializers.ListField(child=serializers.CharField(), source="call_type_names")
    members = MemberSerializer(many=True, source="member_rows")


def company_centers_all(company: Company) -> QuerySet[ContactCenter]:
    # Deactivated centers too (they keep members and history); ``company`` set without a
    # query, for the hours' time zone.
    return ContactCenter.objects.filter(company=company)


def center_of(company: Company, pk: int) -> ContactCenter:
    center = get_object_or_404(company_centers_all(company), pk=pk)
    center.company = company
    return center


class CenterList(ApiListView):
    """The company's contact centers, oldest first (cursor-paginated), deactivated ones
    included (`is_active`; `?is_active=true` for the active ones only)."""

    serializer_class = CenterSerializer

    @extend_schema(operation_id="centers_list", parameters=[OpenApiParameter("is_active", bool)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        centers = company_centers_all(self.company)
        active = self.request.query_params.get("is_active")
        if active:
            if active.lower() not in ("true", "false", "1", "0"):
                raise serializers.ValidationError({"is_active": ["Use true or false."]})
            centers = centers.filter(is_active=active.lower() in ("true", "1"))
        return centers

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        for center in page or ():
            center.company = self.company
        return page


class CenterDetail(ApiGenericView):
    """One contact center: routing type, hours, call types, and its members (people who
    still work for the company) with their role, place, working state and skill ranks."""

    serializer_class = CenterDetailSerializer

    @extend_schema(operation_id="centers_read", responses=CenterDetailSerializer)
    def get(self, request, pk: int):
        center = center_of(self.company, pk)
        types, grid = center_rank_grid(center=center)
        names = {t.pk: t.name for t in types}
        ranks = {
            membership: {names[t]: rank for t, rank in by_type.items() if t in names}
            for membership, by_type in grid.items()
        }
        center.call_type_names = [t.name for t in types]
        center.member_rows = list(center_members(center=center))
        data = CenterDetailSerializer(center, context={"ranks": ranks})
        return Response(data.data)


class DeviceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    label = serializers.CharField()


class RingAgentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()


class RingEntrySerializer(serializers.Serializer):
    agent = RingAgentSerializer()
    order = serializers.IntegerField(help_text="1, 2, 3… in turn; simultaneous: all 1.")
    rank = serializers.IntegerField(
        allow_null=True, help_text="Skills-based: the rank for the call type."
    )
    devices = DeviceSerializer(many=True, help_text="The devices that ring.")


class LeftOutSerializer(serializers.Serializer):
    agent = RingAgentSerializer()
    why = serializers.CharField()


class RingListSerializer(serializers.Serializer):
    center = serializers.IntegerField()
    routing_type = serializers.ChoiceField(choices=ContactCenter.RoutingType.choices)
    call_type = serializers.CharField(allow_blank=True)
    is_open = serializers.BooleanField()
    reason = serializers.CharField(help_text="What the webhook would store for a call now.")
    ring = RingEntrySerializer(many=True)
    left_out = LeftOutSerializer(many=True, help_text="Members who would not ring, and why.")


class CenterRingList(ApiGenericView):
    """The ring list a call to this center would get now: the agents in order, each with
    the devices to ring, and the members left out with why — computed exactly as the inbound
    webhook computes it for a call naming the center (and `call_type`), changing nothing (no
    interaction, queue item or round-robin move). A deactivated center takes no calls: 409,
    as the webhook refuses such a call."""

    serializer_class = RingListSerializer

    @extend_schema(
        operation_id="centers_ring_list",
        parameters=[
            OpenApiParameter(
                "call_type",
                str,
                description="The call type (skills-based centers rank members by it).",
            )
        ],
        responses={
            200: RingListSerializer,
            **problem_answer(409, "The center is deactivated: it takes no calls."),
        },
    )
    def get(self, request, pk: int):
        center = center_of(self.company, pk)
        if not center.is_active:
            return problem(
                409,
                f"The contact center “{center.name}” is deactivated: it takes no calls. "
                "Send the call to an active center.",
                kind="center-inactive",
            )
        call_type = request.query_params.get("call_type", "").strip()
        if "\x00" in call_type or len(call_type) > 100:
            raise serializers.ValidationError(
                {"call_type": ["A call type is a name of up to 100 characters."]}
            )
        facts = center_ring_facts(center=center, call_type=call_type)
        ringing = engine.ring_list(facts)
        decision = engine.route_to_center(channel="call", center=center.name, ring=ringing)
        members = {m.agent_id: m for m in facts.members}

        def agent(agent_id: int) -> dict:
            member = members[agent_id]
            return {"id": agent_id, "email": member.email, "name": member.name}

        data = {
            "center": center.pk,
            "routing_type": ringing.routing_type,
            "call_type": call_type,
            "is_open": facts.is_open,
            "reason": decision.reason,
            "ring": [
                {
                    "agent": agent(entry.agent_id),
                    "order": entry.order,
                    "rank": entry.rank,
                    "devices": [
                        {"id": d.id, "kind": d.kind, "label": d.label} for d in entry.devices
                    ],
                }
                for entry in ringing.ring
            ],
            "left_out": [
                {"agent": agent(agent_id), "why": why} for agent_id, why in ringing.excluded.items()
            ],
        }
        return Response(RingListSerializer(data).data)


urlpatterns = [
    path("centers/", CenterList.as_view(), name="api-centers"),
    path("centers/<int:pk>/", CenterDetail.as_view(), name="api-center"),
    path("centers/<int:pk>/ring-list/", CenterRingList.as_view(), name="api-center-ring-list"),
]
