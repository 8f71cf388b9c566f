"""A nightly detect restricted to tonight's entities finds what the whole run finds for them.

``detect(report_from=..., focus=...)`` featurises only the focus accounts (plus what their
results read of other accounts), computes only the windows ending in the report days and reads
each typology's own span. None of that may change a focus account's hits.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import polars as pl
import pytest

from txflags import engine, spans
from txflags.catalogue import Catalogue, Typology, defaults, load_catalogue
from txflags.engine import detect

CAT = load_catalogue()


@pytest.fixture(autouse=True)
def _always_restrict(monkeypatch):
    """Restrict to the focus however many accounts it covers (the small data is busy)."""
    monkeypatch.setattr(engine, "FOCUS_MAX_SHARE", 1.0)


@pytest.fixture(scope="module")
def data(small):
    tx = pl.read_parquet(small / "transactions.parquet")
    acc = pl.read_parquet(small / "accounts.parquet")
    return tx, acc


def _active(tx: pl.DataFrame, since) -> pl.Series:
    return tx.filter(pl.col("ts").dt.date() >= since)["account_id"].unique()


@pytest.mark.parametrize("days_back", [0, 2, 12])
def test_focus_hits_equal_unrestricted(data, days_back):
    tx, acc = data
    report_from = tx["ts"].max().date() - timedelta(days=days_back)  # type: ignore[union-attr]
    focus = _active(tx, report_from)
    whole = detect(tx, acc, CAT, report_from=report_from).hits
    mine = detect(tx, acc, CAT, report_from=report_from, focus=focus).hits
    expected = whole.filter(pl.col("account_id").is_in(focus.implode()))
    assert expected.height > 0
    assert mine.equals(expected)


def _device_sharers() -> Catalogue:
    """A typology reading who shares a device, without earlier-stage hits (none shipped)."""
    doc = copy.deepcopy(CAT.get("network.shared_identifiers").doc)
    doc.update(id="network.device_sharers", depends_on=[], bands=[{"band": "medium",
               "reason": "shares a device"}], sentence="{account_id}: {device_sharers}")
    doc["detection"] = {
        "scope": "account",
        "measures": {"device_sharers": {"feature": "shared_identifier_count",
                                        "args": {"kind": "device_id"}}},
        "where": [{"measure": "device_sharers", "op": ">=", "value": 2}],
    }
    return Catalogue({doc["id"]: Typology(doc, None, defaults(doc))})


#: catalogues reading other accounts in one way each, or not at all
SUBSETS = {
    "own rows only": CAT.subset([t.id for t in CAT if not t.depends_on
                                 and not spans.network_keys(t)
                                 and not spans.uses(t, spans.DEVICE_SHARING_FEATURES)]),
    "hub degrees": CAT.subset([t.id for t in CAT if spans.network_keys(t) and not t.depends_on]),
    "device sharers": _device_sharers(),
    "identifier sharers": CAT.subset(["network.shared_identifiers"]),
    "counterparty hits": CAT.subset(["funnel.pays_flagged_collection"]),
}


@pytest.mark.parametrize("name", sorted(SUBSETS))
def test_focus_hits_equal_unrestricted_per_catalogue(data, name):
    """A catalogue's focus context holds what its own typologies read of other accounts (none,
    for typologies reading each account's own rows only)."""
    tx, acc = data
    cat = SUBSETS[name]
    report_from = tx["ts"].max().date() - timedelta(days=12)  # type: ignore[union-attr]
    focus = _active(tx, report_from).sort().gather_every(3)  # others read across the focus
    whole = detect(tx, acc, cat, report_from=report_from).hits
    mine = detect(tx, acc, cat, report_from=report_from, focus=focus).hits
    expected = whole.filter(pl.col("account_id").is_in(focus.implode()))
    assert expected.height > 0
    assert mine.equals(expected)


def test_windows_ending_tonight_equal_rolling(data, monkeypatch):
    tx, acc = data
    report_from = tx["ts"].max().date() - timedelta(days=1)  # type: ignore[union-attr]
    direct = detect(tx, acc, CAT, report_from=report_from).hits
    monkeypatch.setattr(engine, "ENDS_ONLY_MAX_DAYS", 0)  # every window by rolling
    rolling = detect(tx, acc, CAT, report_from=report_from).hits
    assert direct.height > 0 and direct.equals(rolling)


def test_spans_cover_what_the_windows_read(data, monkeypatch):
    """Reading only each typology's span finds what reading all the history finds (on data
    where no feature looks further back than its span)."""
    tx, acc = data
    report_from = tx["ts"].max().date() - timedelta(days=3)  # type: ignore[union-attr]
    by_span = detect(tx, acc, CAT, report_from=report_from).hits
    monkeypatch.setattr(engine, "span_days", lambda t: None)
    everything = detect(tx, acc, CAT, report_from=report_from).hits
    assert by_span.equals(everything)


def test_focused_streaming_equals_in_memory(data):
    tx, acc = data
    report_from = tx["ts"].max().date()  # type: ignore[union-attr]
    focus = _active(tx, report_from)
    a = detect(tx, acc, CAT, report_from=report_from, focus=focus, engine="in-memory").hits
    b = detect(tx, acc, CAT, report_from=report_from, focus=focus, engine="streaming").hits
    assert a.equals(b)


def test_span_days_follow_windows_and_context():
    get = CAT.get
    assert spans.span_days(get("cash.structuring")) == 10 - 1  # window only
    # key_degree counts hubs over its own window before the typology's window
    assert spans.span_days(get("remittance.shared_beneficiary")) == 90 - 1 + 90
    # prev_match_lag_h: as far back as the threshold it is compared with (hours -> days + 1)
    p2p = get("funnel.many_new_p2p_payers")
    assert spans.span_days(p2p) >= 30 - 1 + p2p.params["no_payroll_days"]
    assert spans.span_days(get("kyc.staff_observed")) is None  # account scope: all rows read
    assert spans.lookback_days(CAT) == 365


def test_a_feature_default_column_counts_only_when_left_unset():
    """Every forwarded_share in the catalogue names its own lag and amount columns, so the
    default next-outflow columns (an as-of join over every row) are not built; a typology
    leaving ``lag`` unset reads the default."""
    from copy import deepcopy
    from dataclasses import replace

    from txflags.features.context import FWD_COLUMNS

    assert not set(FWD_COLUMNS) & spans.needed_columns(list(CAT))
    t = CAT.get("funnel.pass_through_sweep")
    doc = deepcopy(t.doc)
    del doc["detection"]["measures"]["forward_share"]["args"]["lag"]
    assert "fwd_lag_h" in spans.needed_columns([replace(t, doc=doc)])
