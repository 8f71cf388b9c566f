"""Every typology's fixture is its spec: one test per typology."""

import pytest

from txflags.catalogue import load_catalogue
from txflags.fixtures import run_fixture

CAT = load_catalogue()


@pytest.mark.parametrize("tid", sorted(t.id for t in CAT))
def test_fixture(tid):
    r = run_fixture(CAT.get(tid), CAT)
    assert r.passed, r.error or r.diff


def test_catalogue_size_and_victim_roles():
    assert len(CAT) >= 35
    victim_side = ["lifestyle.upkeep_basket", "lodging.motel_stacking",
                   "lodging.same_day_multiple_bookings", "funnel.pass_through_sweep",
                   "kyc.staff_observed", "kyc.young_third_party", "remittance.wages_sent_on",
                   "remittance.sextortion_bursts"]
    for tid in victim_side:
        assert CAT.get(tid).roles[0] == "victim", tid
