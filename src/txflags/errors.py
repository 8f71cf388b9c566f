"""Errors a user can act on. The CLI turns them into a message and exit code 2."""


class TxflagsError(Exception):
    """Base class for txflags errors."""


class InputError(TxflagsError):
    """Bad input or usage: a file, mapping or option the user must fix (exit code 2)."""


class CheckFailed(TxflagsError):
    """A check ran and failed, e.g. a typology fixture (exit code 1)."""
