"""Cities where customers live and events happen, with IANA zones, and the currency rate table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

#: Fixed USD rates used for ``amount_usd`` (amount × rate).
USD_RATES: dict[str, float] = {
    "USD": 1.0,
    "EUR": 1.08,
    "GBP": 1.27,
    "CAD": 0.73,
    "PHP": 0.0175,
    "MXN": 0.055,
}


@dataclass(frozen=True)
class City:
    name: str
    region: str
    country: str
    tz: str
    currency: str
    weight: float  # share of residents (0: a travel destination only)


CITIES: tuple[City, ...] = (
    City("New York", "NY", "US", "America/New_York", "USD", 9.0),
    City("Los Angeles", "CA", "US", "America/Los_Angeles", "USD", 7.0),
    City("Chicago", "IL", "US", "America/Chicago", "USD", 5.0),
    City("Houston", "TX", "US", "America/Chicago", "USD", 4.5),
    City("Phoenix", "AZ", "US", "America/Phoenix", "USD", 3.5),
    City("Philadelphia", "PA", "US", "America/New_York", "USD", 3.0),
    City("San Antonio", "TX", "US", "America/Chicago", "USD", 2.5),
    City("San Diego", "CA", "US", "America/Los_Angeles", "USD", 2.5),
    City("Dallas", "TX", "US", "America/Chicago", "USD", 3.0),
    City("Jacksonville", "FL", "US", "America/New_York", "USD", 2.0),
    City("Atlanta", "GA", "US", "America/New_York", "USD", 3.0),
    City("Miami", "FL", "US", "America/New_York", "USD", 3.0),
    City("Las Vegas", "NV", "US", "America/Los_Angeles", "USD", 2.0),
    City("Denver", "CO", "US", "America/Denver", "USD", 2.0),
    City("Seattle", "WA", "US", "America/Los_Angeles", "USD", 2.0),
    City("Portland", "OR", "US", "America/Los_Angeles", "USD", 1.5),
    City("Minneapolis", "MN", "US", "America/Chicago", "USD", 1.5),
    City("Detroit", "MI", "US", "America/Detroit", "USD", 1.5),
    City("Nashville", "TN", "US", "America/Chicago", "USD", 1.5),
    City("Charlotte", "NC", "US", "America/New_York", "USD", 1.5),
    City("New Orleans", "LA", "US", "America/Chicago", "USD", 1.0),
    City("Baltimore", "MD", "US", "America/New_York", "USD", 1.0),
    City("Boston", "MA", "US", "America/New_York", "USD", 2.0),
    City("Oklahoma City", "OK", "US", "America/Chicago", "USD", 1.0),
    City("Honolulu", "HI", "US", "Pacific/Honolulu", "USD", 0.7),
    City("Anchorage", "AK", "US", "America/Anchorage", "USD", 0.4),
    City("Toronto", "ON", "CA", "America/Toronto", "CAD", 2.0),
    City("Vancouver", "BC", "CA", "America/Vancouver", "CAD", 1.2),
    City("London", "ENG", "GB", "Europe/London", "GBP", 1.5),
    City("Dublin", "L", "IE", "Europe/Dublin", "EUR", 0.6),
    City("Manila", "NCR", "PH", "Asia/Manila", "PHP", 0.5),
    City("Tijuana", "BCN", "MX", "America/Tijuana", "MXN", 0.5),
    City("Bangkok", "10", "TH", "Asia/Bangkok", "USD", 0.0),
    City("Santo Domingo", "01", "DO", "America/Santo_Domingo", "USD", 0.0),
    City("Medellin", "ANT", "CO", "America/Bogota", "USD", 0.0),
)

N_CITIES = len(CITIES)
NAMES = [c.name for c in CITIES]
REGIONS = [c.region for c in CITIES]
COUNTRIES = [c.country for c in CITIES]
CURRENCIES = [c.currency for c in CITIES]
RESIDENT_WEIGHTS = np.array([c.weight for c in CITIES]) / sum(c.weight for c in CITIES)
US_CITIES = np.array([i for i, c in enumerate(CITIES) if c.country == "US"])


def city_index(name: str) -> int:
    """Index of a city by name."""
    return NAMES.index(name)


@lru_cache(maxsize=8)
def utc_offsets(start: date, days: int) -> np.ndarray:
    """UTC offset in seconds of every city at local noon of every day, shape (cities, days + 2).

    Column 0 is the day before ``start`` so that events spilling a little outside the period
    still convert; the last column is the day after the period.
    """
    out = np.zeros((N_CITIES, days + 2), dtype=np.int64)
    for i, c in enumerate(CITIES):
        z = ZoneInfo(c.tz)
        for d in range(days + 2):
            day = start + timedelta(days=d - 1)
            off = datetime.combine(day, time(12), tzinfo=z).utcoffset()
            out[i, d] = int(off.total_seconds()) if off is not None else 0
    return out
