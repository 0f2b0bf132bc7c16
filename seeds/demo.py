"""Demo data a person can explore: three lots in three time zones, their people and accounts.

Deterministic (a fixed random seed) and idempotent: records are matched by their natural
keys (dealership code, user email, account number), so running it twice changes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import zipcodes
from geopy.distance import geodesic
from sqlalchemy import select
from sqlalchemy.orm import Session

from field_ops.accounts.models import Account
from field_ops.accounts.service import create_account
from field_ops.core.errors import ProblemError
from field_ops.dealerships.models import Dealership
from field_ops.lot_issues.models import LotIssue, due_at_for
from field_ops.lot_issues.service import file_lot_issue, update_lot_issue
from field_ops.users.models import User
from field_ops.users.service import create_user
from field_ops.visits.models import Visit
from field_ops.visits.service import book_visit
from seeds.closing_day import ensure_recent_work

DEMO_PASSWORD = "fieldops-demo"

DEALERSHIPS = [
    {
        "code": "BNT",
        "name": "Ozark Auto Credit - Bentonville",
        "address_line1": "1201 SE Walton Blvd",
        "city": "Bentonville",
        "state": "AR",
        "postal_code": "72712",
        "latitude": 36.3590,
        "longitude": -94.1966,
        "timezone": "America/Chicago",
        "reps": ["Luis Ortega", "Kayla Brooks", "Dwayne Mitchell", "Amber Nguyen"],
        "manager": "Greg Holloway",
        "accounts": 110,
        "visits_tomorrow": 30,
        "area_code": "479",
    },
    {
        "code": "ABQ",
        "name": "High Desert Motors - Albuquerque",
        "address_line1": "4801 Central Ave NE",
        "city": "Albuquerque",
        "state": "NM",
        "postal_code": "87108",
        "latitude": 35.0800,
        "longitude": -106.5920,
        "timezone": "America/Denver",
        "reps": ["Marisol Chavez", "Tyler Begay", "Andre Lucero", "Jenna Romero", "Chris Yazzie"],
        "manager": "Patricia Sandoval",
        "accounts": 140,
        "visits_tomorrow": 40,
        "area_code": "505",
    },
    {
        "code": "PHX",
        "name": "Valley Drive Auto - Phoenix",
        "address_line1": "2929 W Camelback Rd",
        "city": "Phoenix",
        "state": "AZ",
        "postal_code": "85017",
        "latitude": 33.5090,
        "longitude": -112.1170,
        "timezone": "America/Phoenix",
        "reps": ["Rosa Delgado", "Kevin Tran", "Jamal Carter"],
        "manager": "Dan Whitaker",
        "accounts": 80,
        "visits_tomorrow": 20,
        "area_code": "602",
    },
]

LOT_ONLY_KEYS = ("reps", "manager", "accounts", "area_code", "visits_tomorrow")
SERVICE_RADIUS_KM = 25

FIRST_NAMES = [
    "James",
    "Maria",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Patricia",
    "William",
    "Elizabeth",
    "Jose",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Juan",
    "Ashley",
    "Brandon",
    "Kimberly",
    "Tyrone",
    "Emily",
    "Kevin",
    "Donna",
    "Luis",
    "Michelle",
    "Terrell",
    "Carol",
    "Ana",
    "Amanda",
    "Derek",
    "Melissa",
    "Rosa",
    "Deborah",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Begay",
    "Yazzie",
    "Chavez",
    "Baca",
    "Tsosie",
]
STREETS = [
    "Oak St",
    "Maple Ave",
    "Cedar Ln",
    "Pine St",
    "Elm St",
    "Walnut St",
    "Main St",
    "Park Ave",
    "Washington St",
    "Lake Dr",
    "Hillcrest Dr",
    "Sunset Blvd",
    "Ridge Rd",
    "Meadow Ln",
    "Church St",
    "Spring St",
    "Highland Ave",
    "Jefferson St",
    "Lincoln Ave",
    "Dogwood Dr",
    "Willow Way",
    "Mesa Verde Dr",
    "Cactus Rd",
    "Juniper St",
    "Pecan St",
    "Cottonwood Dr",
    "Sycamore Ln",
    "Mockingbird Ln",
    "Magnolia St",
    "Bluebonnet Dr",
    "Indian School Rd",
    "Broadway",
    "Chestnut St",
    "Poplar Ave",
    "Hickory Ln",
    "Prairie Creek Rd",
    "Canyon View Dr",
]
RESTRICTED = [
    ({"cease_contact": True}, "Customer sent a written cease-contact letter."),
    ({"attorney_represented": True}, "Represented by counsel; all contact through the attorney."),
    ({"bankruptcy": True}, "Chapter 13 petition filed; automatic stay in effect."),
    ({"do_not_visit": True}, "Customer reported a threatening dog at the address; no home visits."),
]

OFFICE = [
    ("admin@fieldops.example", "Avery Admin", "admin"),
    ("sam.specialist@fieldops.example", "Sam Rivera", "specialist"),
    ("jo.specialist@fieldops.example", "Jo Patel", "specialist"),
]


@dataclass
class SeedSummary:
    created: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)

    def count(self, kind: str, n: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + n

    def describe(self) -> str:
        made = ", ".join(f"{n} {kind}" for kind, n in self.created.items()) or "nothing (already loaded)"
        lines = [f"Created: {made}.", f"Demo logins (password for all: {DEMO_PASSWORD}):"]
        lines += [f"  {role:<10} {email:<40} {lot}" for role, email, lot in self.logins]
        return "\n".join(lines)


def _email(name: str, code: str) -> str:
    return f"{name.lower().replace(' ', '.')}@{code.lower()}.fieldops.example"


def _ensure_user(session: Session, summary: SeedSummary, email: str, name: str, role: str, lots: list[int]) -> User:
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = create_user(
            session, actor=None, email=email, name=name, role=role, password=DEMO_PASSWORD, dealership_ids=lots
        )
        summary.count("users")
    return user


def _ensure_dealership(session: Session, summary: SeedSummary, spec: dict) -> Dealership:
    dealership = session.scalar(select(Dealership).where(Dealership.code == spec["code"]))
    if dealership is None:
        fields = {k: v for k, v in spec.items() if k not in LOT_ONLY_KEYS}
        dealership = Dealership(**fields, geocode_source="given")
        session.add(dealership)
        session.flush()
        summary.count("dealerships")
    return dealership


def _nearby_zip_codes(spec: dict) -> list[dict]:
    lot = (spec["latitude"], spec["longitude"])
    return sorted(
        (
            record
            for record in zipcodes.filter_by(state=spec["state"])
            if record["zip_code_type"] == "STANDARD"
            and geodesic(lot, (float(record["lat"]), float(record["long"]))).km < SERVICE_RADIUS_KM
        ),
        key=lambda record: record["zip_code"],
    )


def _ensure_accounts(session: Session, summary: SeedSummary, spec: dict, dealership: Dealership) -> None:
    rng = random.Random(f"field-ops-demo-{spec['code']}")
    nearby = _nearby_zip_codes(spec)
    existing = set(session.scalars(select(Account.account_number).where(Account.dealership_id == dealership.id)))
    for n in range(1, spec["accounts"] + 1):
        record = rng.choice(nearby)
        # Spread the pins over the ZIP area instead of stacking them on its centroid.
        latitude = round(float(record["lat"]) + rng.uniform(-0.02, 0.02), 6)
        longitude = round(float(record["long"]) + rng.uniform(-0.025, 0.025), 6)
        days_past_due = rng.choice(
            [rng.randint(1, 30), rng.randint(1, 30), rng.randint(31, 60), rng.randint(61, 90), rng.randint(91, 150)]
        )
        weekly = Decimal(rng.randrange(7500, 22500)) / 100
        restrictions, note = RESTRICTED[n % len(RESTRICTED)] if n % 29 == 0 else ({}, None)
        account_number = f"{spec['code']}-{10000 + n}"
        street = f"{rng.randint(100, 9899)} {rng.choice(STREETS)}"
        if account_number in existing:
            continue
        create_account(
            session,
            actor=None,
            account_number=account_number,
            dealership_id=dealership.id,
            customer_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            phone=f"({spec['area_code']}) 555-01{rng.randint(0, 99):02d}",
            address={
                "line1": street,
                "line2": None,
                "city": record["city"],
                "state": spec["state"],
                "postal_code": record["zip_code"],
            },
            latitude=latitude,
            longitude=longitude,
            days_past_due=days_past_due,
            amount_due=(weekly * (1 + days_past_due // 7)).quantize(Decimal("0.01")),
            balance=Decimal(rng.randrange(250000, 1500000)) / 100,
            restrictions=restrictions,
            restriction_note=note,
        )
        summary.count("accounts")


DEMO_WINDOWS = [("09:00", "12:00"), ("13:00", "17:00"), ("08:30", "17:30"), ("10:00", "14:00"), ("15:00", "18:00")]


def _ensure_visits(session: Session, summary: SeedSummary, spec: dict, dealership: Dealership, booker: User) -> None:
    """Tomorrow's visits (in the lot's zone) for a slice of the lot's accounts, booked by the rules."""
    zone = ZoneInfo(dealership.timezone)
    tomorrow = datetime.now(zone).date() + timedelta(days=1)
    if session.scalar(select(Visit.id).where(Visit.dealership_id == dealership.id, Visit.scheduled_date == tomorrow)):
        return
    rng = random.Random(f"field-ops-visits-{spec['code']}-{tomorrow.isoformat()}")
    accounts = list(
        session.scalars(
            select(Account).where(Account.dealership_id == dealership.id).order_by(Account.days_past_due.desc())
        )
    )
    booked = 0
    for account in accounts:
        if booked >= spec["visits_tomorrow"]:
            break
        if account.active_restrictions:
            continue
        start, end = rng.choice(DEMO_WINDOWS)
        window_start = datetime.combine(tomorrow, time.fromisoformat(start), tzinfo=zone)
        window_end = datetime.combine(tomorrow, time.fromisoformat(end), tzinfo=zone)
        try:
            book_visit(
                session,
                actor=booker,
                account_id=account.id,
                window_start=window_start,
                window_end=window_end,
                priority="urgent" if account.days_past_due > 90 else rng.choice(["normal", "normal", "high", "low"]),
                reason=f"{account.days_past_due} days past due",
            )
        except ProblemError:
            continue  # the customer's own zone or state rules refuse this window: skip, as a specialist would
        booked += 1
    summary.count("visits", booked)


# (title, category, severity, days since filing, statuses it went through, resolution)
DEMO_ISSUES = [
    ("Payment portal rejects customers' debit cards", "payment_processing", "critical", 0, [], None),
    ("GPS tracker offline on three units", "gps_device", "high", 5, [], None),
    ("Title missing from the jacket of a repossessed unit", "paperwork_title", "medium", 3, ["acknowledged"], None),
    ("Lot lights out on the east row after 7 pm", "facility", "low", 9, ["acknowledged", "in_progress"], None),
    (
        "New collectors skip the right-party check on calls",
        "staff_training",
        "medium",
        12,
        ["acknowledged", "in_progress", "resolved"],
        "Right-party verification reviewed with the whole desk; call scripts updated.",
    ),
    (
        "Front-end damage not noted at delivery",
        "vehicle_condition",
        "high",
        20,
        ["acknowledged", "in_progress", "resolved", "closed"],
        "Delivery checklist now has a photo step; customer credited for the bumper.",
    ),
    (
        "Payment reminders sent in English to Spanish-speaking customers",
        "customer_communication",
        "medium",
        16,
        ["acknowledged", "in_progress", "resolved", "open"],
        "Language preference copied from the credit application.",
    ),
]


def _ensure_lot_issues(
    session: Session, summary: SeedSummary, dealership: Dealership, reporter: User, manager: User, office: User
) -> None:
    """A small queue per lot, one issue in each state (and one reopened), so the lot's manager sees real work."""
    if session.scalar(select(LotIssue.id).where(LotIssue.dealership_id == dealership.id).limit(1)):
        return
    account_id = session.scalar(
        select(Account.id).where(Account.dealership_id == dealership.id).order_by(Account.account_number).limit(1)
    )
    for n, (title, category, severity, age_days, statuses, resolution) in enumerate(DEMO_ISSUES):
        issue = file_lot_issue(
            session,
            actor=reporter if n % 2 == 0 else office,
            dealership_id=dealership.id,
            category=category,
            severity=severity,
            title=title,
            description=f"Seen at {dealership.name}.",
            account_id=account_id if category == "vehicle_condition" else None,
        )
        # Filed some days ago: the due date moves with the filing time.
        issue.created_at -= timedelta(days=age_days)
        issue.created_on = issue.created_at.astimezone(ZoneInfo(dealership.timezone)).date()
        issue.due_at = due_at_for(severity, issue.created_at)
        for status in statuses:
            changes = {"status": status}
            if status == "resolved":
                changes["resolution"] = resolution
            update_lot_issue(session, actor=manager, issue=issue, changes=changes)
        summary.count("lot issues")


DEMO_CAMPAIGN = "Fall push 31-90 days (demo)"
DEMO_OUTCOMES = ["payment_collected", "promise_to_pay", "not_home", "payment_collected", "refused", None]


def _ensure_campaign_history(session: Session, summary: SeedSummary, dealership: Dealership, office: User) -> None:
    """A finished campaign two weeks ago and the office's contacts since, so a fresh demo's figures
    and contact log are not empty. Its outcomes set in motion what a recorded outcome does (the
    payments and promises, through `apply_outcome_consequences`); one promise is then paid in full
    online, the other left short for the end-of-day job to break. The visits nobody reached stay
    `scheduled`: the end-of-day job marks them missed and raises their rebook follow-ups."""
    from field_ops.campaigns.models import Campaign, CampaignResult
    from field_ops.contacts.service import record_contact
    from field_ops.payments.service import record_payment
    from field_ops.visits.consequences import apply_outcome_consequences
    from field_ops.visits.models import Outcome

    if session.scalar(select(Campaign.id).where(Campaign.dealership_id == dealership.id)) is not None:
        return
    zone = ZoneInfo(dealership.timezone)
    today = datetime.now(zone).date()
    first, last = today - timedelta(days=14), today - timedelta(days=12)
    reps = [
        u
        for u in session.scalars(select(User).where(User.role == "rep").order_by(User.id))
        if dealership.id in u.dealership_ids
    ]
    accounts = session.scalars(
        select(Account)
        .where(Account.dealership_id == dealership.id, Account.days_past_due.between(31, 90))
        .order_by(Account.days_past_due.desc(), Account.id)
    ).all()
    accounts = [a for a in accounts if not a.active_restrictions][:12]
    campaign = Campaign(
        dealership_id=dealership.id,
        name=DEMO_CAMPAIGN,
        date_from=first,
        date_to=last,
        window_start="09:00",
        window_end="17:00",
        max_visits_per_day=4,
        priority="high",
        segment={"buckets": ["31-60", "61-90"], "min_amount_due": None, "min_days_past_due": None},
        partial=False,
        created_by=office.id,
    )
    session.add(campaign)
    session.flush()
    visits, promised = [], []
    for n, account in enumerate(accounts):
        day = first + timedelta(days=n // 4)
        rep = reps[n % len(reps)]
        code = DEMO_OUTCOMES[n % len(DEMO_OUTCOMES)]
        arrived = datetime.combine(day, time(10 + n % 6, 15), tzinfo=zone)
        visit = Visit(
            account_id=account.id,
            dealership_id=dealership.id,
            kind="personal_visit",
            scheduled_date=day,
            window_start=datetime.combine(day, time(9), tzinfo=zone),
            window_end=datetime.combine(day, time(17), tzinfo=zone),
            priority="high",
            reason=f"Campaign: {DEMO_CAMPAIGN}",
            status="completed" if code else "scheduled",
            assigned_rep_id=rep.id,
            booked_by=office.id,
        )
        if code:
            off_site = n % 5 == 4
            visit.checked_in_at, visit.in_window = arrived, True
            visit.distance_m, visit.on_site = (1250.0, False) if off_site else (40.0, True)
        session.add(visit)
        session.flush()
        visits.append(visit)
        if code:
            outcome = Outcome(
                visit_id=visit.id,
                outcome=code,
                amount_collected=Decimal("120.00") if code == "payment_collected" else None,
                payment_method="cash" if code == "payment_collected" else None,
                promise_date=day + timedelta(days=7) if code == "promise_to_pay" else None,
                promise_amount=Decimal("150.00") if code == "promise_to_pay" else None,
                recorded_at=arrived + timedelta(minutes=10),
                recorded_by=rep.id,
            )
            session.add(outcome)
            session.flush()
            apply_outcome_consequences(session, actor=rep, visit=visit, outcome=outcome)
            if code == "promise_to_pay" and not promised:
                promised.append(account)
        session.add(
            CampaignResult(campaign_id=campaign.id, account_id=account.id, status="booked", visit_id=visit.id, date=day)
        )
    # The first promise is kept: the customer paid it in full online three days later.
    for account in promised:
        record_payment(
            session,
            actor=office,
            account_id=account.id,
            amount=Decimal("150.00"),
            paid_on=first + timedelta(days=3),
            method="online",
            reference="Portal payment",
        )
    summary.count("campaigns")
    summary.count("visits", len(visits))
    contacts = [
        ("call", "inbound", "pv_booked", "Called back after the door hanger; PV booked."),
        ("text", "outbound", "payment_arranged", "Texted a reminder; will pay Friday online."),
        ("text", "inbound", "escalated_to_dealership", "Says the starter-interrupt device fails; sent to the lot."),
        ("call", "outbound", "resolved_by_office", "Payment plan explained; customer agreed."),
        ("email", "inbound", "no_resolution", "Asked for a payoff amount."),
        ("call", "inbound", "payment_arranged", "Will bring cash to the lot on Saturday."),
    ]
    for n, (channel, direction, resolution, text) in enumerate(contacts):
        visit = visits[n]
        record_contact(
            session,
            actor=office,
            account_id=visit.account_id,
            channel=channel,
            direction=direction,
            at=datetime.combine(
                first - timedelta(days=1) if n == 0 else today - timedelta(days=11 - n), time(11, 30), tzinfo=zone
            ),
            resolution=resolution,
            summary=text,
            visit_id=visit.id if resolution == "pv_booked" else None,
        )
    summary.count("contacts", len(contacts))


def load_demo(session: Session) -> SeedSummary:
    summary = SeedSummary()
    office = [_ensure_user(session, summary, email, name, role, []) for email, name, role in OFFICE]
    summary.logins += [(role, email, "all lots") for email, _, role in OFFICE]
    booker = office[1]
    for spec in DEALERSHIPS:
        dealership = _ensure_dealership(session, summary, spec)
        _ensure_accounts(session, summary, spec, dealership)
        manager_email = _email(spec["manager"], spec["code"])
        manager = _ensure_user(session, summary, manager_email, spec["manager"], "manager", [dealership.id])
        summary.logins.append(("manager", manager_email, spec["code"]))
        reps = []
        for i, rep_name in enumerate(spec["reps"]):
            rep_email = _email(rep_name, spec["code"])
            reps.append(_ensure_user(session, summary, rep_email, rep_name, "rep", [dealership.id]))
            if i == 0:
                summary.logins.append(("rep", rep_email, spec["code"]))
        _ensure_visits(session, summary, spec, dealership, booker)
        _ensure_lot_issues(session, summary, dealership, reps[0], manager, booker)
        ensure_recent_work(session, summary, dealership)
        if spec["code"] == "BNT":
            _ensure_campaign_history(session, summary, dealership, booker)
    return summary
