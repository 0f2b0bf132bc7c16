"""audit entries are append-only: a trigger refuses UPDATE and DELETE

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

from field_ops.audit.append_only import create_statements, drop_statements

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in create_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
