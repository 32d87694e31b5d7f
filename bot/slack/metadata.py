"""A modal's `private_metadata`: what Opsloop wrote into a view, read back when it is
submitted. Slack hands it back untouched, but the payload is the client's to forge, so it
is validated like any input: missing or malformed reads as None, never a traceback."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError


class ModalMetadata(BaseModel):
    """Subclass with the fields (bounded, so a forged value never reaches a query)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def load(cls, raw: str | None) -> Self | None:
        """The metadata of a submitted view, or None when it is missing or malformed."""
        try:
            return cls.model_validate_json(raw or "")
        except ValidationError:
            return None
