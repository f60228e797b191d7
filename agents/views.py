from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .forms import LimitedPasswordChangeForm
from .middleware import SESSION_KEY
from .models import AccessLevel
from .permissions import parse_pk
from .selectors import companies_for_user

START_PAGES = {
    AccessLevel.ADMIN: "admin:index",
    AccessLevel.SUPERVISOR: "workload",
    AccessLevel.AGENT: "contacts:lead_center",
    AccessLevel.LEADS_AGENT: "leads:report",
}


@login_required
def landing(request: HttpRequest) -> HttpResponse:
    """Send each access level to its own start page."""
    if request.user.is_superuser:
        return redirect("admin:index")
    return redirect(START_PAGES[request.user.access_level])


@require_POST
@login_required
def switch_company(request: HttpRequest) -> HttpResponse:
    picked = parse_pk(request.POST.get("company"))
    company = companies_for_user(request.user).filter(pk=picked).first() if picked else None
    if company is not None:
        request.session[SESSION_KEY] = company.pk
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("landing")
    return HttpResponseRedirect(target)


class PasswordChange(auth_views.PasswordChangeView):
    """Everyone changes their own password here (the admin's page is for staff only): the
    current one, then the new one twice, checked by the password validators. The session
    stays logged in; other sessions of the person end."""

    template_name = "registration/password_change_form.html"
    # Wrong current passwords are limited per person (axes only counts logins).
    form_class = LimitedPasswordChangeForm
    success_url = reverse_lazy("landing")
    extra_context = {"title": "Change your password"}

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password was changed.")
        return response
