"""`flask --app wsgi create-user`: the first user of a fresh database."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from field_ops.core.db import transaction
from field_ops.core.errors import ProblemError
from field_ops.users.models import Role
from field_ops.users.service import create_user


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


COMMANDS = [create_user_command]
