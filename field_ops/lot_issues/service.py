"""Lot issues: filing, working them through their status machine, comments, and the summaries
managers read to see which lots struggle and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, not_, select, union_all
from sqlalchemy.orm import Session

from field_ops.accounts.models import Account
from field_ops.core.audit import field_changes, record_audit
from field_ops.core.db import utcnow
from field_ops.core.errors import Forbidden, field_error
from field_ops.dealerships.models import Dealership
from field_ops.dealerships.service import get_dealership
from field_ops.lot_issues.errors import (
    FieldNotAllowedForRole,
    InvalidTransition,
    NotSameDealership,
    ResolutionRequired,
)
from field_ops.lot_issues.models import (
    DEFAULT_DEPARTMENT,
    UNRESOLVED,
    IssueCategory,
    IssueSeverity,
    IssueStatus,
    LotIssue,
    LotIssueComment,
    due_at_for,
)
from field_ops.users.models import Role, User
from field_ops.users.scope import can_see_dealership, get_scoped, in_scope
from field_ops.visits.models import Visit

TRANSITIONS = {
    (IssueStatus.OPEN, IssueStatus.ACKNOWLEDGED),
    (IssueStatus.ACKNOWLEDGED, IssueStatus.IN_PROGRESS),
    (IssueStatus.IN_PROGRESS, IssueStatus.RESOLVED),
    (IssueStatus.RESOLVED, IssueStatus.CLOSED),
    (IssueStatus.RESOLVED, IssueStatus.OPEN),
}
# What a manager may change on their lots' issues; specialists and admins change everything.
MANAGER_FIELDS = {"status", "resolution", "assigned_department"}
WEEKS = 12
# SQLite allows at most 500 SELECTs in one compound statement.
MEDIANS_PER_QUERY = 100
WORST_FIRST = ("open_critical", "open_high", "overdue", "open")
AUDITED = (
    "status",
    "severity",
    "assigned_department",
    "title",
    "description",
    "resolution",
    "due_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
)


def _snapshot(issue: LotIssue) -> dict[str, Any]:
    return {name: getattr(issue, name) for name in AUDITED}


def _audit(session: Session, actor: User, action: str, issue: LotIssue, changes: dict[str, Any]) -> None:
    record_audit(
        session,
        actor=actor,
        action=action,
        entity_type="lot_issue",
        entity_id=issue.id,
        dealership_id=issue.dealership_id,
        changes=changes,
    )


def _zone(session: Session, dealership_id: int) -> ZoneInfo:
    return ZoneInfo(session.get(Dealership, dealership_id).timezone)


def _is_overdue(now: datetime) -> ColumnElement[bool]:
    return and_(LotIssue.status.in_(UNRESOLVED), LotIssue.due_at < now)


# --- reads ---------------------------------------------------------------------------------


def get_lot_issue(session: Session, actor: User, issue_id: int) -> LotIssue:
    """Raises NotFound, also for another lot's issue."""
    return get_scoped(session, LotIssue, issue_id, actor, "Lot issue")


def list_lot_issues_query(
    actor: User,
    *,
    dealership_id: int | None = None,
    status: str | None = None,
    category: str | None = None,
    severity: str | None = None,
    assigned_department: str | None = None,
    reported_by: int | None = None,
    overdue: bool | None = None,
    created_from: date | datetime | None = None,
    created_to: date | datetime | None = None,
) -> Select:
    """The actor's lots' issues, newest first; a filter on a lot out of scope finds nothing."""
    stmt = select(LotIssue).where(in_scope(actor, LotIssue.dealership_id))
    for column, value in (
        (LotIssue.dealership_id, dealership_id),
        (LotIssue.status, status),
        (LotIssue.category, category),
        (LotIssue.severity, severity),
        (LotIssue.assigned_department, assigned_department),
        (LotIssue.reported_by, reported_by),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if overdue is not None:
        stmt = stmt.where(_is_overdue(utcnow()) if overdue else not_(_is_overdue(utcnow())))
    if isinstance(created_from, datetime):
        stmt = stmt.where(LotIssue.created_at >= created_from)
    elif created_from is not None:
        stmt = stmt.where(LotIssue.created_on >= created_from)
    if isinstance(created_to, datetime):
        stmt = stmt.where(LotIssue.created_at <= created_to)
    elif created_to is not None:
        stmt = stmt.where(LotIssue.created_on <= created_to)
    return stmt.order_by(LotIssue.created_at.desc(), LotIssue.id.desc())


def list_comments_query(issue: LotIssue) -> Select:
    return (
        select(LotIssueComment)
        .where(LotIssueComment.lot_issue_id == issue.id)
        .order_by(LotIssueComment.created_at, LotIssueComment.id)
    )


# --- writes --------------------------------------------------------------------------------


def _check_related(session: Session, dealership_id: int, visit_id: int | None, account_id: int | None) -> None:
    if visit_id is not None:
        visit = session.get(Visit, visit_id)
        if visit is None:
            raise field_error("visit_id", f"Unknown visit {visit_id}.")
        if visit.dealership_id != dealership_id:
            raise NotSameDealership.at("visit_id", "The visit belongs to another dealership.")
        if account_id is not None and visit.account_id != account_id:
            raise NotSameDealership.at("account_id", "The visit is of another account.")
    if account_id is not None:
        account = session.get(Account, account_id)
        if account is None:
            raise field_error("account_id", f"Unknown account {account_id}.")
        if account.dealership_id != dealership_id:
            raise NotSameDealership.at("account_id", "The account belongs to another dealership.")


def file_lot_issue(
    session: Session,
    *,
    actor: User,
    dealership_id: int,
    category: str,
    severity: str,
    title: str,
    description: str | None = None,
    visit_id: int | None = None,
    account_id: int | None = None,
    assigned_department: str | None = None,
) -> LotIssue:
    """File an issue at a lot, routed to the category's department unless one is given and due
    by its severity. Raises 422s naming the field (a lot out of scope reads as unknown;
    NotSameDealership for a visit or account of another lot)."""
    dealership = session.get(Dealership, dealership_id)
    if dealership is None or not can_see_dealership(actor, dealership_id):
        raise field_error("dealership_id", f"Unknown dealership {dealership_id}.")
    _check_related(session, dealership_id, visit_id, account_id)
    now = utcnow()
    issue = LotIssue(
        dealership_id=dealership_id,
        category=category,
        severity=severity,
        title=title,
        description=description,
        visit_id=visit_id,
        account_id=account_id,
        status=IssueStatus.OPEN,
        assigned_department=assigned_department or DEFAULT_DEPARTMENT[IssueCategory(category)],
        reported_by=actor.id,
        created_at=now,
        created_on=dealership.local_date(now),
        updated_at=now,
        due_at=due_at_for(severity, now),
    )
    session.add(issue)
    session.flush()
    _audit(
        session,
        actor,
        "lot_issue.filed",
        issue,
        field_changes(
            {},
            {
                "category": category,
                "visit_id": visit_id,
                "account_id": account_id,
                "reported_by": actor.id,
                **_snapshot(issue),
            },
        ),
    )
    return issue


def _check_may_change(actor: User, changes: dict[str, Any]) -> None:
    if actor.role in (Role.ADMIN, Role.SPECIALIST):
        return
    if actor.role == Role.MANAGER:
        refused = sorted(set(changes) - MANAGER_FIELDS)
        if refused:
            raise FieldNotAllowedForRole(
                f"A manager works an issue's status and department; not: {', '.join(refused)}.",
                errors={name: ["A manager may not change this."] for name in refused},
            )
        return
    raise Forbidden("Your role may not change lot issues.")


def _move(issue: LotIssue, to_status: str, resolution: str | None, now: datetime) -> None:
    """One arrow of the status machine (already checked), stamping its time."""
    if to_status == IssueStatus.RESOLVED and not resolution:
        raise ResolutionRequired.at("resolution", "Say how the issue was resolved.")
    if to_status == IssueStatus.ACKNOWLEDGED:
        issue.acknowledged_at = now
    elif to_status == IssueStatus.RESOLVED:
        issue.resolved_at = now
        issue.resolution = resolution
    elif to_status == IssueStatus.CLOSED:
        issue.closed_at = now
    elif to_status == IssueStatus.OPEN:
        # A reopen: the resolution did not hold (the trail keeps what it said).
        issue.resolved_at = None
        issue.resolution = None
    issue.status = to_status


def update_lot_issue(session: Session, *, actor: User, issue: LotIssue, changes: dict[str, Any]) -> LotIssue:
    """Work an issue: status along the machine (stamping each change's time), severity (which
    moves `due_at`), department, title, description. Raises Forbidden / FieldNotAllowedForRole
    (403), InvalidTransition (409), ResolutionRequired (422)."""
    _check_may_change(actor, changes)
    before = _snapshot(issue)
    now = utcnow()
    new_status = changes.get("status")
    moving = new_status is not None and new_status != issue.status
    if moving and (issue.status, new_status) not in TRANSITIONS:
        raise InvalidTransition(f"A lot issue cannot go from {issue.status} to {new_status}.")
    if "resolution" in changes and (new_status if moving else issue.status) != IssueStatus.RESOLVED:
        raise field_error("resolution", "Only with status: resolved.")
    if moving:
        _move(issue, new_status, changes.get("resolution"), now)
    elif "resolution" in changes:
        issue.resolution = changes["resolution"]
    if "severity" in changes:
        issue.severity = changes["severity"]
        issue.due_at = due_at_for(issue.severity, issue.created_at)
    for name in ("assigned_department", "title", "description"):
        if name in changes:
            setattr(issue, name, changes[name])
    diff = field_changes(before, _snapshot(issue))
    if diff:
        issue.updated_at = now
        session.flush()
        action = "lot_issue.status_changed" if "status" in diff else "lot_issue.updated"
        _audit(session, actor, action, issue, diff)
    return issue


def add_comment(session: Session, *, actor: User, issue: LotIssue, body: str) -> LotIssueComment:
    """Comment on an issue of one of the actor's lots (any role that sees it)."""
    comment = LotIssueComment(lot_issue_id=issue.id, body=body, author_id=actor.id, created_at=utcnow())
    session.add(comment)
    session.flush()
    _audit(session, actor, "lot_issue.commented", issue, {"comment_id": [None, comment.id], "body": [None, body]})
    return comment


# --- summaries -----------------------------------------------------------------------------


def _count_by(session: Session, column, dealership_id: int, values: list[str]) -> dict[str, int]:
    rows = session.execute(
        select(column, func.count()).where(LotIssue.dealership_id == dealership_id).group_by(column)
    ).all()
    counts = dict.fromkeys(values, 0)
    counts.update({value: n for value, n in rows})
    return counts


def _open_median_ages(session: Session, open_counts: dict[int, int], now: datetime) -> dict[int, float]:
    """Median age in days of each lot's unresolved issues, given how many each lot has. The
    database walks each lot's unresolved issues in filing order (an index) and hands back only
    the middle one, or the middle two for an even count (their mean is the median)."""
    parts = []
    for lot_id, n in open_counts.items():
        if n:
            middle = (
                select(LotIssue.dealership_id, LotIssue.created_at)
                .where(LotIssue.dealership_id == lot_id, LotIssue.status.in_(UNRESOLVED))
                .order_by(LotIssue.created_at)
                .offset((n - 1) // 2)
                .limit(2 - n % 2)
                .subquery()
            )
            parts.append(select(middle.c.dealership_id, middle.c.created_at))
    ages: dict[int, list[float]] = {}
    for start in range(0, len(parts), MEDIANS_PER_QUERY):
        chunk = parts[start : start + MEDIANS_PER_QUERY]
        for lot_id, created_at in session.execute(union_all(*chunk) if len(chunk) > 1 else chunk[0]):
            ages.setdefault(lot_id, []).append((now - created_at).total_seconds() / 86400)
    return {lot: round(sum(values) / len(values), 1) for lot, values in ages.items()}


@dataclass(frozen=True)
class LotSummary:
    dealership_id: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_severity: dict[str, int]
    open_median_age_days: float | None
    weekly_new: list[dict[str, Any]]
    overdue: int


def summarize_lot(session: Session, actor: User, dealership_id: int) -> LotSummary:
    """One lot's issue figures, counted by the database. Raises NotFound (also out of scope)."""
    dealership = get_dealership(session, actor, dealership_id)
    now = utcnow()
    today = dealership.local_date(now)
    this_week = today - timedelta(days=today.weekday())
    weeks = [this_week - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    per_day = session.execute(
        select(LotIssue.created_on, func.count())
        .where(LotIssue.dealership_id == dealership_id, LotIssue.created_on >= weeks[0])
        .group_by(LotIssue.created_on)
    ).all()
    weekly = dict.fromkeys(weeks, 0)
    for day, n in per_day:
        week = day - timedelta(days=day.weekday())
        if week in weekly:
            weekly[week] += n
    overdue = session.scalar(select(func.count()).where(LotIssue.dealership_id == dealership_id, _is_overdue(now)))
    by_status = _count_by(session, LotIssue.status, dealership_id, [s.value for s in IssueStatus])
    unresolved = sum(by_status[status] for status in UNRESOLVED)
    medians = _open_median_ages(session, {dealership_id: unresolved}, now)
    return LotSummary(
        dealership_id=dealership_id,
        by_status=by_status,
        by_category=_count_by(session, LotIssue.category, dealership_id, [c.value for c in IssueCategory]),
        by_severity=_count_by(session, LotIssue.severity, dealership_id, [s.value for s in IssueSeverity]),
        open_median_age_days=medians.get(dealership_id),
        weekly_new=[{"week_start": week, "count": n} for week, n in weekly.items()],
        overdue=overdue or 0,
    )


def rank_lots(session: Session, actor: User) -> list[dict[str, Any]]:
    """Every lot in the actor's scope with its unresolved-issue figures, worst first: open
    critical, then open high, then overdue, then open. One pass over the unresolved issues
    (grouped by lot and category) and one for the medians."""
    now = utcnow()

    def counted(condition: ColumnElement[bool]):
        return func.sum(case((condition, 1), else_=0))

    lots = {
        lot_id: {
            "dealership_id": lot_id,
            "dealership_code": code,
            "open": 0,
            "open_critical": 0,
            "open_high": 0,
            "overdue": 0,
            "open_median_age_days": None,
            "top_category": None,
        }
        for lot_id, code in session.execute(
            select(Dealership.id, Dealership.code).where(in_scope(actor, Dealership.id))
        )
    }
    groups = session.execute(
        select(
            LotIssue.dealership_id,
            LotIssue.category,
            func.count(),
            counted(LotIssue.severity == IssueSeverity.CRITICAL),
            counted(LotIssue.severity == IssueSeverity.HIGH),
            counted(LotIssue.due_at < now),
        )
        .where(in_scope(actor, LotIssue.dealership_id), LotIssue.status.in_(UNRESOLVED))
        .group_by(LotIssue.dealership_id, LotIssue.category)
    )
    top: dict[int, tuple[int, str]] = {}
    for lot_id, category, n, critical, high, overdue in groups:
        lot = lots[lot_id]
        lot["open"] += n
        lot["open_critical"] += int(critical)
        lot["open_high"] += int(high)
        lot["overdue"] += int(overdue)
        best = top.get(lot_id)
        if best is None or n > best[0] or (n == best[0] and category < best[1]):
            top[lot_id] = (n, category)
    open_counts = {lot_id: lot["open"] for lot_id, lot in lots.items()}
    for lot_id, median in _open_median_ages(session, open_counts, now).items():
        lots[lot_id]["open_median_age_days"] = median
    for lot_id, (_, category) in top.items():
        lots[lot_id]["top_category"] = category
    return sorted(lots.values(), key=lambda lot: (*(-lot[name] for name in WORST_FIRST), lot["dealership_code"]))
