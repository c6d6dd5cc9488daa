"""message claims: who is answering an inbound message, and since when

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 16:10:00

`processed_at` now means "answered"; `claimed_at` marks a worker taking the message, so a
claim whose worker died can be taken again after a timeout instead of being lost.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("claimed_at")
