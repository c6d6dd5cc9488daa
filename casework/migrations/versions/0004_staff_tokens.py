"""staff API tokens that expire and can be revoked; a server-side session version

Revision ID: 0004_staff_tokens
Revises: 0003_append_only
Create Date: 2026-12-02 14:05:00

Tokens move from one never-expiring hash on `staff_users` to `staff_tokens` rows with an
expiry and a revocation time. A token issued before this revision keeps working until
90 days from the upgrade (the default lifetime), then must be issued again; the old
column is emptied (not dropped: dropping it would make SQLite rebuild `staff_users`,
which tickets and notes point at) and nothing reads it any more.

`session_version` is part of every inbox session cookie: signing out bumps it, so a
copied cookie is refused by the server.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0004_staff_tokens"
down_revision: str | None = "0003_append_only"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CARRIED_OVER_DAYS = 90


def upgrade() -> None:
    op.create_table(
        "staff_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_staff_tokens_staff_id", "staff_tokens", ["staff_id"])
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="1")
        )
    now = datetime.now(UTC).replace(tzinfo=None)
    op.get_bind().execute(
        sa.text(
            "INSERT INTO staff_tokens (staff_id, token_hash, created_at, expires_at) "
            "SELECT id, api_token_hash, :now, :expires FROM staff_users "
            "WHERE api_token_hash IS NOT NULL"
        ),
        {"now": now, "expires": now + timedelta(days=CARRIED_OVER_DAYS)},
    )
    op.execute("UPDATE staff_users SET api_token_hash = NULL")


def downgrade() -> None:
    # Tokens are not copied back: a downgrade signs every API client out.
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("session_version")
    op.drop_index("ix_staff_tokens_staff_id", table_name="staff_tokens")
    op.drop_table("staff_tokens")
