"""Network/controller and identity/KYC injectors (HT-NET-01…05, HT-KYC-01, 03, 04).

Account-level indicators (shared identifiers, devices, staff flags, reused ids) change the
population's KYC attributes; their rows are the members' ordinary online activity.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from txflags.synthetic import catalog as cat
from txflags.synthetic.schemes.base import Inst, set_age


def shared_identifiers(inst: Inst, members: list[int], owner: int) -> None:
    """Members use the owner's phone and address (no family link)."""
    pop = inst.pop
    for m in members:
        pop.phone[m] = pop.phone[owner]
        pop.address[m] = pop.address[owner]
        pop.city[m] = pop.city[owner]
    for m in [owner, *members]:
        inst.flag(m, "network.shared_identifiers")


def shared_device(inst: Inst, members: list[int], owner: int) -> None:
    """One device (the owner's) logs into every member's online banking."""
    pop = inst.pop
    if pop.device[owner] is None:
        pop.device[owner] = f"dev-{inst.id}"
    for m in members:
        pop.device[m] = pop.device[owner]
        pop.ip[m] = pop.ip[owner]
    for m in [owner, *members]:
        inst.flag(m, "network.shared_device")
        # HT-NET-01 counts a shared device among the shared identifiers
        inst.flag(m, "network.shared_identifiers")


def linked_venues(inst: Inst, businesses: list[int], owner: int) -> None:
    """Massage/spa businesses sharing the owner's phone and one registered address."""
    pop = inst.pop
    for b in businesses[1:]:
        pop.address[b] = pop.address[businesses[0]]
    for b in businesses:
        pop.phone[b] = pop.phone[owner]
        inst.flag(b, "network.linked_venues")
    inst.flag(owner, "network.linked_venues")  # the owner's phone is what links them


def recruitment_agency(inst: Inst, biz: int, people: int) -> None:
    """Payments to recruitment agencies with visa fees for several people."""
    n = max(2, int(round(2 * inst.days / 90)))
    names, mcc = cat.pick(inst.rng, cat.RECRUIT, n)
    inst.add(
        biz,
        "network.recruitment_agency",
        inst.when(n, "office"),
        "out",
        np.round(inst.rng.uniform(900, 2500, n) * people / 3, 2),
        "card",
        mcc=mcc,
        merchant=names,
        memo=pl.Series([f"visa + recruitment fees x{people}"] * n),
        online=True,
        place=False,
    )


def staff_observed(inst: Inst, c: int) -> None:
    """Branch staff recorded a third party speaking for or controlling the customer."""
    k = int(inst.rng.integers(1, 3))
    flags = inst.rng.choice(len(cat.STAFF_FLAGS), k, replace=False)
    inst.pop.staff_flags[c] = ";".join(cat.STAFF_FLAGS[i] for i in sorted(flags))
    inst.flag(c, "kyc.staff_observed")


def young(inst: Inst, c: int, lo: float = 18.0, hi: float = 20.9) -> None:
    set_age(inst.ctx, c, lo, hi, inst.rng)


def reused_id(inst: Inst, controller: int, other: int) -> None:
    """The controller's identity document also opened another person's account."""
    inst.pop.id_number[other] = inst.pop.id_number[controller]
    inst.flag(controller, "kyc.reused_id")


def recent_account(inst: Inst, c: int) -> None:
    t0 = inst.ctx.start.toordinal() - 719163
    inst.pop.opened[c] = t0 - int(inst.rng.integers(20, 150))
