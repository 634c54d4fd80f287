"""occupations (ESCO, CSCO) and the occupation a demand was posted for

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "occupation",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("occupation_id", sa.String(length=300), nullable=False),
        sa.Column("taxonomy", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("label", sa.String(length=500), nullable=False),
        sa.Column("alt_labels", sa.JSON(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=True),
        sa.Column("tasks", sa.JSON(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("broader", sa.String(length=300), nullable=True),
        sa.Column("taxonomy_version", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_occupation")),
        sa.UniqueConstraint("occupation_id", name=op.f("uq_occupation_occupation_id")),
    )
    with op.batch_alter_table("occupation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_occupation_taxonomy"), ["taxonomy"], unique=False)

    op.create_table(
        "occupation_skill",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("occupation_id", sa.String(length=300), nullable=False),
        sa.Column("skill_id", sa.String(length=300), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("skill_type", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["occupation_id"],
            ["occupation.occupation_id"],
            name=op.f("fk_occupation_skill_occupation_id_occupation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_occupation_skill")),
    )
    with op.batch_alter_table("occupation_skill", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_occupation_skill_occupation_id"), ["occupation_id"], unique=False)

    with op.batch_alter_table("demand", schema=None) as batch_op:
        batch_op.add_column(sa.Column("occupation_id", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("demand", schema=None) as batch_op:
        batch_op.drop_column("occupation_id")
    with op.batch_alter_table("occupation_skill", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_occupation_skill_occupation_id"))
    op.drop_table("occupation_skill")
    with op.batch_alter_table("occupation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_occupation_taxonomy"))
    op.drop_table("occupation")
