"""Reassignment and the routing dry run.

- ``POST /contacts/{id}/reassignments/`` (scope ``routing``): send a contact through a
  reassignment group, as the contact page's *Re-assign* does (``routing.rounds.
  reassignment_start``: the *Re-Assign in progress* hold, the timeline row, the why log,
  offers and claim windows, the emails);
- ``GET /reassignments/{id}/``: a round's state;
- ``POST /routing/dry-run/`` (scope ``read``): who would get a contact now, and why, changing
  nothing (``routing.dry_run``).
"""

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, views
from rest_framework.response import Response

from contacts.models import Channel, Contact
from contacts.selectors import contact_page
from routing import why as why_log
from routing.dry_run import AlreadyInProgress, DryRun, group_dry_run, rule_dry_run
from routing.models import Decision, Method, Offer, ReassignmentGroup, Round, RoutingRule
from routing.rounds import reassignment_start
from routing.selectors import company_group

from ..base import ApiGenericView
from ..models import Scope
from ..problems import problem
from .agents import problem_answer
from .contact_serializers import AgentRefSerializer

IN_PROGRESS = "The contact is already being re-assigned (Re-Assign in progress)."


class SourceRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class OfferSerializer(serializers.Serializer):
    agent = AgentRefSerializer()
    status = serializers.ChoiceField(choices=Offer.Status.choices)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class WhySerializer(serializers.Serializer):
    """One why-log entry: who could have had the contact, who was passed
    over and why, who got it, and the sentence that ends the timeline row."""

    candidates = serializers.SerializerMethodField(
        help_text='[{"id", "name"}], in the engine\'s order.'
    )
    excluded = serializers.SerializerMethodField(
        help_text='{"passed_over": {"<agent id>": {"name", "why"}}, "had_their_turn": n}'
    )
    chosen = AgentRefSerializer(allow_null=True)
    reason = serializers.CharField()

    def _shown(self, decision: Decision) -> why_log.Shown:
        # The log stores agent ids: each entry is named once (both fields read it, one after
        # the other), the names read once per answer (the cache lives in the context, which
        # every nested entry of one answer shares).
        last = getattr(self, "_last_shown", None)
        if last is None or last[0] is not decision:
            names = why_log.agent_names([decision], self.context.setdefault("why_names", {}))
            last = self._last_shown = (decision, why_log.shown(decision, names))
        return last[1]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_candidates(self, decision: Decision) -> list[dict]:
        return self._shown(decision).candidates

    @extend_schema_field(serializers.DictField())
    def get_excluded(self, decision: Decision) -> dict:
        return self._shown(decision).excluded


class DecisionSerializer(WhySerializer):
    id = serializers.IntegerField()
    method = serializers.ChoiceField(choices=Method.choices)
    created_at = serializers.DateTimeField()


class RoundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    contact = serializers.IntegerField(source="contact_id")
    group = SourceRefSerializer(allow_null=True, help_text="The reassignment group, if any.")
    rule = SourceRefSerializer(
        allow_null=True, help_text="The routing rule, for a new contact's round."
    )
    method = serializers.ChoiceField(choices=Method.choices)
    status = serializers.ChoiceField(
        choices=Round.Status.choices,
        help_text="open: Re-Assign in progress (offers out until the deadline); the others "
        "are finished.",
    )
    from_agent = AgentRefSerializer(allow_null=True, help_text="The owner when it started.")
    picked_agent = AgentRefSerializer(
        source="assigned_to", allow_null=True, help_text="Who got the contact, once finished."
    )
    deadline_at = serializers.DateTimeField(allow_null=True, help_text="Open offers' deadline.")
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    offers = OfferSerializer(many=True, source="offers.all")
    why = DecisionSerializer(many=True, source="decision_set.all")


def company_rounds(company):
    return (
        Round.objects.filter(company=company)
        .select_related("group", "rule", "from_agent", "assigned_to")
        .prefetch_related(
            Prefetch("offers", queryset=Offer.objects.select_related("agent").order_by("pk")),
            Prefetch(
                "decision_set", queryset=Decision.objects.select_related("chosen").order_by("pk")
            ),
        )
    )


def round_answer(company, pk: int, status: int = 200) -> Response:
    round_ = get_object_or_404(company_rounds(company), pk=pk)
    headers = {"Location": reverse("api-reassignment", args=[round_.pk])} if status == 201 else {}
    return Response(RoundSerializer(round_).data, status=status, headers=headers)


class StartSerializer(serializers.Serializer):
    group = serializers.IntegerField(help_text="A reassignment group of the key's company.")


class ReassignmentStart(ApiGenericView):
    """Send the contact through a reassignment group, exactly as *Re-assign* on its page
    does: round robin and least loaded assign at once; first to claim and next up make
    offers (emailed) and hold the contact (*Re-Assign in progress*) until someone claims or
    the claim window ends (then the default assignee, or the owner stays). The timeline
    says “started by API key “…””. 409 when the contact is already being re-assigned."""

    serializer_class = StartSerializer
    scopes = {"POST": Scope.ROUTING}

    @extend_schema(
        operation_id="reassignments_start",
        request=StartSerializer,
        responses={201: RoundSerializer, **problem_answer(409, IN_PROGRESS)},
    )
    def post(self, request, pk: int):
        contact = contact_page(company=self.company, pk=pk)
        if contact is None:
            raise Http404
        body = StartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        group = company_group(company=self.company, pk=body.validated_data["group"])
        if group is None:
            raise serializers.ValidationError({"group": [no_such("reassignment group")]})
        if contact.reassign_hold is not None:
            return in_progress(contact)
        try:
            round_ = reassignment_start(contact=contact, group=group, actor=None)
        except ValidationError:
            # Held since it was read (a parallel start): the same 409; anything else is the
            # service's own message (400).
            if Contact.objects.filter(pk=contact.pk, reassign_hold__isnull=False).exists():
                return in_progress(contact)
            raise
        return round_answer(self.company, round_.pk, status=201)


def no_such(what: str) -> str:
    return f"There is no {what} with this id in your company."


def in_progress(contact: Contact) -> Response:
    contact.refresh_from_db(fields=["reassign_hold", "reassign_hold_label"])
    return problem(
        409,
        f"Re-Assign already in progress through {contact.reassign_hold_label}; wait for it "
        "to finish.",
        kind="reassign-in-progress",
        round=contact.reassign_hold,
    )


class ReassignmentDetail(ApiGenericView):
    """A round's state: its group (or rule), contact, status, who got the contact, the
    offers and their deadline, and the why-log entries."""

    serializer_class = RoundSerializer

    @extend_schema(operation_id="reassignments_read", responses=RoundSerializer)
    def get(self, request, pk: int):
        return round_answer(self.company, pk)


# --- Dry run ----------------------------------------------------------------------------------
class DryRunRequestSerializer(serializers.Serializer):
    group = serializers.IntegerField(
        required=False, help_text="A reassignment group; with `contact`."
    )
    contact = serializers.IntegerField(required=False, help_text="An existing contact.")
    rule = serializers.IntegerField(
        required=False, help_text="A routing rule; with the new contact's facts."
    )
    source = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="The new contact's source; empty with a channel: “inbound <channel>”, as "
        "the webhook stores it.",
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )

    def validate(self, data):
        group, rule = data.get("group"), data.get("rule")
        if (group is None) == (rule is None):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send either a group (with a contact) or a rule."]}
            )
        if group is not None and data.get("contact") is None:
            raise serializers.ValidationError(
                {"contact": ["A group's dry run needs the contact to re-assign."]}
            )
        if rule is not None:
            extra = sorted({"contact"} & set(data))
            if extra:
                raise serializers.ValidationError(
                    {"contact": ["Rules route new contacts: send the new contact's facts."]}
                )
        else:
            facts = sorted({"source", "channel", "phone", "email", "tags"} & set(data))
            if facts:
                raise serializers.ValidationError(
                    {facts[0]: ["A group's dry run takes an existing contact, not facts."]}
                )
        return data


class DryRunSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[
            ("assigned", "assigned now (round robin, least loaded)"),
            ("offered", "offered, with a claim window (first to claim, next up)"),
            ("default_assignee", "nobody available: the default assignee"),
            ("unassigned", "nobody available, no default assignee: the owner stays"),
            ("pool", "no rule takes the new contact: no primary agent, texts show in Active"),
            ("existing_contact", "the phone is a contact already: rules do not run"),
        ]
    )
    reason = serializers.CharField(help_text="The sentence the timeline and why log would say.")
    group = SourceRefSerializer(allow_null=True)
    rule = SourceRefSerializer(allow_null=True, help_text="The rule asked about.")
    applied_rule = SourceRefSerializer(
        allow_null=True, help_text="A new contact: the rule that would take it (may differ)."
    )
    method = serializers.ChoiceField(choices=Method.choices, allow_null=True)
    contact = serializers.IntegerField(allow_null=True)
    agent = AgentRefSerializer(
        allow_null=True, help_text="Who would be the primary agent now (assigned or default)."
    )
    offered = AgentRefSerializer(many=True, help_text="Who would be offered it now.")
    queue = AgentRefSerializer(
        many=True, help_text="Next up: who would be offered it next, in order, one per window."
    )
    claim_window_minutes = serializers.IntegerField(allow_null=True)
    default_assignee = AgentRefSerializer(
        allow_null=True, help_text="Gets it when nobody claims it in time."
    )
    why = WhySerializer(allow_null=True, help_text="The why-log entry it would write.")


def _ref(source):
    return None if source is None else {"id": source.pk, "name": source.name}


def dry_run_data(result: DryRun) -> dict:
    source, applied = result.source, result.applied_rule
    decider = applied or (source if result.decision is not None else None)
    return {
        "outcome": result.outcome,
        "reason": result.reason,
        "group": _ref(source) if isinstance(source, ReassignmentGroup) else None,
        "rule": _ref(source) if isinstance(source, RoutingRule) else None,
        "applied_rule": _ref(applied),
        "method": decider.method if decider is not None else None,
        "contact": result.contact.pk if result.contact is not None else None,
        "agent": result.agent,
        "offered": result.offered,
        "queue": result.queue,
        "claim_window_minutes": result.claim_window_minutes,
        "default_assignee": result.default_assignee,
        "why": result.decision,
    }


class RoutingDryRun(ApiGenericView):
    """Who would get this contact now, and why — changing nothing. Either `group` and
    `contact` (what *Re-assign* through that group would do: 409 if the contact is being
    re-assigned already), or `rule` and a new contact's facts (`source`, `channel`, `phone`,
    `email`, `tags`: what the routing rules would do with a new number on the webhook, or a
    contact added with no primary agent). The same facts (presence, rotation, load) and the
    same engine as the real path; no round, offer, why-log or timeline row, email or
    rotation change is written. A POST only because it carries a body: scope `read`; an
    `Idempotency-Key` is accepted and ignored (a retry is as safe as the first call)."""

    serializer_class = DryRunRequestSerializer
    scopes = {"POST": Scope.READ}

    @extend_schema(
        operation_id="routing_dry_run",
        request=DryRunRequestSerializer,
        responses={200: DryRunSerializer, **problem_answer(409, IN_PROGRESS)},
    )
    def post(self, request):
        body = DryRunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("group") is not None:
            contact = contact_page(company=self.company, pk=data["contact"])
            if contact is None:
                raise serializers.ValidationError({"contact": [no_such("contact")]})
            group = company_group(company=self.company, pk=data["group"])
            if group is None:
                raise serializers.ValidationError({"group": [no_such("reassignment group")]})
            try:
                result = group_dry_run(contact=contact, group=group)
            except AlreadyInProgress:
                return in_progress(contact)
        else:
            rule = RoutingRule.objects.filter(company=self.company, pk=data["rule"]).first()
            if rule is None:
                raise serializers.ValidationError({"rule": [no_such("routing rule")]})
            result = rule_dry_run(
                company=self.company,
                rule=rule,
                source=data.get("source", ""),
                channel=data.get("channel", ""),
                phone=data.get("phone", ""),
                email=data.get("email", ""),
                tags=tuple(data.get("tags", ())),
            )
        return Response(DryRunSerializer(dry_run_data(result)).data)

    def _dispatch_idempotent(self, request, *args, **kwargs):
        # Nothing to run once: no answer is kept for the key.
        return views.APIView.dispatch(self, request, *args, **kwargs)


urlpatterns = [
    path(
        "contacts/<int:pk>/reassignments/",
        ReassignmentStart.as_view(),
        name="api-contact-reassignments",
    ),
    path("reassignments/<int:pk>/", ReassignmentDetail.as_view(), name="api-reassignment"),
    path("routing/dry-run/", RoutingDryRun.as_view(), name="api-routing-dry-run"),
]
