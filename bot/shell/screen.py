"""Block Kit as readable terminal text, numbering everything a person could click or fill."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BARE_LINK = re.compile(r"<(https?://[^>]+)>")
_SPECIAL = re.compile(r"<!(\w+)(?:\|[^>]*)?>")
_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]+)>")


def slack_to_terminal(text: str) -> str:
    """How Slack would display mrkdwn: links and mentions resolved, entities unescaped."""
    text = _DATE.sub(r"\1", text)
    text = _MENTION.sub(r"@\1", text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _LINK.sub(r"\2 (\1)", text)
    text = _BARE_LINK.sub(r"\1", text)
    text = _SPECIAL.sub(r"@\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass
class Clickable:
    """One interactive element, with what the shell needs to send its block_actions."""

    number: int
    block_id: str
    element: dict[str, Any]
    option: dict[str, Any] | None
    source: dict[str, Any]  # {"kind": "message"|"ephemeral"|"view", ...}


@dataclass
class Field:
    """One input of an open modal."""

    number: int
    block_id: str
    label: str
    element: dict[str, Any]
    optional: bool


@dataclass
class Screen:
    lines: list[str] = field(default_factory=list)
    clickables: list[Clickable] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)


def _text(obj: Any) -> str:
    if isinstance(obj, dict):
        return slack_to_terminal(str(obj.get("text", "")))
    return slack_to_terminal(str(obj or ""))


def _rich_text(element: dict[str, Any]) -> str:
    parts: list[str] = []
    for child in element.get("elements", []):
        if "text" in child and isinstance(child["text"], str):
            parts.append(child["text"])
        elif child.get("type") == "user":
            parts.append("@" + child.get("user_id", ""))
        elif child.get("type") == "link":
            parts.append(child.get("text") or child.get("url", ""))
        elif "elements" in child:
            parts.append(_rich_text(child))
    return "".join(parts)


class BlockPrinter:
    """Renders blocks into a Screen, numbering clickables from `next_number`."""

    def __init__(self, next_number: int) -> None:
        self.next_number = next_number

    def _take(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number

    def render(
        self,
        blocks: list[dict[str, Any]],
        source: dict[str, Any],
        screen: Screen,
        indent: str = "  ",
    ) -> None:
        for block in blocks or []:
            kind = block.get("type")
            block_id = str(block.get("block_id", ""))
            if kind == "header":
                screen.lines.append(f"{indent}== {_text(block.get('text'))} ==")
            elif kind == "section":
                if block.get("text"):
                    for line in _text(block["text"]).splitlines() or [""]:
                        screen.lines.append(indent + line)
                for item in block.get("fields") or []:
                    screen.lines.append(indent + "  " + _text(item).replace("\n", " "))
                if block.get("accessory"):
                    self._element(block["accessory"], block_id, source, screen, indent + "  ")
            elif kind == "context":
                texts = [_text(e) for e in block.get("elements", []) if "text" in e]
                screen.lines.append(indent + "· " + "  ".join(texts))
            elif kind == "divider":
                screen.lines.append(indent + "─" * 40)
            elif kind == "actions":
                for element in block.get("elements", []):
                    self._element(element, block_id, source, screen, indent)
            elif kind == "input":
                self._input(block, screen, indent)
            elif kind == "image":
                screen.lines.append(f"{indent}[image: {block.get('alt_text', '')}]")
            elif kind == "rich_text":
                for element in block.get("elements", []):
                    screen.lines.append(indent + _rich_text(element))

    def _element(
        self,
        element: dict[str, Any],
        block_id: str,
        source: dict[str, Any],
        screen: Screen,
        indent: str,
    ) -> None:
        kind = element.get("type")
        if kind in ("checkboxes", "overflow", "static_select", "radio_buttons"):
            selected = {o.get("value") for o in element.get("initial_options") or []}
            for option in element.get("options", []):
                number = self._take()
                screen.clickables.append(Clickable(number, block_id, element, option, source))
                if kind == "checkboxes":
                    mark = "☑" if option.get("value") in selected else "☐"
                    label = _text(option.get("text"))
                    desc = _text(option.get("description")) if option.get("description") else ""
                    screen.lines.append(
                        f"{indent}[{number}] {mark} {label}" + (f"  ({desc})" if desc else "")
                    )
                else:
                    screen.lines.append(f"{indent}[{number}] ({kind}) {_text(option.get('text'))}")
            return
        number = self._take()
        screen.clickables.append(Clickable(number, block_id, element, None, source))
        label = _text(element.get("text")) or _text(element.get("placeholder")) or str(kind)
        hint = " — type: click N U123" if kind in ("users_select", "conversations_select") else ""
        screen.lines.append(f"{indent}[{number}] ({kind}) {label}{hint}")

    def _input(self, block: dict[str, Any], screen: Screen, indent: str) -> None:
        number = len(screen.fields) + 1
        element = block.get("element", {})
        label = _text(block.get("label"))
        screen.fields.append(
            Field(
                number, str(block.get("block_id", "")), label, element, bool(block.get("optional"))
            )
        )
        kind = element.get("type", "")
        current = describe_initial(element)
        required = "" if block.get("optional") else " *"
        screen.lines.append(f"{indent}{{{number}}} {label}{required} ({kind}){current}")
        if kind in ("static_select", "multi_static_select", "radio_buttons", "checkboxes"):
            values = [str(o.get("value")) for o in element.get("options", [])]
            if values:
                screen.lines.append(f"{indent}     options: {', '.join(values)}")


def describe_initial(element: dict[str, Any]) -> str:
    for key in ("initial_value", "initial_user", "initial_date"):
        if element.get(key):
            value = str(element[key])
            return f" = {value[:60]}{'…' if len(value) > 60 else ''}"
    if element.get("initial_option"):
        return f" = {element['initial_option'].get('value')}"
    if element.get("initial_options"):
        return " = " + ", ".join(str(o.get("value")) for o in element["initial_options"])
    return ""
