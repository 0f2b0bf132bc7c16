"""`flask --app wsgi end-of-day` and `purge-idempotency-keys`: the scheduled work run by hand."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext

from field_ops.core import idempotency
from field_ops.core.db import transaction
from field_ops.jobs.errors import DayNotOver
from field_ops.jobs.evening import run_evening_plan
from field_ops.jobs.service import describe, run_end_of_day


@click.command("end-of-day")
@with_appcontext
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="YYYY-MM-DD")
@click.option("--dealership-id", type=int, default=None)
def end_of_day_command(day, dealership_id: int | None) -> None:
    """Close ended days: by default every day each lot has not closed yet, through its yesterday."""
    the_day: date | None = day.date() if day else None
    try:
        report = run_end_of_day(current_app, day=the_day, dealership_id=dealership_id)
    except DayNotOver as exc:
        raise click.BadParameter(f"{exc.detail} Pick a day that has ended.", param_hint="--date") from exc
    for line in describe(report):
        click.echo(line)
    if report.failed:
        raise click.exceptions.Exit(1)


@click.command("plan-tomorrow")
@with_appcontext
@click.option("--dealership-id", type=int, default=None)
def plan_tomorrow_command(dealership_id: int | None) -> None:
    """Plan each lot's tomorrow (lot-local) that has visits and no plan yet, now, whatever AUTO_PLAN_AT."""
    report = run_evening_plan(current_app, dealership_id=dealership_id, by_hand=True)
    if report.skipped:
        click.echo("Skipped: another worker is running the evening plan.")
    for run in report.runs:
        detail = ", ".join(f"{k}={v}" for k, v in run.counts.items()) if run.counts else (run.error or "")
        click.echo(f"{run.day} dealership {run.dealership_id}: {run.status} {detail}")
    if not report.runs and not report.skipped:
        click.echo("Nothing to plan: every lot's tomorrow with visits has a plan.")
    if report.failed:
        raise click.exceptions.Exit(1)


@click.command("purge-idempotency-keys")
@with_appcontext
def purge_idempotency_keys_command() -> None:
    """Delete idempotency records older than IDEMPOTENCY_RETENTION_DAYS."""
    with transaction() as session:
        gone = idempotency.purge_expired(session, retention_days=current_app.config["IDEMPOTENCY_RETENTION_DAYS"])
    click.echo(f"Purged {gone} idempotency records.")


COMMANDS = [end_of_day_command, plan_tomorrow_command, purge_idempotency_keys_command]
