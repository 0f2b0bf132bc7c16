"""sync change log

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-01 22:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import field_ops.core.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_log",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity_type", sa.String(length=30), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("dealership_id", sa.Integer(), nullable=True),
        sa.Column("previous_dealership_id", sa.Integer(), nullable=True),
        sa.Column("rep_id", sa.Integer(), nullable=True),
        sa.Column("previous_rep_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", field_ops.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change_log")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_change_log_rep_seq", "change_log", ["rep_id", "seq"])
    op.create_index("ix_change_log_previous_rep_seq", "change_log", ["previous_rep_id", "seq"])
    op.create_index("ix_change_log_dealership_seq", "change_log", ["dealership_id", "seq"])
    op.create_index("ix_change_log_previous_dealership_seq", "change_log", ["previous_dealership_id", "seq"])
    op.create_index("ix_change_log_user_seq", "change_log", ["user_id", "seq"])
    op.create_index("ix_change_log_entity", "change_log", ["entity_type", "entity_id"])
    # What exists already is one change each, so a phone's first sync gets it.
    columns = "entity_type, entity_id, dealership_id, previous_dealership_id, rep_id, previous_rep_id, changed_at"
    op.execute(
        f"INSERT INTO change_log ({columns}) SELECT 'account', id, dealership_id, NULL, NULL, NULL, "
        "CURRENT_TIMESTAMP FROM accounts ORDER BY id"
    )
    op.execute(
        f"INSERT INTO change_log ({columns}) SELECT 'visit', id, dealership_id, NULL, assigned_rep_id, NULL, "
        "CURRENT_TIMESTAMP FROM visits ORDER BY id"
    )
    op.execute(
        f"INSERT INTO change_log ({columns}) SELECT 'route', id, dealership_id, NULL, rep_id, NULL, "
        "CURRENT_TIMESTAMP FROM routes ORDER BY id"
    )
    for entity_type, table in (("lot_issue", "lot_issues"), ("follow_up", "follow_ups")):
        op.execute(
            f"INSERT INTO change_log ({columns}) SELECT '{entity_type}', id, dealership_id, NULL, NULL, NULL, "
            f"CURRENT_TIMESTAMP FROM {table} ORDER BY id"
        )


def downgrade() -> None:
    op.drop_table("change_log")
