"""Contact-center pages: the list, a center's members (search, add, roles), the Ai Voice
upgrade step, coaching, the center's settings, and a user's own devices. The supervisor
dashboard shows the members' load (contacts), so it lives above, in ``desk/workload.py``."""

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ..permissions import access_level_required, parse_pk
from ..phone import format_phone
from ..selectors import LEAD_CENTER_LEVELS
from . import devices, licenses, selectors, services
from .forms import CenterSettingsForm, DeviceForm, UpgradeForm
from .models import CenterMembership, Device, License
from .permissions import can, center_for_request, require

lead_center_people = access_level_required(*LEAD_CENTER_LEVELS)
Role = CenterMembership.Role


def _posted(request: HttpRequest):
    # An empty POST is still a submission (its errors must show), unlike a GET.
    return request.POST if request.method == "POST" else None


def _error(request: HttpRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


@lead_center_people
def center_list(request: HttpRequest) -> HttpResponse:
    # Deactivated centers leave the list; "Show inactive" brings them back (to reactivate).
    inactive = request.GET.get("inactive") == "1"
    centers = selectors.centers_for_user(
        user=request.user, company=request.company, inactive=inactive
    )
    mine = dict(
        CenterMembership.objects.filter(
            agent=request.user, center__company=request.company
        ).values_list("center_id", "role")
    )
    rows = [(c, Role(mine[c.pk]).label if c.pk in mine else "") for c in centers]
    return render(
        request,
        "agents/centers/list.html",
        {"title": "Contact centers", "rows": rows, "inactive": inactive},
    )


def _detail_context(request, center, **extra) -> dict:
    members = list(selectors.center_members(center=center))
    call_types, grid = selectors.center_rank_grid(center=center)
    for m in members:
        # Each member's rank per call type, in the call types' order (None = no rank).
        mine = grid.get(m.pk, {})
        m.rank_cells = [(t, mine.get(t.pk)) for t in call_types]
    return {
        "call_types": call_types,
        "title": center.name,
        "center": center,
        "members": members,
        "can_manage": can(request.user, "edit_center_settings", center),
        "can_supervise": can(request.user, "view_center_dashboard", center),
        "roles": Role,
        **extra,
    }


@lead_center_people
def center_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Agents & Admins: the member list; center admins search, add and change roles."""
    center = center_for_request(request, pk)
    require(request.user, "view_center_dashboard", center)
    return render(request, "agents/centers/detail.html", _detail_context(request, center))


@require_POST
@lead_center_people
def center_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Type a name or email and press Enter: one match is added, several are listed."""
    center = center_for_request(request, pk)
    require(request.user, "edit_center_settings", center)
    picked = parse_pk(request.POST.get("agent"))
    term = request.POST.get("q", "")
    matches = selectors.addable_agents(center=center, term=term) if not picked else None
    if picked:
        agent = (
            center.company.agents.filter(pk=picked, is_active=True, is_superuser=False)
            .exclude(center_memberships__center=center)
            .first()
        )
    else:
        found = list(matches[:11])
        if len(found) != 1:
            if not found:
                messages.error(request, f"Nobody in {center.company} matches “{term.strip()}”.")
                return redirect(center)
            context = _detail_context(request, center, matches=found[:10], term=term)
            return render(request, "agents/centers/detail.html", context)
        agent = found[0]
    if agent is None:
        messages.error(request, "Choose someone from the list.")
        return redirect(center)
    license, _ = selectors.agent_line(agent)
    if license == License.AI_VOICE:
        return redirect("centers:upgrade", pk=center.pk, agent_pk=agent.pk)
    try:
        services.center_add_member(center=center, agent=agent, actor=request.user)
    except ValidationError as error:
        _error(request, error)
    else:
        messages.success(request, f"{agent} added to {center} as Agent.")
    return redirect(center)


@lead_center_people
def center_upgrade(request: HttpRequest, pk: int, agent_pk: int) -> HttpResponse:
    """An Ai Voice user joins only after an upgrade to Contact Center or Sales."""
    center = center_for_request(request, pk)
    require(request.user, "edit_center_settings", center)
    agent = center.company.agents.filter(pk=agent_pk, is_superuser=False).first()
    if agent is None:
        messages.error(request, "That person is not in this company.")
        return redirect(center)
    license, numbers = selectors.agent_line(agent)
    if license != License.AI_VOICE:
        return redirect(center)
    form = UpgradeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        keep = form.cleaned_data["numbers"] == "keep"
        try:
            upgrade = services.agent_upgrade_license_and_join(
                agent=agent,
                to_license=form.cleaned_data["to_license"],
                keep_numbers=keep,
                actor=request.user,
                center=center,
            )
        except ValidationError as error:
            _error(request, error)
        else:
            messages.success(
                request,
                f"{agent} upgraded to {upgrade.get_to_license_display()} and added to {center}. "
                f"{upgrade.billing}",
            )
            return redirect(center)
    context = {
        "title": f"Upgrade {agent}",
        "center": center,
        "agent": agent,
        "numbers": [format_phone(n) for n in numbers],  # +1 202-555-0191, not E.164
        "form": form,
        "billing_keep": licenses.upgrade_billing(keep_numbers=True, numbers=numbers),
        "billing_remove": licenses.upgrade_billing(keep_numbers=False, numbers=numbers),
    }
    return render(request, "agents/centers/upgrade.html", context)


@require_POST
@lead_center_people
def member_ranks(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """A member's skill ranks, one per call type (center admins; empty = no rank)."""
    center = center_for_request(request, pk)
    require(request.user, "edit_center_settings", center)
    membership = (
        CenterMembership.objects.filter(center=center, pk=member_pk).select_related("agent").first()
    )
    if membership is None:
        messages.error(request, "Choose a member of this center.")
        return redirect(center)
    typed = {t: request.POST.get(f"rank_{t.pk}", "") for t in selectors.call_types(center=center)}
    try:
        services.membership_set_ranks(membership=membership, ranks=typed)
    except ValidationError as error:
        _error(request, error)
    else:
        messages.success(request, f"Skill ranks of {membership.agent} saved.")
    return redirect(center)


@require_POST
@lead_center_people
def member_role(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    center = center_for_request(request, pk)
    require(request.user, "edit_center_settings", center)
    membership = CenterMembership.objects.filter(center=center, pk=member_pk).first()
    role = request.POST.get("role", "")
    if membership is not None and request.POST.get("remove"):
        services.center_remove_member(center=center, agent=membership.agent)
        messages.success(request, f"{membership.agent} removed from {center}.")
        return redirect(center)
    if membership is None or role not in Role.values:
        messages.error(request, "Choose a member and a role.")
        return redirect(center)
    services.membership_set_role(membership=membership, role=role)
    messages.success(request, f"{membership.agent} is now {Role(role).label} of {center}.")
    return redirect(center)


@lead_center_people
def center_settings(request: HttpRequest, pk: int) -> HttpResponse:
    center = center_for_request(request, pk)
    require(request.user, "edit_center_settings", center)
    if request.method == "POST" and request.POST.get("active") in ("0", "1"):
        return _set_active(request, center, active=request.POST["active"] == "1")
    # The form edits a copy: a refused name leaves the page's title and links as saved.
    form = CenterSettingsForm(_posted(request), instance=copy.copy(center))
    if request.method == "POST" and form.is_valid():
        try:
            services.center_update(center=form.instance, fields=form.changed_data)
        except ValidationError as error:
            form.add_error(None, error)  # keyed by field: shown next to it
        else:
            messages.success(request, "Settings saved.")
            return redirect(form.instance)
    return render(
        request,
        "agents/centers/settings.html",
        {"title": f"{center.name} — settings", "center": center, "form": form},
    )


def _set_active(request: HttpRequest, center, *, active: bool) -> HttpResponse:
    """The settings page's Deactivate / Reactivate button (center and company admins)."""
    services.center_set_active(center=center, active=active, actor=request.user)
    if active:
        messages.success(request, f"{center} is active again: it rings its members.")
    else:
        messages.success(
            request,
            f"{center} is deactivated: it rings nobody, takes no calls and is hidden from "
            "the lists. Its history is kept; reactivate it here.",
        )
    return redirect("centers:settings", pk=center.pk)


@lead_center_people
def center_suggest(request: HttpRequest, pk: int) -> JsonResponse:
    """Type-ahead for *add agent*: up to 10 of the company's people, not yet members, whose
    name or email contains ``q`` (center admins only; another company's center is a 404)."""
    center = center_for_request(request, pk)
    require(request.user, "edit_center_settings", center)
    term = request.GET.get("q", "")[:100]
    people = (
        selectors.addable_agents(center=center, term=term)[:10] if len(term.strip()) >= 2 else []
    )
    return JsonResponse(
        {"results": [{"id": p.pk, "name": p.full_name, "email": p.email} for p in people]}
    )


@lead_center_people
def my_devices(request: HttpRequest) -> HttpResponse:
    """The user's own devices (Ring this device), license and direct numbers."""
    user = request.user
    form = DeviceForm(request.POST) if request.POST.get("add") else DeviceForm()
    if request.method == "POST":
        device = Device.objects.filter(agent=user, pk=parse_pk(request.POST.get("device"))).first()
        if request.POST.get("add"):
            if form.is_valid():
                try:
                    devices.device_save(agent=user, **form.cleaned_data)
                except ValidationError as error:
                    _error(request, error)
                else:
                    messages.success(request, "Device added.")
                    return redirect("centers:my_devices")
        elif device is not None and request.POST.get("delete"):
            device.delete()
            messages.success(request, f"{device} removed.")
            return redirect("centers:my_devices")
        elif device is not None:
            # An unticked box sends nothing: its absence means "does not ring".
            devices.device_set_ring(device=device, ring=request.POST.get("ring") == "on")
            state = "rings" if device.ring else "does not ring"
            messages.success(request, f"{device} {state} now.")
            return redirect("centers:my_devices")
    license, numbers = selectors.agent_line(user)
    return render(
        request,
        "agents/centers/devices.html",
        {
            "title": "Your devices",
            "devices": selectors.agent_devices(agent=user),
            "form": form,
            "license": License(license).label,
            "numbers": [format_phone(n) for n in numbers],  # readable, not E.164
            "centers": CenterMembership.objects.filter(agent=user).select_related("center"),
            "back": reverse("landing"),
        },
    )
