"""Every domain exception, each with the kind of failure it is.

A kind says what went wrong in terms every way in understands: the CLI turns it into a BSD
sysexits code (`crm.cli.exits`), the web (later) into an HTTP status. No exception here knows
about either.
"""

from __future__ import annotations

import enum


class Kind(enum.Enum):
    """What kind of failure: the contract the ways in map to exit codes and statuses."""

    USAGE = "usage"  # the command was called wrongly (options that do not go together)
    DATA = "data"  # bad input data: a CSV row, a rule, a template, a date, a field value
    NO_INPUT = "no_input"  # the named file, contact, campaign … does not exist
    UNAVAILABLE = "unavailable"  # a service cannot be reached: SMTP, broker, database
    TEMPORARY = "temporary"  # try again later: a lock, a busy database
    CONFIG = "config"  # a setting (CRM_* variable, .env) is wrong
    SOFTWARE = "software"  # anything else


class CRMError(Exception):
    """Base class: a failure a person can read and act on."""

    kind = Kind.SOFTWARE


class UsageError(CRMError):
    """The command was called in a way that cannot work (conflicting or missing options)."""

    kind = Kind.USAGE


class ValidationError(CRMError):
    """Bad input from a person; ``where`` names the place (field, file:line, position)."""

    kind = Kind.DATA

    def __init__(self, message: str, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class NotFound(CRMError):
    """The named thing does not exist."""

    kind = Kind.NO_INPUT


class Conflict(CRMError):
    """The change would break a uniqueness rule (same email, same name …) or does not fit
    the current state (pausing a finished campaign)."""

    kind = Kind.DATA


class ImportFileError(CRMError):
    """The file as a whole cannot be read (encoding, no header, no email column …)."""

    kind = Kind.DATA


class ServiceUnavailable(CRMError):
    """A server the command needs cannot be reached (SMTP, broker, database); nothing was
    changed, the same command can be run again once it is up."""

    kind = Kind.UNAVAILABLE


class TemporaryFailure(CRMError):
    """Could not be done now (a lock held elsewhere, a busy database); try again later."""

    kind = Kind.TEMPORARY


class ConfigError(CRMError):
    """A setting is wrong; ``setting`` is the variable's name (CRM_…)."""

    kind = Kind.CONFIG

    def __init__(self, message: str, setting: str | None = None) -> None:
        self.setting = setting
        super().__init__(f"{setting}: {message}" if setting else message)
