"""User-facing errors: the CLI prints their message on one line, no traceback."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix (bad argument, bad file, unreachable warehouse).

    ``exit_code`` is what ``kpis`` exits with: 2 for configuration and usage errors.
    """

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class WarehouseUnavailable(UserError):
    """The configured warehouse cannot be reached or does not exist yet."""
