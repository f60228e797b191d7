"""Production settings pass Django's deployment checklist; the demo loader stays out of it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from agents.models import AccessLevel, Agent, Company
from contacts.models import Contact

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DEBUG": "0",
    "SECRET_KEY": "a-real-key-" + "x9$Lq2#vB7!mZ4^pR8&tW1*" * 3,
    "ALLOWED_HOSTS": "switchboard.example.com",
    "HTTPS": "1",
}


def test_check_deploy_is_clean_with_production_values():
    dev_only = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dev_only}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**env, **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_seed_demo_loads_the_demo_once_and_prints_logins(settings, capsys):
    settings.DEBUG = True
    # when it runs twice
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    second = capsys.readouterr().out
    # then the demo is there exactly once
    company = Company.objects.get(name="Northwind Realty")
    assert Contact.objects.filter(company=company).count() == 50
    assert company.agents.filter(access_level=AccessLevel.AGENT).count() == 5
    assert company.agents.count() == 8
    assert Agent.objects.get(email="leads@northwind.test").access_level == AccessLevel.LEADS_AGENT
    # every demo contact has its "created" history row
    assert all(c.timeline.count() == 1 for c in Contact.objects.filter(company=company)[:5])
    # and the logins are printed both times
    assert "admin@northwind.test" in first and "switchboard-demo" in first
    assert "0 people and 0 contacts added this time" in second


@pytest.mark.django_db
def test_seed_demo_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo")
    assert not Company.objects.exists()
    call_command("seed_demo", "--force")
    assert Company.objects.filter(name="Northwind Realty").exists()
