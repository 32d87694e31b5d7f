"""The example team the playground opens on: the packaged playbook and the people it names.

`bot/playbook/example.yaml` is the repository's `playbook.example.yaml` (a link, so there is
one file), shipped as package data so an installed Opsloop has it too. Its people are the
user ids it mentions with a name comment (`owner: U05CSLEAD  # Dana Okafor, CS lead`), the
same convention `opsloop playbook export` writes; the playground answers `@dana` with them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bot.ids import USER_ID_PATTERN


def example_playbook_path() -> Path:
    """Where the packaged example playbook is on disk (an installed package is a folder)."""
    return Path(str(resources.files("bot.playbook").joinpath("example.yaml")))


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str  # "Dana Okafor"
    handle: str  # "dana": what `@dana` in the playground means


# `U05CSLEAD  # Dana Okafor, CS lead` → U05CSLEAD, "Dana Okafor"
_NAMED_ID = re.compile(rf"\b({USER_ID_PATTERN})\b\s*#\s*([^,#\n]+)")


def _plain(word: str) -> str:
    """`Tomás` → `tomas`: a handle typed without accents."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def people_in_playbook(text: str) -> list[Person]:
    """Everyone the playbook names in a comment after their user id, first mention first.

    The handle is the first name; when two people share one, both get `first.last`.
    """
    names: dict[str, str] = {}
    for match in _NAMED_ID.finditer(text):
        user_id, name = match.group(1), " ".join(match.group(2).split())
        if name and user_id not in names:
            names[user_id] = name
    firsts = [_plain(name.split()[0]) for name in names.values()]
    people = []
    for (user_id, name), first in zip(names.items(), firsts, strict=True):
        handle = first if firsts.count(first) == 1 else ".".join(map(_plain, name.split()))
        people.append(Person(user_id, name, handle))
    return people
