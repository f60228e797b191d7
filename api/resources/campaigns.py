"""Preview campaigns, through the services and selectors of the admin and the dashboard: a
campaign created from a contact list (``services.campaign_create``: the admin form's checks,
by field), started, paused, resumed and recycled; its progress per agent
(``selectors.dashboard``) and its error list (``selectors.error_entries``, cursor-paginated
in the file's order)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from agents.centers.models import ContactCenter
from campaigns import selectors, services
from campaigns.models import AgentKey, Campaign, Entry
from campaigns.recycling import campaign_recycle_skipping_handled

from ..base import ApiGenericView, ApiListView
from ..pagination import IdCursorPagination
from ..problems import field_errors, validation_problem
from .contact_lists import PersonRefSerializer, company_lists


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SortItemSerializer(serializers.Serializer):
    column = serializers.CharField(allow_blank=True, max_length=128)
    direction = serializers.ChoiceField(choices=["asc", "desc"], default="asc")


class CampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    dialing_mode = serializers.ChoiceField(choices=Campaign.DialingMode.choices)
    agent_owned = serializers.BooleanField()
    queue = RefSerializer(help_text="The contact center whose members work the records.")
    contact_list = RefSerializer()
    agent_column = serializers.CharField(help_text="The list's column naming each record's agent.")
    sort = serializers.SerializerMethodField()
    recycle_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    recycled_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(SortItemSerializer(many=True))
    def get_sort(self, campaign: Campaign) -> list:
        return [{"column": column, "direction": direction} for column, direction in campaign.sort]


class CampaignCreateSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, required=False, default="", max_length=120)
    queue = serializers.IntegerField(
        help_text="A contact center of the company with preferred agent routing on."
    )
    contact_list = serializers.IntegerField(help_text="A loaded contact list of the company.")
    agent_column = serializers.CharField(
        max_length=128, help_text="The list's column holding each record's "
        "agent (email or user ID)."
    )  # fmt: skip
    sort = SortItemSerializer(
        many=True, required=False, max_length=50, help_text="At most 4 columns, never the agent "
        "column; compared as text, byte by byte."
    )  # fmt: skip


def company_campaigns(company):
    return selectors.campaigns_for_company(company)


def service_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    """The service's errors by field, its ``sort_<n>`` keys as the API's ``sort[<n-1>]``."""
    errors = field_errors(error.message_dict if hasattr(error, "error_dict") else error.messages)
    renamed = {}
    for name, messages in errors.items():
        if name.startswith("sort_") and name[5:].isdigit():
            name = f"sort[{int(name[5:]) - 1}]"
        renamed[name] = messages
    return renamed


class CampaignCollection(ApiListView):
    """The company's campaigns, oldest first (cursor-paginated); create one from a list."""

    serializer_class = CampaignSerializer

    def get_queryset(self):
        return company_campaigns(self.company)

    @extend_schema(operation_id="campaigns_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="campaigns_create",
        request=CampaignCreateSerializer,
        responses={201: CampaignSerializer},
    )
    def post(self, request):
        """Create a preview campaign (agent-owned, in draft) from a contact list, with the
        admin's checks and messages by field: the queue uses preferred agent routing, the
        agent column is a column of the list and not a sort column, at most 4 sort columns,
        at most 200 distinct agents named by the column, a name free in the company."""
        form = CampaignCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        errors: dict[str, list[str]] = {}
        queue = ContactCenter.objects.filter(company=self.company, pk=data["queue"]).first()
        if queue is None:
            errors["queue"] = ["Pick a contact center of this company."]
        contact_list = company_lists(self.company).filter(pk=data["contact_list"]).first()
        if contact_list is None:
            errors["contact_list"] = ["Pick a contact list of this company."]
        if errors:
            return validation_problem(errors)
        sort = [[item["column"], item["direction"]] for item in data.get("sort", [])]
        try:
            campaign = services.campaign_create(
                company=self.company,
                name=data["name"],
                queue=queue,
                contact_list=contact_list,
                agent_column=data["agent_column"],
                sort=sort,
                actor=None,
            )
        except DjangoValidationError as error:
            return validation_problem(service_errors(error))
        campaign = company_campaigns(self.company).get(pk=campaign.pk)
        return Response(
            CampaignSerializer(campaign).data,
            status=201,
            headers={"Location": f"/api/v1/campaigns/{campaign.pk}/"},
        )


def campaign_of(company, pk: int) -> Campaign:
    """The campaign of the URL, of the key's company (another company's: 404)."""
    return get_object_or_404(company_campaigns(company), pk=pk)


class CampaignView(ApiGenericView):
    def campaign(self, pk: int) -> Campaign:
        return campaign_of(self.company, pk)


class CampaignDetail(CampaignView):
    """One campaign."""

    serializer_class = CampaignSerializer

    @extend_schema(operation_id="campaigns_read")
    def get(self, request, pk: int):
        return Response(self.get_serializer(self.campaign(pk)).data)


def _done(view: CampaignView, pk: int, **extra) -> Response:
    campaign = view.campaign(pk)
    return Response({"campaign": CampaignSerializer(campaign).data, **extra})


def _result(name: str, **fields) -> serializers.Serializer:
    return inline_serializer(name, {"campaign": CampaignSerializer(), **fields})


class CampaignStart(CampaignView):
    """Start a draft campaign: every agent's queue is built from the list (the admin's
    *Start*). Records whose agent value names no agent of the queue go to the error list."""

    serializer_class = None

    @extend_schema(
        operation_id="campaigns_start",
        request=None,
        responses={
            200: _result(
                "CampaignStarted",
                queued=serializers.IntegerField(help_text="Records queued to the agents."),
            )  # fmt: skip
        },
    )
    def post(self, request, pk: int):
        queued = services.campaign_start(campaign=self.campaign(pk), actor=None)
        return _done(self, pk, queued=queued)


class CampaignPause(CampaignView):
    """Pause a running campaign: no records are handed out until it is resumed."""

    serializer_class = None

    @extend_schema(
        operation_id="campaigns_pause", request=None, responses={200: _result("CampaignPaused")}
    )
    def post(self, request, pk: int):
        services.campaign_pause(campaign=self.campaign(pk), actor=None)
        return _done(self, pk)


class CampaignResume(CampaignView):
    """Resume a paused campaign: the agents get their next records again."""

    serializer_class = None

    @extend_schema(
        operation_id="campaigns_resume", request=None, responses={200: _result("CampaignResumed")}
    )
    def post(self, request, pk: int):
        services.campaign_resume(campaign=self.campaign(pk), actor=None)
        return _done(self, pk)


class RecycleSerializer(serializers.Serializer):
    skip_handled = serializers.BooleanField(
        default=False,
        help_text="Keep the records handled before closed instead of queueing them again "
        "(without it they come back marked “handled before the recycle”, for the agent to "
        "call again or skip).",
    )


class CampaignRecycle(CampaignView):
    """Recycle a running or paused campaign (the dashboard's *Recycle*; this request is the
    confirmation): the unfinished lists start again from the beginning, agents who joined
    the queue since get their records, and the pending owner changes are applied. Finished
    lists stay finished."""

    serializer_class = None

    @extend_schema(
        operation_id="campaigns_recycle",
        request=RecycleSerializer,
        responses={
            200: _result(
                "CampaignRecycled",
                owner_changes_applied=serializers.IntegerField(),
                kept_handled=serializers.IntegerField(
                    help_text="Records handled before and kept closed (skip_handled)."
                ),
            )
        },
    )
    def post(self, request, pk: int):
        form = RecycleSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        campaign = self.campaign(pk)
        if form.validated_data["skip_handled"]:
            applied, kept = campaign_recycle_skipping_handled(campaign=campaign, actor=None)
        else:
            applied, kept = services.campaign_recycle(campaign=campaign, actor=None), 0
        return _done(self, pk, owner_changes_applied=applied, kept_handled=kept)


COUNT_FIELDS = {
    "total": "Records delivered (not the errors).",
    "done": "handled + skipped.",
    "remaining": "total − done: queued, being previewed or called.",
    "handled": "Closed with a disposition and no callback pending.",
    "skipped": "Skipped in this cycle.",
    "callbacks": "Dispositioned with a callback pending (remaining, not done).",
    "callbacks_due": "Callbacks whose time has come.",
    "handled_before": "Remaining records that were handled before the last recycle.",
    "percent": "done / total, rounded.",
}


def _counts(name: str, fields: dict, **kwargs) -> serializers.Serializer:
    counts = {key: serializers.IntegerField(help_text=text) for key, text in COUNT_FIELDS.items()}
    return inline_serializer(name, {**counts, **fields}, **kwargs)


def _agent_progress() -> serializers.Serializer:
    return _counts(
        "CampaignAgentProgress",
        {
            "agent": PersonRefSerializer(),
            "errors": serializers.IntegerField(help_text="Records for this agent not delivered."),
            "in_queue": serializers.BooleanField(
                help_text="Still a member of the campaign's queue."
            ),
        },
        many=True,
    )


def _totals() -> serializers.Serializer:
    return _counts(
        "CampaignProgressTotals",
        {
            "errors": serializers.IntegerField(
                help_text="Records not delivered, and callbacks whose agent left the queue."
            ),
            "pending_changes": serializers.IntegerField(
                help_text="Owner changes waiting for a recycle."
            ),
        },
    )


class CampaignProgress(CampaignView):
    """The campaign's progress per agent and in total, counted as the dashboard counts it
    (done = handled + skipped; a record with a callback pending is remaining; after a
    recycle, the current cycle's counts)."""

    serializer_class = None

    @extend_schema(
        operation_id="campaigns_progress",
        responses={
            200: inline_serializer(
                "CampaignProgress",
                {
                    "campaign": CampaignSerializer(),
                    "agents": _agent_progress(),
                    "totals": _totals(),
                },
            )
        },
    )
    def get(self, request, pk: int):
        campaign = self.campaign(pk)
        board = selectors.dashboard(campaign)
        agents = [
            {
                "agent": PersonRefSerializer(row.agent).data,
                **{key: getattr(row, key) for key in COUNT_FIELDS},
                "errors": row.errors,
                "in_queue": row.in_queue,
            }
            for row in board["rows"]
        ]
        totals = {key: board["totals"].get(key, 0) for key in (*COUNT_FIELDS, "errors")}
        totals["pending_changes"] = board["totals"]["pending_changes"]
        return Response(
            {"campaign": CampaignSerializer(campaign).data, "agents": agents, "totals": totals}
        )


class ErrorEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The record's entry in the campaign.")
    line = serializers.IntegerField(source="record.line", help_text="Its line in its file.")
    list_import = serializers.IntegerField(source="record.list_import_id")
    phone = serializers.CharField(source="record.phone", help_text="E.164.")
    agent_value = serializers.CharField(help_text="What the agent column says.")
    error = serializers.ChoiceField(choices=[c for c, _ in AgentKey.Error.choices if c])
    reason = serializers.CharField(source="get_error_display")
    cells = serializers.SerializerMethodField(help_text="The record's cells by column.")

    def get_cells(self, entry: Entry) -> dict[str, str]:
        columns = self.context["columns"]
        return dict(zip(columns, entry.record.cells, strict=False))


class FileOrderPagination(IdCursorPagination):
    # A list's records take their ids in file order (the first file, then each append), and
    # a campaign has one entry per record: the record's id orders the errors as the page does.
    ordering = "record_id"


class CampaignErrors(ApiListView):
    """The records of the campaign not delivered to an agent (no agent, an unknown email or
    user ID, not a member of the queue), in the file's order (cursor-paginated)."""

    serializer_class = ErrorEntrySerializer
    pagination_class = FileOrderPagination

    def get_queryset(self):
        self._campaign = campaign_of(self.company, self.kwargs["pk"])
        return selectors.error_entries(self._campaign).order_by()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if hasattr(self, "_campaign"):
            context["columns"] = self._campaign.contact_list.columns
        return context

    @extend_schema(operation_id="campaigns_errors")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


urlpatterns = [
    path("campaigns/", CampaignCollection.as_view(), name="api-campaigns"),
    path("campaigns/<int:pk>/", CampaignDetail.as_view(), name="api-campaign"),
    path("campaigns/<int:pk>/start/", CampaignStart.as_view(), name="api-campaign-start"),
    path("campaigns/<int:pk>/pause/", CampaignPause.as_view(), name="api-campaign-pause"),
    path("campaigns/<int:pk>/resume/", CampaignResume.as_view(), name="api-campaign-resume"),
    path("campaigns/<int:pk>/recycle/", CampaignRecycle.as_view(), name="api-campaign-recycle"),
    path("campaigns/<int:pk>/progress/", CampaignProgress.as_view(), name="api-campaign-progress"),
    path("campaigns/<int:pk>/errors/", CampaignErrors.as_view(), name="api-campaign-errors"),
]
