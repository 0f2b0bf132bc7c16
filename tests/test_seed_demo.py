from sqlalchemy import func, select

from field_ops.accounts.models import Account
from field_ops.core.db import get_session
from field_ops.dealerships.models import Dealership
from field_ops.lot_issues.models import LotIssue
from field_ops.users.models import User
from field_ops.visits.models import Visit


def counts(app):
    with app.app_context():
        session = get_session()
        per_lot = dict(
            session.execute(select(Account.dealership_id, func.count()).group_by(Account.dealership_id)).all()
        )
        zones = set(session.scalars(select(Dealership.timezone)))
        users = dict(session.execute(select(User.role, func.count()).group_by(User.role)).all())
        restricted = session.scalar(
            select(func.count()).where(
                Account.cease_contact | Account.bankruptcy | Account.attorney_represented | Account.do_not_visit
            )
        )
        visits = dict(session.execute(select(Visit.dealership_id, func.count()).group_by(Visit.dealership_id)).all())
        issues = set(session.execute(select(LotIssue.dealership_id, LotIssue.status).distinct()).all())
        return per_lot, zones, users, restricted, visits, issues


def office_history(app):
    from field_ops.campaigns.models import Campaign, CampaignResult
    from field_ops.contacts.models import Contact

    with app.app_context():
        session = get_session()
        return tuple(session.scalar(select(func.count()).select_from(t)) for t in (Campaign, Contact, CampaignResult))


def test_seed_demo_loads_three_lots_in_three_zones_and_is_safe_to_run_twice(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "fieldops-demo" in first.output
    loaded = counts(app)
    per_lot, zones, users, restricted, visits, issues = loaded
    assert len(per_lot) == 3 and all(60 <= n <= 150 for n in per_lot.values())
    assert len(zones) == 3
    assert users["admin"] == 1 and users["specialist"] == 2 and users["manager"] == 3
    assert 9 <= users["rep"] <= 18
    assert restricted >= 3
    assert set(visits) == set(per_lot) and all(n >= 15 for n in visits.values())
    statuses = {"open", "acknowledged", "in_progress", "resolved", "closed"}
    assert issues == {(lot, status) for lot in per_lot for status in statuses}
    assert office_history(app) == (1, 6, 12)

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "nothing (already loaded)" in second.output
    assert counts(app) == loaded
    assert office_history(app) == (1, 6, 12)
