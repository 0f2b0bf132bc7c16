"""`flask --app wsgi ...` commands: schema, users, demo data."""

from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from field_ops.core import migrations
from field_ops.core.db import get_engine, transaction
from field_ops.core.errors import ProblemError
from field_ops.users.models import Role

db_cli = AppGroup("db", help="Create or migrate the database schema (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema up to REVISION (default: head)."""
    migrations.upgrade(get_engine(), revision)
    click.echo(f"Database at {revision}.")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the schema down to REVISION."""
    migrations.downgrade(get_engine(), revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
def db_revision(message: str, autogenerate: bool) -> None:
    """Write a new migration (read and fix it before it lands)."""
    migrations.revision(get_engine(), message, autogenerate)


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default=None)
@click.option("--dealership-id", "dealership_ids", multiple=True, type=int)
def create_user_command(
    email: str, password: str, role: str, name: str | None, dealership_ids: tuple[int, ...]
) -> None:
    """Create a user (for bootstrapping a fresh database)."""
    from field_ops.users.service import create_user

    try:
        with transaction() as session:
            user = create_user(
                session,
                actor=None,
                email=email,
                name=name or email.split("@")[0],
                role=role,
                password=password,
                dealership_ids=list(dealership_ids),
            )
            click.echo(f"Created {user.role} {user.email} (id {user.id}).")
    except ProblemError as exc:
        raise click.ClickException(exc.detail) from exc


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the demo data from seeds/ (safe to run twice) and print the demo logins."""
    from seeds.demo import load_demo

    started = time.perf_counter()
    with transaction() as session:
        summary = load_demo(session)
    elapsed = time.perf_counter() - started
    click.echo(summary.describe())
    click.echo(f"seed-demo took {elapsed:.2f} s")


def register_cli(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_demo_command)

    from field_ops.jobs.cli import end_of_day_command, plan_tomorrow_command, purge_idempotency_keys_command

    app.cli.add_command(end_of_day_command)
    app.cli.add_command(plan_tomorrow_command)
    app.cli.add_command(purge_idempotency_keys_command)
