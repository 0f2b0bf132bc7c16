"""contacts.follow_up_id references follow_ups

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:10:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A contact naming a follow-up that does not exist cannot be kept once the key holds.
    op.execute("UPDATE contacts SET follow_up_id = NULL WHERE follow_up_id NOT IN (SELECT id FROM follow_ups)")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_contacts_follow_up_id_follow_ups"), "follow_ups", ["follow_up_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_contacts_follow_up_id_follow_ups"), type_="foreignkey")
