"""Contact lists: a list uploaded as CSV (``contact_lists.list_import_start``: the same
import, checks and messages as the admin), bounded by the admin's upload limit, and its
import's progress and rejected rows."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from campaigns import contact_lists, selectors
from campaigns.csv_reader import Refused
from campaigns.file_kinds import HEAD as NOT_CSV_HEAD
from campaigns.file_kinds import refuse_not_csv
from campaigns.models import ContactList, ListImport
from campaigns.upload_limit import upload_bound
from campaigns.uploads import too_big_message

from ..base import ApiGenericView, ApiListView
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
        refused = upload_bound(request._request, settings.CONTACT_LIST_MAX_UPLOAD_BYTES)
        if refused:
            raise TooLarge(refused)

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

urlpatterns = [
    path("contact-lists/", ContactListCollection.as_view(), name="api-contact-lists"),
    path("contact-lists/<int:pk>/", ContactListDetail.as_view(), name="api-contact-list"),
]
