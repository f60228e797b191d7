"""Leads: list (per agent, by status; cursor), assign, unassign and resolve with a sales
disposition, through the one lead path (``leads.services.leads_change``'s wrappers: the
Partial-order gate, Leads Agents only, the timeline row, the lead email), with the messages
of the Users page's *Assigned Leads* and the admin's lead form."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from agents.centers.models import Disposition
from agents.models import Agent
from agents.permissions import parse_pk
from contacts.models import Contact
from leads.models import Lead
from leads.services import lead_assign, lead_resolve, lead_unassign, leads_agent_check

from ..base import ApiGenericView, ApiListView
from ..pagination import NewestFirstPagination
from ..problems import validation_problem
from .campaigns import PersonRefSerializer


class CustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField(help_text="E.164.")


class DispositionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    center = serializers.CharField(source="center.name", help_text="Its call center.")


class LeadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = CustomerRefSerializer(source="contact")
    agent = PersonRefSerializer(help_text="The Leads Agent.")
    status = serializers.ChoiceField(choices=Lead.Status.choices)
    assigned_at = serializers.DateTimeField()
    assigned_by = PersonRefSerializer(
        allow_null=True, help_text="Null: assigned by Switchboard or an API key."
    )
    disposition = DispositionRefSerializer(allow_null=True, help_text="Set by a resolve.")
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolved_by = PersonRefSerializer(allow_null=True)
    won_order = serializers.IntegerField(source="won_order_id", allow_null=True)


class LeadAssignSerializer(serializers.Serializer):
    customer = serializers.IntegerField(
        help_text="A contact of the company whose most recent order is Partial."
    )
    agent = serializers.IntegerField(help_text="An active Leads Agent of the company.")


class LeadResolveSerializer(serializers.Serializer):
    disposition = serializers.IntegerField(
        help_text="A sales disposition of one of the company's call centers."
    )


def company_leads(company):
    return Lead.objects.filter(company=company).select_related(
        "company", "contact", "agent", "assigned_by", "resolved_by", "disposition__center"
    )


def lead_of(company, pk: int) -> Lead:
    """The lead of the URL, of the key's company (another company's: 404)."""
    return get_object_or_404(company_leads(company), pk=pk)


def not_found(field: str, what: str, value) -> dict[str, list[str]]:
    # The same sentence for an id no row has and one of another company: nothing revealed.
    return {field: [f"No {what} of this company has the id {value}."]}


class LeadCollection(ApiListView):
    """The company's leads, newest first (cursor-paginated), optionally of one agent and in
    one status; assign a customer to a Leads Agent."""

    serializer_class = LeadSerializer
    pagination_class = NewestFirstPagination

    @extend_schema(
        operation_id="leads_list",
        parameters=[
            OpenApiParameter("agent", int, description="A Leads Agent's id."),
            OpenApiParameter(
                "status", str, enum=[c for c, _ in Lead.Status.choices], description="E.g. open."
            ),
        ],
    )
    def get(self, request, *args, **kwargs):
        errors: dict[str, list[str]] = {}
        agent = request.query_params.get("agent")
        if agent is not None and parse_pk(agent) is None:
            errors["agent"] = ["Give an agent's id (a whole number)."]
        elif (
            agent is not None
            and not Agent.objects.filter(companies=self.company, pk=parse_pk(agent)).exists()
        ):
            errors |= not_found("agent", "agent", agent)
        status = request.query_params.get("status")
        if status is not None and status not in Lead.Status.values:
            errors["status"] = [f"The status is one of: {', '.join(Lead.Status.values)}."]
        if errors:
            return validation_problem(errors)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        queryset = company_leads(self.company)
        params = self.request.query_params
        if params.get("agent"):
            queryset = queryset.filter(agent_id=params["agent"])
        if params.get("status"):
            queryset = queryset.filter(status=params["status"])
        return queryset

    @extend_schema(
        operation_id="leads_assign",
        request=LeadAssignSerializer,
        responses={201: LeadSerializer},
    )
    def post(self, request):
        """Assign a customer to a Leads Agent (the admin's *Add lead*): only a customer whose
        most recent order is Partial, without an open lead, not resolved since that order;
        only an active Leads Agent. A refusal is a 400 with the page's sentence."""
        form = LeadAssignSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        customer_id, agent_id = form.validated_data["customer"], form.validated_data["agent"]
        errors: dict[str, list[str]] = {}
        customer = Contact.objects.filter(company=self.company, pk=customer_id).first()
        if customer is None:
            errors |= not_found("customer", "customer", customer_id)
        agent = Agent.objects.filter(companies=self.company, pk=agent_id).first()
        if agent is None:
            errors |= not_found("agent", "user", agent_id)
        if errors:
            return validation_problem(errors)
        # The agent's gate first, keyed by its field (the service checks it again, locked).
        leads_agent_check(company=self.company, agent=agent)
        lead = lead_assign(company=self.company, contact=customer, agent=agent, actor=None)
        lead = company_leads(self.company).get(pk=lead.pk)
        return Response(
            LeadSerializer(lead).data, status=201, headers={"Location": f"/api/v1/leads/{lead.pk}/"}
        )


class LeadDetail(ApiGenericView):
    """One lead."""

    serializer_class = LeadSerializer

    @extend_schema(operation_id="leads_read")
    def get(self, request, pk: int):
        return Response(self.get_serializer(lead_of(self.company, pk)).data)


class LeadUnassign(ApiGenericView):
    """Unassign an open lead (the *Assigned Leads* tab's *Unassign*): the customer is no
    longer the agent's lead, and their timeline says so."""

    serializer_class = LeadSerializer

    @extend_schema(operation_id="leads_unassign", request=None, responses={200: LeadSerializer})
    def post(self, request, pk: int):
        lead = lead_of(self.company, pk)
        lead_unassign(lead=lead, actor=None)
        return Response(self.get_serializer(lead_of(self.company, pk)).data)


class LeadResolve(ApiGenericView):
    """Resolve an open lead without a sale, with one of the sales dispositions of the
    company's call centers (as the Leads Agent Report's *Resolve*)."""

    serializer_class = LeadSerializer

    @extend_schema(
        operation_id="leads_resolve", request=LeadResolveSerializer, responses={200: LeadSerializer}
    )
    def post(self, request, pk: int):
        lead = lead_of(self.company, pk)
        form = LeadResolveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        wanted = form.validated_data["disposition"]
        disposition = (
            Disposition.objects.filter(center__company=self.company, pk=wanted)
            .select_related("center")
            .first()
        )
        if disposition is None:
            return validation_problem(not_found("disposition", "disposition", wanted))
        lead_resolve(lead=lead, disposition=disposition, actor=None)
        return Response(self.get_serializer(lead_of(self.company, pk)).data)


urlpatterns = [
    path("leads/", LeadCollection.as_view(), name="api-leads"),
    path("leads/<int:pk>/", LeadDetail.as_view(), name="api-lead"),
    path("leads/<int:pk>/unassign/", LeadUnassign.as_view(), name="api-lead-unassign"),
    path("leads/<int:pk>/resolve/", LeadResolve.as_view(), name="api-lead-resolve"),
]
