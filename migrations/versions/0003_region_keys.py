"""regions: the GB/T 2260 code and the comparison key of organisation and demand regions, backfilled

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service import regions

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_code", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("region_key", sa.String(length=200), nullable=True))
    with op.batch_alter_table("demand", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_code", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("region_key", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_demand_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_demand_region_key"), ["region_key"], unique=False)
    bind = op.get_bind()
    for name in ("organization", "demand"):
        table = sa.table(
            name,
            sa.column("region", sa.String),
            sa.column("region_code", sa.String),
            sa.column("region_key", sa.String),
        )
        texts = bind.execute(
            sa.select(table.c.region).where(table.c.region.is_not(None)).distinct()
        ).scalars()
        for text in list(texts):
            code, key = regions.region_key(text)
            bind.execute(
                table.update().where(table.c.region == text).values(region_code=code, region_key=key)
            )


def downgrade() -> None:
    with op.batch_alter_table("demand", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_demand_region_key"))
        batch_op.drop_index(batch_op.f("ix_demand_region_code"))
        batch_op.drop_column("region_key")
        batch_op.drop_column("region_code")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("region_key")
        batch_op.drop_column("region_code")
