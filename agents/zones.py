"""A company's time zone, read the same way everywhere (pages, emails, rules, centers)."""

import zoneinfo
from datetime import datetime

from django.utils import timezone

UTC = zoneinfo.ZoneInfo("UTC")


def zone_of(time_zone: str) -> zoneinfo.ZoneInfo:
    """The zone named ``time_zone``; UTC for a name this machine does not know."""
    try:
        return zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def local(moment: datetime, time_zone: str) -> datetime:
    """``moment`` in the zone named ``time_zone``."""
    return timezone.localtime(moment, zone_of(time_zone))
