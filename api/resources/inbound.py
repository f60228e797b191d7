"""Inbound interactions under ``/api/v1/``: the inbound webhook's contract (``/api/inbound/``,
``routing/webhook.py``) authenticated by an API key instead of the company's token. The same
checks and messages (``routing.webhook.inbound_check``), the same service
(``routing.inbound.inbound_receive``) and the same answer (``routing.webhook.inbound_answer``);
errors as problem details.

``Idempotency-Key``: the webhook's rules, kept where the webhook keeps them, on the interaction
itself (``Interaction.idempotency_key``, per company), so this view skips the generic
idempotency of ``api/base.py``: a key is one event whichever of the two URLs it came to (a
retry of a webhook call through the API replays it, and the other way round)."""

from django import forms
from django.conf import settings
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework import views as drf_views
from rest_framework.response import Response

from routing.inbound import IdempotencyKeyReused, inbound_receive
from routing.webhook import InboundForm, inbound_answer, inbound_check

from ..base import ApiView
from ..problems import field_errors, problem, validation_problem


def _schema_field(field: forms.Field) -> serializers.Field:
    """The request schema's field for one field of the webhook's form (described from the
    form itself, so the two cannot drift)."""
    # (an optional field sent as null is a field not given: inbound_check)
    options = {"required": field.required, "allow_null": not field.required}
    if isinstance(field, forms.ChoiceField):
        return serializers.ChoiceField(choices=field.choices, **options)
    if isinstance(field, forms.EmailField):
        return serializers.EmailField(max_length=field.max_length, allow_blank=True, **options)
    return serializers.CharField(
        max_length=field.max_length, allow_blank=not field.required, **options
    )


# The request as the schema shows it; the checks are the webhook's (inbound_check).
InboundRequestSerializer = type(
    "InboundRequestSerializer",
    (serializers.Serializer,),
    {name: _schema_field(field) for name, field in InboundForm.base_fields.items()},
)


class InboundRingEntrySerializer(serializers.Serializer):
    agent = serializers.EmailField()
    name = serializers.CharField()
    order = serializers.IntegerField(help_text="1, 2, …; all 1 for a simultaneous ring.")
    rank = serializers.IntegerField(required=False, allow_null=True, help_text="Skills-based.")
    devices = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


class InboundCenterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class InboundAnswerSerializer(serializers.Serializer):
    interaction = serializers.IntegerField()
    contact = serializers.IntegerField()
    routed_to = serializers.EmailField(allow_null=True, help_text="The agent's email, or null.")
    pool = serializers.CharField(allow_null=True, help_text="“active”: in the Active pool.")
    reason = serializers.CharField(help_text="Why it went where it went.")
    contact_center = InboundCenterSerializer(
        required=False, help_text="A call or chat to a center."
    )
    ring = InboundRingEntrySerializer(many=True, required=False, help_text="Who rings, in order.")


class InboundInteraction(ApiView):
    """Record an inbound text, form, call or chat and route it (scope `write`): the inbound
    webhook's contract (`POST /api/inbound/`: the same fields, checks, messages and answer),
    authenticated by the API key. An unknown number creates the contact (the routing rules
    for new contacts apply); a call or chat naming a `contact_center` rings its members.

    `Idempotency-Key` follows the webhook's rules and store: the same key with the same
    request replays the first answer (200, `Idempotent-Replayed: true`) and creates nothing;
    the same key with another request is 422. A key used with the webhook replays here too."""

    @extend_schema(
        operation_id="interactions_inbound",
        request=InboundRequestSerializer,
        responses={201: InboundAnswerSerializer, 200: InboundAnswerSerializer},
    )
    def post(self, request):
        declared = (request.META.get("CONTENT_LENGTH") or "0").strip()
        limit = settings.WEBHOOK_MAX_REQUEST_BYTES
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            return problem(413, f"The request is too large: at most {limit} bytes.")
        data = request.data
        if not isinstance(data, dict):
            return validation_problem({"non_field_errors": ["The body must be a JSON object."]})
        key = request.headers.get("Idempotency-Key", "").strip()
        form, errors = inbound_check(data, idempotency_key=key)
        if errors:
            return validation_problem(field_errors(errors))
        try:
            interaction, replayed = inbound_receive(
                company=self.company, idempotency_key=key, **form.cleaned_data
            )
        except IdempotencyKeyReused as error:
            return problem(422, error.messages[0], kind="idempotency-key-reused")
        response = Response(inbound_answer(interaction), status=200 if replayed else 201)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    def dispatch(self, request, *args, **kwargs):
        # Not ApiMixin.dispatch: inbound_receive keeps the key (see the module's docstring).
        return drf_views.APIView.dispatch(self, request, *args, **kwargs)


urlpatterns = [
    path("interactions/inbound/", InboundInteraction.as_view(), name="api-inbound"),
]
