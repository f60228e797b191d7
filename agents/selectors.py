from django.db.models import QuerySet

from .models import Agent, Company


def companies_for_user(user) -> QuerySet[Company]:
    """The companies a user may work in: all for superusers, else their memberships."""
    if not user.is_authenticated:
        return Company.objects.none()
    if user.is_superuser:
        return Company.objects.all()
    return user.companies.all()


def company_agents(*, company: Company, active_only: bool = True) -> QuerySet[Agent]:
    agents = Agent.objects.filter(companies=company)
    if active_only:
        agents = agents.filter(is_active=True)
    return agents.order_by("full_name", "email")
