"""The Lead Center: an agent's inbox (their items, the active pool, routing's offers), the
contact page with its re-assignment, add and edit, claims, presence and the heartbeat."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from agents.availability.rules import covering_text
from agents.live import live_token, stream_active, stream_agent, stream_contact
from agents.models import AccessLevel, Presence
from agents.permissions import access_level_required, parse_pk
from agents.selectors import LEAD_CENTER_LEVELS
from agents.services import agent_set_presence
from agents.zones import local
from contacts import selectors
from contacts.interactions import interaction_mark_handled, interaction_take
from contacts.queue import queue_drain
from routing.rounds import offer_claim, reassignment_start
from routing.selectors import company_group, company_groups, open_offers, open_round

from .forms import ContactForm, PresenceForm

lead_center_required = access_level_required(*LEAD_CENTER_LEVELS)
TABS = ("mine", "active", "offers", "contacts")


def _live(request: HttpRequest, *streams: str) -> dict:
    """The page's live token (its streams: the view has checked the rights to them); its
    safety refresh is every page's (``agents.context_processors``, base.html)."""
    return {"live": live_token(user=request.user, company_id=request.company.pk, streams=streams)}


def _local_path(request: HttpRequest, url: str) -> str | None:
    """``url`` as a path of this site ("/lead-center/?tab=mine"), or None: another site, a
    scheme-relative "//host", or no path at all ("0", "x", "25:99", which ``redirect()``
    would try as the names of URL patterns)."""
    if not url or not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(url)
    if not parts.path.startswith("/") or parts.path.startswith(("//", "/\\")):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the page the form names in ``next`` if it is a path of this site, else to the
    page the form came from (the Referer, if of this site), else to ``default``."""
    posted = request.POST.get("next", "")
    target = posted if posted.startswith("/") else None
    target = target and _local_path(request, target)
    target = target or _local_path(request, request.headers.get("Referer", ""))
    return HttpResponseRedirect(target or default)


def _own_note(availability) -> str:
    """Beside the presence switch, when routing passes the agent by whatever it says: "You
    are off hours until 09:00: texts and forms go to Active"."""
    note = selectors.name_note(availability)
    if not note:
        return ""
    if availability.cover_name:
        # (whether the cover can take them now is the availability page's to say: here, no
        # query more on every Lead Center page)
        return (
            f"You are {note}: texts and forms go to your cover, {availability.cover_name}, "
            "while they can take them, else to Active."
        )
    return f"You are {note}: texts and forms go to Active."


def _due_text(due, *, time_zone: str, now) -> str:
    """An open item's response deadline as the agent reads it: "reply by 11:57" today,
    "reply by Wed 09:10" another day (the company's clock)."""
    at, today = local(due, time_zone), local(now, time_zone).date()
    return f"reply by {at:%H:%M}" if at.date() == today else f"reply by {at:%a %H:%M}"


def _mark_due(items, *, time_zone: str) -> None:
    """``due_note`` on the open items whose deadline still runs (a missed one says so in
    its timeline, and the item has moved on)."""
    now = timezone.now()
    for item in items:
        running = (
            item.response_due_at is not None
            and item.response_missed_at is None
            and item.status == item.Status.OPEN
        )
        item.due_note = (
            _due_text(item.response_due_at, time_zone=time_zone, now=now) if running else ""
        )


def _mark(*, items, contacts, availability: dict, time_zone: str) -> None:
    """Set the words the rows show beside names: the owner's out of office / off hours
    (``owner_note``) and, on an item a cover received, "covering for Ava Patel until Fri
    17:00" (``covering_note``)."""
    for item in items:
        if item.covering_for_id is not None:
            item.covering_note = (
                covering_text(str(item.covering_for), item.cover_until, time_zone)
                if item.cover_until
                else f"covering for {item.covering_for}"
            )
        owner = item.contact.primary_agent_id if item.pool else None
        item.owner_note = selectors.name_note(availability.get(owner))
    for contact in contacts:
        contact.owner_note = selectors.name_note(availability.get(contact.primary_agent_id))


def _inbox(request: HttpRequest, tab: str, *, named=()) -> dict:
    """The tab counts and the current tab's items: what the page and its live fragment show,
    with the availability of the agent and of the owners the rows name (``named``: more
    contacts whose owner is shown, e.g. search results).
    Queries: count mine, count active with the capacity queue, count offers, the tab's items,
    the absences of the agent and the owners shown (availability)."""
    agent, company = request.user, request.company
    available = agent.effective_presence == Presence.AVAILABLE
    mine = selectors.inbox_mine(agent=agent, company=company)
    active = selectors.inbox_active(company=company, agent=agent)
    offers = open_offers(agent=agent, company=company)
    active_count, queue_length = selectors.inbox_counts(company=company, agent=agent)
    context = {
        "tab": tab,
        "available": available,
        "mine_count": mine.count(),
        "active_count": active_count if available else 0,
        "queue_length": queue_length,
        "offers_count": offers.count(),
    }
    # The page title counts what waits for the agent in the three inbox tabs.
    context["waiting_count"] = (
        context["mine_count"] + context["active_count"] + context["offers_count"]
    )
    items: list = []
    if tab == "offers":
        context["offers"] = list(offers[: selectors.INBOX_LIMIT])
    elif tab == "mine":
        items = context["items"] = list(mine[: selectors.INBOX_LIMIT])
    elif tab == "active":
        items = context["items"] = list(active[: selectors.INBOX_LIMIT]) if available else []
    else:
        context["contacts"] = list(
            selectors.my_contacts(agent=agent, company=company)[: selectors.INBOX_LIMIT]
        )
    owners = [i.contact.primary_agent for i in items if i.pool] + [c.primary_agent for c in named]
    availability = selectors.availability_by_agent(company=company, agents=[agent, *owners])
    _mark(items=items, contacts=named, availability=availability, time_zone=company.time_zone)
    if tab == "mine":
        _mark_due(items, time_zone=company.time_zone)
    own = availability.get(agent.pk)
    context["presence_note"] = _own_note(own)
    # The presence switch keeps saying what the agent set; beside it, while routing passes
    # them by anyway, the reason ("Out of office"), so green "Available" does not read as
    # "you are taking work".
    context["presence_muted"] = (
        own.label.split(" until ")[0] if own is not None and selectors.name_note(own) else ""
    )
    return context


def _tab(request: HttpRequest) -> str:
    tab = request.GET.get("tab", "mine")
    return tab if tab in TABS else "mine"


@lead_center_required
def lead_center(request: HttpRequest) -> HttpResponse:
    term = request.GET.get("q", "").strip()[:100]
    results = (
        list(selectors.contact_search(company=request.company, term=term)[: selectors.SEARCH_LIMIT])
        if term
        else None
    )
    context = _inbox(request, _tab(request), named=results or ())
    context["term"] = term
    context["back"] = request.get_full_path()
    context["results"] = results
    # Mine, Offers and My contacts are the agent's own; Active and its count the company's.
    context.update(_live(request, stream_agent(request.user.pk), stream_active(request.company.pk)))
    return render(request, "contacts/lead_center.html", context)


@lead_center_required
def lead_center_live(request: HttpRequest) -> HttpResponse:
    """The tabs and the inbox as an HTML fragment: the open Lead Center fetches it when the
    socket says its streams changed (static/js/lead_center.js)."""
    context = _inbox(request, _tab(request))
    # The inbox's forms come back to the page, not to this fragment.
    context["back"] = reverse("contacts:lead_center") + "?tab=" + context["tab"]
    response = render(request, "contacts/_lead_center_live.html", context)
    response["Cache-Control"] = "no-store"
    return response


@lead_center_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_page(company=request.company, pk=pk)
    if contact is None:
        raise Http404("No such contact in your company.")
    owner = selectors.availability_by_agent(
        company=request.company, agents=[contact.primary_agent]
    ).get(contact.primary_agent_id)
    interactions = list(selectors.contact_interactions(contact=contact)[:50])
    _mark(items=interactions, contacts=(), availability={}, time_zone=request.company.time_zone)
    return render(
        request,
        "contacts/contact_detail.html",
        {
            "contact": contact,
            "owner_note": selectors.name_note(owner),
            "interactions": interactions,
            "timeline": list(selectors.contact_timeline(contact=contact)[:50]),
            "round": open_round(contact=contact),
            "groups": list(company_groups(company=request.company)),
            # The contact is of the agent's company (contact_page scoped it).
            **_live(request, stream_contact(contact.pk)),
        },
    )


@lead_center_required
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    """Primary agent role → group → confirm: send the contact through a reassignment group."""
    contact = selectors.contact_page(company=request.company, pk=pk)
    if contact is None:
        raise Http404("No such contact in your company.")
    group = company_group(
        company=request.company,
        pk=parse_pk(request.POST.get("group") or request.GET.get("group")),
    )
    if group is None:
        messages.error(request, "Choose a reassignment group.")
        return redirect("contacts:contact", pk=contact.pk)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            round_ = reassignment_start(contact=contact, group=group, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if round_.status == round_.Status.OPEN:
                messages.success(request, f"Re-Assign in progress through {group}.")
            else:
                messages.success(request, f"Re-assigned through {group}.")
        return redirect("contacts:contact", pk=contact.pk)
    return render(request, "contacts/reassign_confirm.html", {"contact": contact, "group": group})


@require_POST
@lead_center_required
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        round_ = offer_claim(offer_id=pk, agent=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(reverse("contacts:lead_center") + "?tab=offers")
    messages.success(request, f"You are now the primary agent of {round_.contact}.")
    return redirect("contacts:contact", pk=round_.contact_id)


def _contact_form(request: HttpRequest, contact=None) -> HttpResponse:
    form = ContactForm(request.POST or None, company=request.company, contact=contact)
    if request.method == "POST" and form.is_valid():
        try:
            saved = form.save(actor=request.user)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Saved {saved}.")
            return redirect("contacts:contact", pk=saved.pk)
    return render(request, "contacts/contact_form.html", {"form": form, "contact": contact})


@lead_center_required
def contact_add(request: HttpRequest) -> HttpResponse:
    return _contact_form(request)


@lead_center_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_page(company=request.company, pk=pk)
    if contact is None:
        raise Http404("No such contact in your company.")
    return _contact_form(request, contact)


@access_level_required(*AccessLevel.values)
def ping(request: HttpRequest) -> HttpResponse:
    """The page's heartbeat (every page, every access level): the middleware records that the
    person is still here."""
    return HttpResponse(status=204)


@require_POST
@lead_center_required
def set_presence(request: HttpRequest) -> HttpResponse:
    form = PresenceForm(request.POST)
    if form.is_valid():
        presence = form.cleaned_data["presence"]
        agent_set_presence(agent=request.user, presence=presence)
        messages.success(request, f"You are now {Presence(presence).label}.")
        if presence == Presence.AVAILABLE:
            # Items waiting for capacity come to someone back with room at once, not at the
            # next sweep (the drain checks their hours, absence and capacity itself).
            queue_drain(company=request.company, agent=request.user)
    else:
        messages.error(request, "Choose Available, Away or Offline.")
    return _back(request, reverse("contacts:lead_center"))


@require_POST
@lead_center_required
def take(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        interaction = interaction_take(
            company=request.company, interaction_id=pk, agent=request.user
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return _back(request, reverse("contacts:lead_center") + "?tab=active")
    messages.success(
        request,
        f"It's yours: {interaction.get_channel_display().lower()} from {interaction.contact}.",
    )
    return redirect(reverse("contacts:lead_center") + "?tab=mine")


@require_POST
@lead_center_required
def handle(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        interaction_mark_handled(company=request.company, interaction_id=pk, agent=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "Marked as handled.")
    return _back(request, reverse("contacts:lead_center"))
