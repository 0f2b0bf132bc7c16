"""`flask --app wsgi seed-demo`: the demo data, with the seeds it loads."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from field_ops.core.db import transaction


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


COMMANDS = [seed_demo_command]
