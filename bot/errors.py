"""Errors a user can act on. Anything else is a bug, logged with an id the user is shown."""

from __future__ import annotations

# Re-exported so listeners can name the database failure without importing storage.
from storage.errors import DatabaseUnavailableError as DatabaseUnavailableError


class UserError(Exception):
    """Bad input or a refused action: shown to the user as an ephemeral message.

    `message` says what was wrong; `example` (optional) shows a correct use.
    """

    def __init__(self, message: str, *, example: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.example = example

    def user_text(self) -> str:
        if self.example:
            return f"{self.message}\nExample: `{self.example}`"
        return self.message


class NotFoundError(UserError):
    """The thing the user referred to does not exist (or belongs to another team)."""


class PermissionDeniedError(UserError):
    """The user may not do this; the message explains who may."""


class StorageUnavailableError(UserError):
    """The database did not answer; nothing was stored and the user should retry."""

    def __init__(self) -> None:
        super().__init__(
            "Opsloop could not reach its database, so nothing was saved. "
            "Please try again in a minute; if it keeps failing, tell your Opsloop admin."
        )
