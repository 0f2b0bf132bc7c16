"""`flask --app wsgi db ...`: the schema; each domain brings its own commands (its cli.py)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from field_ops.core import migrations
from field_ops.core.db import get_engine

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


def register_cli(app: Flask, *commands: click.Command) -> None:
    """The schema commands, and the commands each domain brings (create_app passes them)."""
    app.cli.add_command(db_cli)
    for command in commands:
        app.cli.add_command(command)
