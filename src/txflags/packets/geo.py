"""A small bundled gazetteer for the packet map (``data/places.csv``).

The table holds the cities of the synthetic generator, a few hundred large cities and one row
per ISO 3166 alpha-2 country (empty city: an approximate centroid). Coordinates are rounded to
two decimals: good enough for a plot, not a geocoder. Matching ignores case, accents and
punctuation; when the city is unknown the country centroid is returned, flagged approximate.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

#: (lat, lon, approximate?) as returned by :func:`locate`.
Point = tuple[float, float, bool]


@dataclass(frozen=True)
class Place:
    city: str
    region: str
    country: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Gazetteer:
    by_city: dict[str, tuple[Place, ...]]  # normalised city -> places, in file order
    by_country: dict[str, Place]  # alpha-2 (upper case) -> centroid row


def normalise(text: str | None) -> str:
    """Case-, accent- and punctuation-insensitive key: 'Ciudad Juárez' -> 'ciudad juarez'."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = "".join(ch if ch.isalnum() else " " for ch in bare.casefold())
    return " ".join(words.split())


def _read_places() -> list[Place]:
    text = files("txflags").joinpath("data/places.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return [
        Place(r["city"], r["region"], r["country"].upper(), float(r["lat"]), float(r["lon"]))
        for r in rows
    ]


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The bundled table, read once."""
    by_city: dict[str, list[Place]] = {}
    by_country: dict[str, Place] = {}
    for place in _read_places():
        if place.city:
            by_city.setdefault(normalise(place.city), []).append(place)
        else:
            by_country.setdefault(place.country, place)
    return Gazetteer({k: tuple(v) for k, v in by_city.items()}, by_country)


def _pick(candidates: tuple[Place, ...], region: str, country: str) -> tuple[Place, bool] | None:
    """The best city row for the region/country given, and whether the match is approximate."""
    if country:
        candidates = tuple(p for p in candidates if p.country == country)
    if not candidates:
        return None
    if region:
        for place in candidates:
            if normalise(place.region) == region:
                return place, False
        # Only rows without a region can be trusted when the region disagrees.
        for place in candidates:
            if not place.region:
                return place, False
        return candidates[0], True
    return candidates[0], False


def locate(
    city: str | None, region: str | None = None, country: str | None = None
) -> Point | None:
    """(lat, lon, approximate?) of a place, the country centroid as a fallback, else None."""
    table = gazetteer()
    country_key = normalise(country).upper().replace(" ", "")
    found = _pick(table.by_city.get(normalise(city), ()), normalise(region), country_key)
    if found is not None:
        place, approximate = found
        return place.lat, place.lon, approximate
    centroid = table.by_country.get(country_key)
    if centroid is not None:
        return centroid.lat, centroid.lon, True
    return None
