"""Every domain exception. None of them knows about HTTP statuses or exit codes."""

from __future__ import annotations


class CRMError(Exception):
    """Base class: a failure a person can read and act on."""


class ValidationError(CRMError):
    """Bad input from a person; ``where`` names the place (field, file:line, position)."""

    def __init__(self, message: str, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class NotFound(CRMError):
    """The named thing does not exist."""


class Conflict(CRMError):
    """The change would break a uniqueness rule (same email, same name …)."""


class ImportFileError(CRMError):
    """The file as a whole cannot be read (encoding, no header, no email column …)."""
