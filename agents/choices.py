"""The agents' choices, shared by the models and the access table (which must not import
the models: ``Agent.save`` uses the access table)."""

from django.db import models


class AccessLevel(models.TextChoices):
    ADMIN = "admin", "Admin"
    SUPERVISOR = "supervisor", "Supervisor"
    AGENT = "agent", "Agent"
    LEADS_AGENT = "leads_agent", "Leads Agent"


class Presence(models.TextChoices):
    AVAILABLE = "available", "Available"
    AWAY = "away", "Away"
    OFFLINE = "offline", "Offline"
