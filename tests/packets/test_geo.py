"""The bundled gazetteer: every synthetic city, accent/case-insensitive matching, fallbacks."""

from __future__ import annotations

import csv
from importlib.resources import files

import pytest

from txflags.packets.geo import gazetteer, locate, normalise
from txflags.synthetic.cities import CITIES


def _rows() -> list[dict[str, str]]:
    text = files("txflags").joinpath("data/places.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@pytest.mark.parametrize("city", CITIES, ids=lambda c: c.name)
def test_every_synthetic_city_locates_exactly(city):
    found = locate(city.name, city.region, city.country)
    assert found is not None
    lat, lon, approximate = found
    assert approximate is False
    assert -90 <= lat <= 90 and -180 <= lon <= 180


def test_matching_ignores_case_accents_and_punctuation():
    assert locate("MEDELLÍN", "ant", "co") == locate("Medellin", "ANT", "CO")
    assert locate("ciudad juarez", None, "MX") == locate("Ciudad Juárez", "CHH", "MX")
    assert locate("st louis", "MO", "US") == locate("St. Louis", "MO", "US")
    assert normalise("  São   Paulo ") == "sao paulo"


def test_country_picks_between_homonyms():
    london_gb, london_ca = locate("London", None, "GB"), locate("London", "ON", "CA")
    assert london_gb is not None and london_ca is not None
    assert london_gb[:2] != london_ca[:2]
    assert london_gb[0] > 50 and london_ca[0] < 45


def test_unknown_city_falls_back_to_country_centroid_flagged_approximate():
    found = locate("Smallville", "KS", "US")
    assert found is not None
    lat, lon, approximate = found
    assert approximate is True
    assert 25 < lat < 50 and -125 < lon < -65


def test_country_only_and_lower_case_code():
    assert locate(None, None, "mx") == locate("", "", "MX")
    assert locate(None, None, "MX")[2] is True


def test_region_disagreement_is_flagged_approximate():
    found = locate("Portland", "ME", "US")
    assert found is not None and found[2] is True


def test_nothing_known_returns_none():
    assert locate("Atlantis", None, "ZZ") is None
    assert locate(None, None, None) is None
    assert locate("", "", "") is None


def test_table_shape_and_coverage():
    rows = _rows()
    assert set(rows[0]) == {"city", "region", "country", "lat", "lon"}
    for row in rows:
        lat, lon = float(row["lat"]), float(row["lon"])
        assert -90 <= lat <= 90 and -180 <= lon <= 180
        assert len(row["lat"].split(".")[-1]) <= 2 and len(row["lon"].split(".")[-1]) <= 2
        assert len(row["country"]) == 2 and row["country"].isupper()
    centroids = [r["country"] for r in rows if not r["city"]]
    assert len(centroids) == len(set(centroids)) >= 240
    cities = {(r["city"], r["country"]) for r in rows if r["city"]}
    assert len(cities) >= len(CITIES) + 150
    assert {r["country"] for r in rows if r["city"]} <= set(centroids)


def test_loaded_once():
    assert gazetteer() is gazetteer()
