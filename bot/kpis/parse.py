"""Reading a KPI value as people type it: `42`, `42%`, `3.5d`, `1,250`, `$900`.

A suffix is accepted when it can only mean the KPI's own unit (or a duration convertible to
it: `2h` for a KPI in minutes is 120). Anything that could mean two things (`3,5`; `3m` —
minutes or months — for a KPI in days) or contradicts the unit (`42%` for NPS points) is
refused with a message saying what to type instead.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bot.errors import UserError
from bot.kpis.models import COMPUTED_KIND_UNITS, MANUAL_KIND
from bot.slack.mrkdwn import typed

# Far beyond any KPI a team tracks, well inside what every database and JSON reader keeps.
MAX_MAGNITUDE = 1e15
_NUMBER = re.compile(
    r"^(?P<pre>[$€£])?\s*(?P<num>[+-]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)"
    r"\s*(?P<suf>[^\d\s].*)?$"
)
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
NPS_KIND = "nps_30d"


@dataclass(frozen=True)
class Bounds:
    """The values a KPI can take (None: no bound on that side) and what it is, for the
    refusal: `a percentage`, `an NPS`, `set in the playbook`."""

    low: float | None
    high: float | None
    what: str

    def describe(self) -> str:
        def shown(number: float) -> str:
            return f"{number:g}"

        if self.low is not None and self.high is not None:
            return f"from {shown(self.low)} to {shown(self.high)}"
        if self.low is not None:
            return f"at least {shown(self.low)}"
        assert self.high is not None
        return f"at most {shown(self.high)}"


def value_bounds(
    *, unit: str, kind: str, min_value: float | None = None, max_value: float | None = None
) -> Bounds | None:
    """The bounds of a KPI's values and targets: NPS -100..100, percentages 0..100, other
    computed KPIs (counts, durations) never negative; the playbook's `min`/`max` replace
    the default on their side."""
    low: float | None = None
    high: float | None = None
    what = ""
    if kind == NPS_KIND:
        low, high, what = -100.0, 100.0, "an NPS"
    elif unit.strip().lower() in PERCENT:
        low, high, what = 0.0, 100.0, "a percentage"
    elif kind != MANUAL_KIND and kind in COMPUTED_KIND_UNITS:
        low, what = 0.0, f"a number of {COMPUTED_KIND_UNITS[kind]}"
    if min_value is not None or max_value is not None:
        what = "bounded in the playbook"
        low = min_value if min_value is not None else low
        high = max_value if max_value is not None else high
    if low is None and high is None:
        return None
    return Bounds(low, high, what)


PERCENT = frozenset({"%", "percent", "pct"})
# duration alias → minutes in one of it
_DURATIONS: dict[str, int] = {}
for _names, _minutes in (
    (("min", "mins", "minute", "minutes"), 1),
    (("h", "hr", "hrs", "hour", "hours"), 60),
    (("d", "day", "days"), 1440),
    (("w", "wk", "wks", "week", "weeks"), 10080),
):
    _DURATIONS.update(dict.fromkeys(_names, _minutes))
_CURRENCIES = {"$": ("$", "usd"), "€": ("€", "eur"), "£": ("£", "gbp")}


def _family(unit: str) -> tuple[str, int]:
    unit = unit.strip().lower()
    if unit in PERCENT:
        return "percent", 1
    if unit in _DURATIONS:
        return "duration", _DURATIONS[unit]
    if unit == "m":
        return "duration", 1
    return unit, 1


def split_value_and_note(words: str) -> tuple[str, str]:
    """(value, note) of what follows `/kpi log <kpi>`: the first word, with the unit when it
    was typed apart from the number (`27 %`, `3.5 days`), and the rest as the note."""
    value, *rest = words.split(maxsplit=1) or [""]
    unit, *note = rest[0].split(maxsplit=1) if rest else [""]
    if unit.lower() in PERCENT or unit.lower() in _DURATIONS:
        return value + unit, note[0] if note else ""
    return value, rest[0] if rest else ""


def parse_kpi_value(
    raw: str, *, unit: str, kpi_key: str, bounds: Bounds | None = None, example: str = ""
) -> float:
    """The number in `raw`, converted to `unit` and within `bounds`; `UserError` with an
    example otherwise. The one parser of KPI values: `/kpi log`, `/kpi target` and the
    *Log value* form all read numbers here."""
    value = _parse_number(raw, unit=unit, kpi_key=kpi_key, example=example)
    if bounds is None:
        return value
    too_low = bounds.low is not None and value < bounds.low
    too_high = bounds.high is not None and value > bounds.high
    if too_low or too_high:
        shown = typed(raw.strip(), 40)
        read = "" if f"{value:g}" == shown else f" is {value:g}, which"
        raise UserError(
            f"`{shown}`{read} is outside what {kpi_key} can be ({bounds.what}: "
            f"{bounds.describe()}).",
            example=example or f"/kpi log {kpi_key} 42",
        )
    return value


def _parse_number(raw: str, *, unit: str, kpi_key: str, example: str) -> float:
    text = raw.strip()
    shown = typed(text, 40)  # quoted back in every refusal below
    unit_text = unit or "plain numbers"
    example = example or f"/kpi log {kpi_key} 42"
    match = _NUMBER.match(text)
    if not match:
        raise UserError(f"`{shown}` is not a number.", example=example)
    number = match.group("num")
    if "," in number:
        if not _THOUSANDS.match(number):
            raise UserError(
                f"`{shown}` is ambiguous: use a dot for decimals (3.5) and no separators, "
                "or commas only between thousands (1,250).",
                example=example,
            )
        number = number.replace(",", "")
    value = float(number) + 0.0  # -0 is 0 (it was logged and shown as "-0%")
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        # `9` typed 400 times parses as inf: stored, it broke every chart and the JSON export.
        raise UserError(
            f"`{shown}` is too large for a KPI value (at most {MAX_MAGNITUDE:,.0f}).",
            example=example,
        )
    family, factor = _family(unit)
    prefix, suffix = match.group("pre"), (match.group("suf") or "").strip().lower()
    if prefix:
        if unit.strip().lower() not in _CURRENCIES[prefix] or suffix:
            raise UserError(
                f"`{shown}` is money, but {kpi_key} is measured in {unit_text}.", example=example
            )
        return value
    if not suffix or suffix == unit.strip().lower():
        return value
    if suffix in PERCENT:
        if family == "percent":
            return value
        raise UserError(
            f"`{shown}` is a percentage, but {kpi_key} is measured in {unit_text}; "
            "log the plain number.",
            example=example,
        )
    if suffix == "m" and family == "duration":
        if factor == 1:
            return value
        raise UserError(
            f"`{shown}` is ambiguous (minutes or months?); {kpi_key} is measured in {unit_text}.",
            example=f"/kpi log {kpi_key} 3.5",
        )
    if suffix in _DURATIONS:
        if family == "duration":
            return value * _DURATIONS[suffix] / factor
        raise UserError(
            f"`{shown}` is a duration, but {kpi_key} is measured in {unit_text}.", example=example
        )
    raise UserError(
        f"I don't know the unit `{typed(match.group('suf'), 20)}`; "
        f"{kpi_key} is measured in {unit_text}.",
        example=example,
    )
