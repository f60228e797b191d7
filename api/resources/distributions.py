"""Reassignment groups and routing rules, read-only: what the reassignment and the dry run
name by id (they are edited in the admin, by people with the routing rule permission)."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from routing.selectors import groups_with_members, rules_with_members

from ..base import ApiGenericView, ApiListView
from .contact_serializers import AgentRefSerializer


class _DistributionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    method = serializers.CharField(help_text="round_robin, first_to_claim, next_up, least_loaded")
    default_assignee = AgentRefSerializer(allow_null=True)
    claim_window_minutes = serializers.IntegerField()
    skip_unavailable = serializers.BooleanField()
    members = serializers.SerializerMethodField()

    def get_members(self, distribution) -> list[dict]:
        return AgentRefSerializer([m.agent for m in distribution.members.all()], many=True).data


class GroupSerializer(_DistributionSerializer):
    pass


class RuleSerializer(_DistributionSerializer):
    position = serializers.IntegerField(help_text="Lower runs first; the first match wins.")
    paused = serializers.BooleanField()
    sources = serializers.CharField(help_text="Comma-separated sources; empty: any.")
    channels = serializers.CharField(help_text="Comma-separated channels; empty: any.")
    tag = serializers.CharField(help_text="The new contact must have this tag; empty: any.")


class GroupList(ApiListView):
    """The company's reassignment groups (cursor-paginated): method, default assignee and
    members. Start a round through one with `POST /contacts/{id}/reassignments/`."""

    serializer_class = GroupSerializer

    def get_queryset(self):
        return groups_with_members(company=self.company)

    @extend_schema(operation_id="groups_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class GroupDetail(ApiGenericView):
    """One reassignment group."""

    serializer_class = GroupSerializer

    @extend_schema(operation_id="groups_read")
    def get(self, request, pk: int):
        return Response(
            self.get_serializer(
                get_object_or_404(groups_with_members(company=self.company), pk=pk)
            ).data
        )


class RuleList(ApiListView):
    """The company's routing rules for new contacts (cursor-paginated, by id; `position`
    says the order in which they are tried)."""

    serializer_class = RuleSerializer

    def get_queryset(self):
        return rules_with_members(company=self.company)

    @extend_schema(operation_id="rules_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class RuleDetail(ApiGenericView):
    """One routing rule."""

    serializer_class = RuleSerializer

    @extend_schema(operation_id="rules_read")
    def get(self, request, pk: int):
        return Response(
            self.get_serializer(
                get_object_or_404(rules_with_members(company=self.company), pk=pk)
            ).data
        )


urlpatterns = [
    path("groups/", GroupList.as_view(), name="api-groups"),
    path("groups/<int:pk>/", GroupDetail.as_view(), name="api-group"),
    path("rules/", RuleList.as_view(), name="api-rules"),
    path("rules/<int:pk>/", RuleDetail.as_view(), name="api-rule"),
]
