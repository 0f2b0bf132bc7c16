"""Demo data a person can explore: three lots in three time zones, their people and accounts.

Deterministic (a fixed random seed) and idempotent: records are matched by their natural
keys (dealership code, user email, account number), so running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from field_ops.dealerships.models import Dealership
from field_ops.users.models import User
from field_ops.users.service import create_user

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
    },
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
        fields = {k: v for k, v in spec.items() if k not in ("reps", "manager")}
        dealership = Dealership(**fields, geocode_source="given")
        session.add(dealership)
        session.flush()
        summary.count("dealerships")
    return dealership


def load_demo(session: Session) -> SeedSummary:
    summary = SeedSummary()
    for email, name, role in OFFICE:
        _ensure_user(session, summary, email, name, role, [])
        summary.logins.append((role, email, "all lots"))
    for spec in DEALERSHIPS:
        dealership = _ensure_dealership(session, summary, spec)
        manager_email = _email(spec["manager"], spec["code"])
        _ensure_user(session, summary, manager_email, spec["manager"], "manager", [dealership.id])
        summary.logins.append(("manager", manager_email, spec["code"]))
        for i, rep_name in enumerate(spec["reps"]):
            rep_email = _email(rep_name, spec["code"])
            _ensure_user(session, summary, rep_email, rep_name, "rep", [dealership.id])
            if i == 0:
                summary.logins.append(("rep", rep_email, spec["code"]))
    return summary
