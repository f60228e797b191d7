"""Contacts: list (cursor; filter by primary agent, tag, updated since; search by phone in any
format), create, read, update, delete; the timeline and interactions. The primary agent (set /
clear, compare-and-set, bulk) is in ``contact_owner.py``; its URLs are listed here.

Every write goes through the services the pages use: a new contact through
``routing.rules.contact_save_routed`` (the routing rules for new contacts apply when no primary
agent is given, as in the admin), changes through ``contacts.services.contact_update``,
deletion through ``routing.rounds.contacts_delete``."""

import re
from datetime import UTC

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from agents.phone import normalise_phone
from contacts.models import Contact, Interaction, TimelineEntry
from contacts.selectors import contact_interactions, contact_timeline
from contacts.services import contact_update
from routing.rounds import contacts_delete
from routing.rules import contact_save_routed

from ..base import ApiGenericView, ApiListView
from ..models import Scope
from ..pagination import NewestFirstPagination
from ..problems import problem
from . import contact_owner
from .contact_serializers import (
    ContactSerializer,
    Id,
    InteractionSerializer,
    StrictSerializer,
    Text,
    TimelineEntrySerializer,
    company_contacts,
    contact_answer,
    eligible_owner,
)


# --- List and create ---------------------------------------------------------------------------
class ContactCreateSerializer(StrictSerializer):
    name = Text()
    phone = Text(help_text="Any spelling; stored in E.164. A phone or an email is required.")
    email = Text()
    source = Text(help_text="Where the contact came from, e.g. website (routing rules read it).")
    tags = Text(help_text="Comma-separated, e.g. “buyer, vip” (routing rules read them).")
    primary_agent = Id(
        required=False,
        allow_null=True,
        help_text=(
            "An agent id (the key needs the `routing` scope too: it chooses who owns the "
            "contact). Left out or null: the routing rules for new contacts apply."
        ),
    )


def _list_problem(parameter: str, message: str):
    return serializers.ValidationError({parameter: [message]})


def tag_pattern(tag: str) -> str:
    """A regex matching ``tag`` as one whole tag of a comma-separated list (any case)."""
    tag = " ".join(tag.split())
    return r"(^|,)\s*" + re.escape(tag) + r"\s*(,|$)"


class ContactList(ApiListView):
    """The company's contacts, oldest first (cursor-paginated by id: no count, any depth at
    the same cost). Filters combine: `phone` (any spelling: the exact number), `primary_agent`
    (an agent id, or `none` for contacts without one), `tag` (one whole tag, any case: `vip`
    does not match `vip-gold`) and `updated_since` (ISO 8601; without an offset, UTC).

    `POST` creates a contact (scope `write`): with no `primary_agent`, the company's routing
    rules for new contacts apply, as when a contact is added in the admin. Giving a
    `primary_agent` chooses who owns the contact, so it needs the `routing` scope too."""

    serializer_class = ContactSerializer

    @extend_schema(
        operation_id="contacts_list",
        parameters=[
            OpenApiParameter("phone", str, description="A phone number in any format."),
            OpenApiParameter(
                "primary_agent", str, description="An agent id, or `none` for no primary agent."
            ),
            OpenApiParameter("tag", str, description="One tag (whole, any case)."),
            OpenApiParameter(
                "updated_since",
                str,
                description="ISO 8601 date-time, e.g. 2026-12-01T09:00:00Z (no offset: UTC).",
            ),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="contacts_create",
        request=ContactCreateSerializer,
        responses={201: ContactSerializer},
    )
    def post(self, request, *args, **kwargs):
        data = ContactCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        agent_id = values.pop("primary_agent", None)
        agent = None
        if agent_id is not None:
            # Who owns a contact is the routing scope's (PUT …/primary-agent/ needs it): a
            # write-only key must not choose it by creating the contact (or deleting and
            # creating it again). Checked before the id, so no agent id is probed either.
            if Scope.ROUTING not in request.auth.scopes:
                return problem(
                    403,
                    "This API key lacks the “routing” scope this request needs: a "
                    "primary_agent chooses who owns the contact (leave it out to let the "
                    "routing rules choose).",
                    kind="forbidden",
                )
            try:
                agent = eligible_owner(self.company, agent_id)
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"primary_agent": error.detail}) from None
        contact = contact_save_routed(
            company=self.company,
            contact=None,
            actor=None,
            values=values,
            primary_agent=agent,
            primary_agent_changed=agent is not None,
            reason="",
        )
        return contact_answer(self.company, contact.pk, status.HTTP_201_CREATED)

    def get_queryset(self):
        params = self.request.query_params
        queryset = company_contacts(self.company)
        phone = params.get("phone")
        if phone:
            try:
                e164 = normalise_phone(phone, region=self.company.default_region)
            except ValidationError as error:
                # Not a number at all ("hello"): say so, as for the other filters.
                raise serializers.ValidationError({"phone": error.messages}) from None
            queryset = queryset.filter(phone=e164) if e164 else queryset.none()
        owner = params.get("primary_agent")
        if owner:
            if owner.strip().lower() == "none":
                queryset = queryset.filter(primary_agent__isnull=True)
            elif owner.strip().isascii() and owner.strip().isdigit():
                agent_id = int(owner)
                # An id past 64 bits belongs to nobody (and is no query parameter).
                queryset = (
                    queryset.filter(primary_agent_id=agent_id)
                    if agent_id < 2**63
                    else queryset.none()
                )
            else:
                raise _list_problem(
                    "primary_agent", f"“{owner[:40]}” is not an agent id: give an id or “none”."
                )
        tag = params.get("tag")
        if tag and tag.strip():
            if "," in tag or not tag.isprintable():
                raise _list_problem("tag", "Give one tag (no commas or control characters).")
            queryset = queryset.filter(tags__iregex=tag_pattern(tag))
        since = params.get("updated_since")
        if since:
            queryset = queryset.filter(updated_at__gte=_parse_since(since))
        return queryset


def _parse_since(value: str):
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        moment = None
    if moment is None:
        raise _list_problem(
            "updated_since",
            f"“{value[:40]}” is not an ISO 8601 date-time, e.g. 2026-12-01T09:00:00Z.",
        )
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, UTC)
        # (the year 1 east of UTC, or 9999 west of it, has no UTC time: OverflowError)
        return moment.astimezone(UTC)
    except OverflowError:
        raise _list_problem(
            "updated_since", f"“{value[:40]}” is out of range: give a date from 0001 to 9999."
        ) from None


# --- One contact -------------------------------------------------------------------------------
class ContactUpdateSerializer(StrictSerializer):
    name = Text()
    phone = Text(help_text="Any spelling; stored in E.164.")
    email = Text()
    source = Text()
    tags = Text(help_text="Comma-separated; replaces the contact's tags.")

    def to_internal_value(self, data):
        if isinstance(data, dict) and "primary_agent" in data:
            raise serializers.ValidationError(
                {
                    "primary_agent": [
                        "The primary agent is set with PUT /api/v1/contacts/{id}/primary-agent/ "
                        "(scope “routing”), not here."
                    ]
                }
            )
        return super().to_internal_value(data)


class ContactDetail(ApiGenericView):
    """One contact of the key's company (another company's id is a 404). `PATCH` changes
    its details (name, phone, email, source, tags; scope `write`), one timeline row listing
    what changed; the primary agent has its own endpoint. `DELETE` deletes it with its open
    reassignment, as the admin does (scope `write`)."""

    serializer_class = ContactSerializer

    @extend_schema(operation_id="contacts_read")
    def get(self, request, pk: int):
        return contact_answer(self.company, pk)

    @extend_schema(
        operation_id="contacts_update",
        request=ContactUpdateSerializer,
        responses={200: ContactSerializer},
    )
    def patch(self, request, pk: int):
        contact = get_object_or_404(company_contacts(self.company), pk=pk)
        data = ContactUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact_update(contact=contact, actor=None, **data.validated_data)
        return contact_answer(self.company, pk)

    @extend_schema(operation_id="contacts_delete", responses={204: None})
    def delete(self, request, pk: int):
        contact = get_object_or_404(company_contacts(self.company), pk=pk)
        try:
            with transaction.atomic():
                contacts_delete(company=self.company, contact_ids=[contact.pk])
        except ValidationError as error:
            return problem(409, error.messages[0], kind="reassign-in-progress")
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Its timeline and interactions -------------------------------------------------------------
class _OfContact(ApiListView):
    pagination_class = NewestFirstPagination

    def contact(self) -> Contact:
        return get_object_or_404(Contact.objects.filter(company=self.company), pk=self.kwargs["pk"])


class ContactTimeline(_OfContact):
    """The contact's history, newest first (cursor-paginated): every change of its details
    and primary agent, reassignments, leads and campaign calls, each with who made it (a
    person, “API key “name”” or Switchboard)."""

    serializer_class = TimelineEntrySerializer

    @extend_schema(operation_id="contacts_timeline")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TimelineEntry.objects.none()
        return contact_timeline(contact=self.contact())


class ContactInteractions(_OfContact):
    """The contact's texts, forms, calls and chats, newest first (cursor-paginated), with
    where each went and why."""

    serializer_class = InteractionSerializer

    @extend_schema(operation_id="contacts_interactions")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Interaction.objects.none()
        return contact_interactions(contact=self.contact())


urlpatterns = [
    path("contacts/", ContactList.as_view(), name="api-contacts"),
    path("contacts/<int:pk>/", ContactDetail.as_view(), name="api-contact"),
    path("contacts/<int:pk>/timeline/", ContactTimeline.as_view(), name="api-contact-timeline"),
    path(
        "contacts/<int:pk>/interactions/",
        ContactInteractions.as_view(),
        name="api-contact-interactions",
    ),
    *contact_owner.urlpatterns,
]
