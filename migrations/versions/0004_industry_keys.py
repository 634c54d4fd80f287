"""industries: the GB/T 4754 section and the comparison key of organisation and demand industries, backfilled

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service import industries

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(sa.Column("industry_code", sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column("industry_key", sa.String(length=200), nullable=True))
    with op.batch_alter_table("demand", schema=None) as batch_op:
        batch_op.add_column(sa.Column("industry_code", sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column("industry_key", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_demand_industry_key"), ["industry_key"], unique=False)
    bind = op.get_bind()
    for name in ("organization", "demand"):
        table = sa.table(
            name,
            sa.column("industry", sa.String),
            sa.column("industry_code", sa.String),
            sa.column("industry_key", sa.String),
        )
        texts = bind.execute(
            sa.select(table.c.industry).where(table.c.industry.is_not(None)).distinct()
        ).scalars()
        for text in list(texts):
            code, key = industries.industry_key(text)
            bind.execute(
                table.update().where(table.c.industry == text).values(industry_code=code, industry_key=key)
            )


def downgrade() -> None:
    with op.batch_alter_table("demand", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_demand_industry_key"))
        batch_op.drop_column("industry_key")
        batch_op.drop_column("industry_code")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("industry_key")
        batch_op.drop_column("industry_code")
