"""Expiry from a message type's validity period (DAY, MONTH or YEAR), as in the contract."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta


def expiry(start: datetime, unit: str, amount: int) -> datetime:
    if unit == "DAY":
        return start + timedelta(days=amount)
    months = amount * (12 if unit == "YEAR" else 1) if unit in ("MONTH", "YEAR") else None
    if months is None:
        raise ValueError(f"unknown validity unit {unit!r}")
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)
