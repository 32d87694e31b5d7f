"""KPIs: log a value, show a KPI's last weeks against its target, list them all.

Status against target (also used by the digest and App Home):
- *on track*: the value meets the target (≥ for higher-is-better, ≤ for lower-is-better);
- *at risk*: it misses the target by at most 10% of the target (`AT_RISK_MARGIN`);
- *off track*: it misses by more; *no data* without a value, *no target* without a target.
A week's value of a manual KPI is the last value logged in that week (team timezone); a
computed KPI's is computed from the records of that week.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.errors import NotFoundError, PermissionDeniedError, UserError
from bot.kpis.compute import compute_kpi
from bot.kpis.models import (
    MANUAL_KIND,
    SHOW_MONTHS,
    SHOW_WEEKS,
    KpiInfo,
    KpiReport,
    LogForm,
    LoggedValue,
    Measurement,
    WeekValue,
    kpi_status,
)
from bot.kpis.parse import Bounds, parse_kpi_value, value_bounds
from bot.org.service import resolve_owner
from bot.periods import MONTHLY, last_periods, period_bounds, period_of
from bot.slack.mrkdwn import typed, user_ref
from bot.text import closest_keys, did_you_mean, storable
from storage import kpis as kpi_store
from storage import org
from storage.core import add_audit_entry
from storage.db import SessionFactory, transaction
from storage.models.kpis import Kpi


class ReplaceNotConfirmedError(UserError):
    """The period already has a value and replacing it was not confirmed (the form asks)."""

    def __init__(self, kpi: KpiInfo, period: str, current: Measurement) -> None:
        super().__init__(
            f"{kpi.name} already has a value for {period}; tick *Replace* to replace it."
        )
        self.kpi = kpi
        self.period = period
        self.current = current


def kpi_info(session: Session, kpi: Kpi) -> KpiInfo:
    """The plain-data view of a KPI row, with its owner resolved."""
    return KpiInfo(
        key=kpi.key,
        name=kpi.name,
        description=kpi.description,
        unit=kpi.unit,
        target=kpi.target,
        direction=kpi.direction,
        owner_ref=kpi.owner_ref,
        owner_id=resolve_owner(session, team_id=kpi.team_id, owner_ref=kpi.owner_ref),
        kind=kpi.kind,
        cadence=kpi.cadence,
        min_value=kpi.min_value,
        max_value=kpi.max_value,
    )


def bounds_of(info: KpiInfo) -> Bounds | None:
    """The values this KPI (and its target) can take."""
    return value_bounds(
        unit=info.unit, kind=info.kind, min_value=info.min_value, max_value=info.max_value
    )


def find_kpi(session: Session, *, team_id: str, ref: str) -> Kpi:
    """A KPI by key or name (any case); `NotFoundError` suggesting the closest names."""
    wanted = ref.strip().lower()
    every = kpi_store.list_kpis(session, team_id=team_id)
    for kpi in every:
        if wanted in (kpi.key.lower(), kpi.name.lower()):
            return kpi
    if not every:
        raise NotFoundError("There are no KPIs yet: an admin defines them in the playbook.")
    names = {kpi.key.lower(): kpi.key for kpi in every} | {
        kpi.name.lower(): kpi.key for kpi in every
    }
    keys = closest_keys(wanted, names)
    hint = did_you_mean(keys)
    known = ", ".join(kpi.key for kpi in every)
    raise NotFoundError(
        f"There is no KPI called `{typed(ref)}`.{hint} KPIs: {known}.",
        example=f"/kpi show {keys[0] if keys else every[0].key}",
    )


def week_value(
    session: Session, *, kpi: Kpi, week: str, tz: str, as_of: datetime | None = None
) -> float | None:
    """A KPI's value for one ISO week — or month (`2026-11`), for a monthly KPI — in `tz`
    (None: no data).

    A computed KPI of a period still running is computed up to `as_of`, not to the
    period's end: an SLA due later this week is not breached yet.
    """
    start, end = period_bounds(week, tz)
    if kpi.kind != MANUAL_KIND:
        if as_of is not None and start < as_of < end:
            end = as_of
        return compute_kpi(session, kind=kpi.kind, team_id=kpi.team_id, start=start, end=end)
    values = kpi_store.list_measurements(session, kpi_id=kpi.id, start=start, end=end)
    return values[-1].value if values else None


def week_entry(
    session: Session, *, kpi: Kpi, week: str, tz: str, as_of: datetime | None = None
) -> WeekValue:
    """`week_value` with the note logged with that value (manual KPIs); `week` may be a
    month (`2026-11`) for a monthly KPI."""
    if kpi.kind != MANUAL_KIND:
        return WeekValue(week, week_value(session, kpi=kpi, week=week, tz=tz, as_of=as_of))
    start, end = period_bounds(week, tz)
    values = kpi_store.list_measurements(session, kpi_id=kpi.id, start=start, end=end)
    if not values:
        return WeekValue(week, None)
    return WeekValue(week, values[-1].value, values[-1].note or "")


def _report(
    session: Session,
    kpi: Kpi,
    *,
    now: datetime,
    tz: str,
    weeks: int,
    as_of: datetime | None = None,
    months: int | None = None,
) -> KpiReport:
    info = kpi_info(session, kpi)
    as_of = as_of or now
    count = months if info.cadence == MONTHLY and months is not None else weeks
    series = tuple(
        week_entry(session, kpi=kpi, week=period, tz=tz, as_of=as_of)
        for period in last_periods(period_of(now, tz, info.cadence), count)
    )
    current = series[-1] if series[-1].value is not None or len(series) < 2 else series[-2]
    return KpiReport(info, series, current, kpi_status(current.value, info.target, info.direction))


def show_kpi(
    sessions: SessionFactory, *, team_id: str, kpi_ref: str, now: datetime, tz: str
) -> KpiReport:
    """One KPI over the last 8 weeks (6 months for a monthly KPI), with its current status
    against target.

    One period more is read than the table shows: when this one has no value yet, the
    chart ends at the last and still shows 8 (the same chart the digest uploaded)."""
    with transaction(sessions) as session:
        kpi = find_kpi(session, team_id=team_id, ref=kpi_ref)
        return _report(session, kpi, now=now, tz=tz, weeks=SHOW_WEEKS + 1, months=SHOW_MONTHS + 1)


def list_kpi_reports(
    sessions: SessionFactory,
    *,
    team_id: str,
    now: datetime,
    tz: str,
    weeks: int = 2,
    as_of: datetime | None = None,
) -> list[KpiReport]:
    """Every KPI with the value and status of the week of `now` and the weeks before.

    `as_of` (default `now`) is the moment the data is read at; the digest asks for a past
    week (`now` inside it) as of the real present.
    """
    with transaction(sessions) as session:
        return [
            _report(session, kpi, now=now, tz=tz, weeks=weeks, as_of=as_of)
            for kpi in kpi_store.list_kpis(session, team_id=team_id)
        ]


def _may_change(session: Session, *, team_id: str, user_id: str, info: KpiInfo) -> bool:
    return info.owner_id == user_id or org.is_admin(session, team_id=team_id, user_id=user_id)


def log_kpi_value(
    sessions: SessionFactory,
    *,
    team_id: str,
    user_id: str,
    kpi_ref: str,
    raw_value: str,
    note: str,
    now: datetime,
    tz: str,
    replace: bool = True,
) -> LoggedValue:
    """Record this period's value (the week's, or the month's for a monthly KPI) of a manual
    KPI, by its owner or an admin. A value already logged for the period is replaced (the
    result names it; the earlier row is kept) — unless `replace` is False, when
    `ReplaceNotConfirmedError` says so and nothing is stored."""
    with transaction(sessions) as session:
        kpi = find_kpi(session, team_id=team_id, ref=kpi_ref)
        info = _loggable(session, team_id=team_id, user_id=user_id, kpi=kpi)
        value = parse_kpi_value(raw_value, unit=info.unit, kpi_key=info.key, bounds=bounds_of(info))
        period = period_of(now, tz, info.cadence)
        current = _current_measurement(session, kpi=kpi, period=period, tz=tz)
        if current is not None and not replace:
            raise ReplaceNotConfirmedError(info, period, current)
        kpi_store.add_measurement(
            session, kpi=kpi, value=value, at=now, by_id=user_id, note=storable(note)
        )
        if current is not None:
            add_audit_entry(
                session,
                team_id=team_id,
                actor_id=user_id,
                action="kpi.value_replaced",
                subject=kpi.key,
                at=now,
                detail={"period": period, "from": current.value, "to": value},
            )
        status = kpi_status(value, info.target, info.direction)
        return LoggedValue(info, value, period, status, replaced=current)


def get_log_form(
    sessions: SessionFactory, *, team_id: str, user_id: str, kpi_ref: str, now: datetime, tz: str
) -> LogForm:
    """What the *Log value* form shows, if `user_id` may log this KPI's value."""
    with transaction(sessions) as session:
        kpi = find_kpi(session, team_id=team_id, ref=kpi_ref)
        info = _loggable(session, team_id=team_id, user_id=user_id, kpi=kpi)
        period = period_of(now, tz, info.cadence)
        return LogForm(info, period, _current_measurement(session, kpi=kpi, period=period, tz=tz))


def _loggable(session: Session, *, team_id: str, user_id: str, kpi: Kpi) -> KpiInfo:
    info = kpi_info(session, kpi)
    if not info.is_manual:
        raise UserError(
            f"{info.name} is computed by Opsloop from its records ({info.kind}); "
            "there is nothing to log.",
            example=f"/kpi show {info.key}",
        )
    if not _may_change(session, team_id=team_id, user_id=user_id, info=info):
        owner = f"{user_ref(info.owner_id)}" if info.owner_id else "nobody yet"
        raise PermissionDeniedError(
            f"Only the owner of {info.name} ({owner}) or an Opsloop admin can log its value."
        )
    return info


def _current_measurement(session: Session, *, kpi: Kpi, period: str, tz: str) -> Measurement | None:
    """The value that counts for `period` so far: the last one logged in it."""
    start, end = period_bounds(period, tz)
    values = kpi_store.list_measurements(session, kpi_id=kpi.id, start=start, end=end)
    if not values:
        return None
    last = values[-1]
    return Measurement(value=last.value, by_id=last.by_id, at=last.at, note=last.note)


def set_kpi_target(
    sessions: SessionFactory,
    *,
    team_id: str,
    user_id: str,
    kpi_ref: str,
    raw_value: str,
    now: datetime,
) -> KpiInfo:
    """Change a KPI's target (admins only); audited."""
    with transaction(sessions) as session:
        kpi = find_kpi(session, team_id=team_id, ref=kpi_ref)
        if not org.is_admin(session, team_id=team_id, user_id=user_id):
            raise PermissionDeniedError("Only Opsloop admins can change KPI targets.")
        target = parse_kpi_value(
            raw_value,
            unit=kpi.unit,
            kpi_key=kpi.key,
            bounds=bounds_of(kpi_info(session, kpi)),
            example=f"/kpi target {kpi.key} 40",
        )
        previous, kpi.target = kpi.target, target
        add_audit_entry(
            session,
            team_id=team_id,
            actor_id=user_id,
            action="kpi.target_changed",
            subject=kpi.key,
            at=now,
            detail={"from": previous, "to": target},
        )
        return kpi_info(session, kpi)


KPI_EXPORT_COLUMNS = [
    "team_id",
    "kpi_key",
    "kpi_name",
    "kind",
    "cadence",
    "unit",
    "target",
    "direction",
    "owner",
    "measured_at",
    "value",
    "logged_by",
    "note",
]


def export_kpi_rows(
    sessions: SessionFactory, *, team_id: str | None, since: datetime | None
) -> list[dict[str, object]]:
    """One row per measurement with its KPI's definition; a KPI without any gets one row."""
    with transaction(sessions) as session:
        return [
            {
                "team_id": kpi.team_id,
                "kpi_key": kpi.key,
                "kpi_name": kpi.name,
                "kind": kpi.kind,
                "cadence": kpi.cadence,
                "unit": kpi.unit,
                "target": kpi.target,
                "direction": kpi.direction,
                "owner": kpi.owner_ref,
                "measured_at": m.at if m else None,
                "value": m.value if m else None,
                "logged_by": m.by_id if m else None,
                "note": m.note if m else None,
            }
            for kpi, m in kpi_store.list_kpis_with_measurements(
                session, team_id=team_id, since=since
            )
        ]
