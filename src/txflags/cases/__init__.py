"""Cases (DESIGN §7): hits and scores gathered per subject and network, living across nights.

One path: ``links`` (money flows and shared identifiers between accounts) → ``assemble``
(connected groups around flagged accounts) → ``roles`` (who is who) → ``lifecycle`` (match to
the cases already in the store: new, continuing, suppressed, reopened) → ``records`` (the
store's case tables, written inside the scan's commit).
"""

from txflags.cases.assemble import CaseConfig, Group, assemble
from txflags.cases.links import links
from txflags.cases.roles import assign_roles

__all__ = ["CaseConfig", "Group", "assemble", "assign_roles", "links"]
