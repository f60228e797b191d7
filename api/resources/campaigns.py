"""Contact lists and preview campaigns, through the services and selectors of the admin and
the dashboard: a list uploaded as CSV (``contact_lists.list_import_start``: the same import,
checks and messages as the admin) and its import's progress and rejected rows; a campaign
created from a list (``services.campaign_create``: the admin form's checks, by field),
started, paused, resumed and recycled; its progress per agent (``selectors.dashboard``) and
its error list (``selectors.error_entries``, cursor-paginated in the file's order)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from agents.centers.models import ContactCenter
from campaigns import contact_lists, selectors, services
from campaigns.csv_reader import Refused
from campaigns.file_kinds import HEAD as NOT_CSV_HEAD
from campaigns.file_kinds import refuse_not_csv
from campaigns.models import AgentKey, Campaign, ContactList, Entry, ListImport
from campaigns.recycling import campaign_recycle_skipping_handled
from campaigns.upload_limit import FORM_ALLOWANCE, LimitedUploadHandler
from campaigns.uploads import too_big_message

from ..base import ApiGenericView, ApiListView
from ..pagination import IdCursorPagination
from ..problems import field_errors, problem, validation_problem

REJECTED_SHOWN = 50  # rejected rows shown per import, as on the admin's import page


class PersonRefSerializer(serializers.Serializer):
    """An agent, as the campaigns and leads name one."""

    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(source="get_full_name")


# --- Contact lists -----------------------------------------------------------------------
class RejectedRowSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The row's line in the file (the header is 1).")
    reason = serializers.CharField()
    raw = serializers.CharField(help_text="The row as it was in the file.")


class ListImportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ListImport.Kind.choices)
    file_name = serializers.CharField()
    status = serializers.ChoiceField(choices=ListImport.Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    finished = serializers.BooleanField(source="is_finished")
    percent = serializers.SerializerMethodField()
    bytes_read = serializers.SerializerMethodField()
    file_size = serializers.IntegerField()
    rows_loaded = serializers.IntegerField()
    rows_rejected = serializers.IntegerField()
    rejected_by_reason = serializers.DictField(child=serializers.IntegerField())
    encoding = serializers.CharField(source="encoding_label")
    warning = serializers.CharField(help_text="Said of a loaded file (e.g. read as Windows-1252).")
    message = serializers.CharField(help_text="Why the file was refused or failed, if it was.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    rejected = serializers.SerializerMethodField(
        help_text=f"The first {REJECTED_SHOWN} rejected rows, in line order."
    )

    def _status(self, list_import: ListImport) -> dict:
        cache = self.context.setdefault("status", {})
        if list_import.pk not in cache:
            cache[list_import.pk] = selectors.import_status(list_import)
        return cache[list_import.pk]

    def get_percent(self, list_import: ListImport) -> int:
        return self._status(list_import)["percent"]

    def get_bytes_read(self, list_import: ListImport) -> int:
        return self._status(list_import)["bytes_read"]

    @extend_schema_field(RejectedRowSerializer(many=True))
    def get_rejected(self, list_import: ListImport) -> list:
        rows = selectors.rejected_rows(list_import)[:REJECTED_SHOWN]
        return RejectedRowSerializer(rows, many=True).data


class ContactListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    loaded = serializers.BooleanField(source="is_loaded")
    columns = serializers.ListField(child=serializers.CharField())
    phone_columns = serializers.SerializerMethodField()
    rows = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def get_phone_columns(self, contact_list: ContactList) -> list[str]:
        return [contact_list.columns[i] for i in contact_list.phone_columns]


class ContactListDetailSerializer(ContactListSerializer):
    imports = serializers.SerializerMethodField(
        help_text="Every file loaded into the list, the first upload first."
    )

    @extend_schema_field(ListImportSerializer(many=True))
    def get_imports(self, contact_list: ContactList) -> list:
        imports = contact_list.imports.order_by("created_at", "pk")
        return ListImportSerializer(imports, many=True, context=self.context).data


class ContactListUploadSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, required=False, default="", max_length=120)
    file = serializers.FileField(
        help_text="The CSV file: UTF-8 or Windows-1252; comma, semicolon or tab; at least one "
        "phone column; at most CONTACT_LIST_MAX_UPLOAD_BYTES (300 MB by default)."
    )


class ContactListCreatedSerializer(ContactListSerializer):
    list_import = ListImportSerializer(
        source="new_import", help_text="The import just started (poll the list for progress)."
    )


class TooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"


def printable(text: str | None) -> str:
    # A file name may carry control characters (NUL included), which PostgreSQL refuses.
    return "".join(ch for ch in (text or "") if ch.isprintable())


def company_lists(company):
    return ContactList.objects.filter(company=company)


class ContactListCollection(ApiListView):
    """The company's contact lists, oldest first (cursor-paginated); upload a new one."""

    serializer_class = ContactListSerializer
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        return company_lists(self.company)

    @extend_schema(operation_id="contact_lists_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        # After the key, its scope and the rate limit, before the body is read: a declared
        # length past the limit is refused unread (the admin's UploadLimitMiddleware, which
        # the API's fast path skips); below it, the file is counted as it arrives.
        super().initial(request, *args, **kwargs)
        if request.method != "POST":
            return
        limit = settings.CONTACT_LIST_MAX_UPLOAD_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or "")
        except ValueError:
            length = None
        if length is not None and length > limit + FORM_ALLOWANCE:
            raise TooLarge(too_big_message(length, limit))
        request._request.upload_handlers.insert(0, LimitedUploadHandler(request._request, limit))

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.UnsupportedMediaType):
            return problem(
                415,
                "Send the list as multipart/form-data: the CSV file in the field “file” and "
                "the list's name in “name”.",
            )
        if isinstance(exc, RequestDataTooBig):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            # With an Idempotency-Key the request's body is read whole to compare payloads.
            exc = TooLarge(
                "With an Idempotency-Key an upload is read into memory, so it may be at most "
                f"{limit / 1_048_576:.1f} MB ({limit:,} bytes): send this file without the "
                "header."
            )
        response = super().handle_exception(exc)
        if isinstance(exc, TooLarge):
            response["Connection"] = "close"  # the body was not read
        return response

    @extend_schema(
        operation_id="contact_lists_create",
        request={"multipart/form-data": ContactListUploadSerializer},
        responses={
            201: ContactListCreatedSerializer,
            413: OpenApiResponse(description="The file is past CONTACT_LIST_MAX_UPLOAD_BYTES."),
        },
    )
    def post(self, request):
        """Upload a CSV file (`file`) as a new list named `name`: the admin's import, queued
        at once (poll `GET /contact-lists/{id}/` for its progress and rejected rows). A file
        the import would refuse from its start (not CSV text, UTF-16, no phone column, a
        header and no rows, …) is refused here with the admin's message, and nothing is
        made; so is a workbook, a PDF or an archive, named as such."""
        data = request.data  # parsed here: the upload handler stops at the limit
        refused = getattr(request._request, "upload_refused", "")
        if refused:
            raise TooLarge(refused)
        form = ContactListUploadSerializer(data=data)
        if not form.is_valid():
            if "file" in form.errors:
                return validation_problem(
                    {"file": ["Attach the list as a CSV file in the form field “file”."]}
                )
            return validation_problem(field_errors(form.errors))
        upload = form.validated_data["file"]
        limit = settings.CONTACT_LIST_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise TooLarge(too_big_message(upload.size, limit))
        try:
            upload.seek(0)
            refuse_not_csv(upload.read(NOT_CSV_HEAD))
            upload.seek(0)
            with transaction.atomic():
                contact_list = contact_lists.contact_list_create(
                    company=self.company, name=form.validated_data["name"], actor=None
                )
                contact_list.new_import = contact_lists.list_import_start(
                    contact_list=contact_list,
                    chunks=upload.chunks(),
                    file_name=printable(upload.name)[:255] or "list.csv",
                    kind=ListImport.Kind.INITIAL,
                    actor=None,
                )
        except Refused as refusal:
            return validation_problem({"file": [refusal.message]})
        return Response(
            ContactListCreatedSerializer(contact_list).data,
            status=201,
            headers={"Location": f"/api/v1/contact-lists/{contact_list.pk}/"},
        )


class ContactListDetail(ApiGenericView):
    """One contact list with its imports: status, progress, counts and rejected rows."""

    serializer_class = ContactListDetailSerializer

    @extend_schema(operation_id="contact_lists_read")
    def get(self, request, pk: int):
        contact_list = get_object_or_404(company_lists(self.company), pk=pk)
        return Response(self.get_serializer(contact_list).data)


# --- Campaigns -----------------------------------------------------------------------------
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
    path("contact-lists/", ContactListCollection.as_view(), name="api-contact-lists"),
    path("contact-lists/<int:pk>/", ContactListDetail.as_view(), name="api-contact-list"),
    path("campaigns/", CampaignCollection.as_view(), name="api-campaigns"),
    path("campaigns/<int:pk>/", CampaignDetail.as_view(), name="api-campaign"),
    path("campaigns/<int:pk>/start/", CampaignStart.as_view(), name="api-campaign-start"),
    path("campaigns/<int:pk>/pause/", CampaignPause.as_view(), name="api-campaign-pause"),
    path("campaigns/<int:pk>/resume/", CampaignResume.as_view(), name="api-campaign-resume"),
    path("campaigns/<int:pk>/recycle/", CampaignRecycle.as_view(), name="api-campaign-recycle"),
    path("campaigns/<int:pk>/progress/", CampaignProgress.as_view(), name="api-campaign-progress"),
    path("campaigns/<int:pk>/errors/", CampaignErrors.as_view(), name="api-campaign-errors"),
]
