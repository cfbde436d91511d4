"""DAGs submitted as data: the versions of each DagSpec.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 21:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dag_spec',
    sa.Column('dag_id', sa.String(length=250), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('spec', sa.Text(), nullable=False),
    sa.Column('spec_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('dag_id', 'version', name=op.f('pk_dag_spec'))
    )


def downgrade() -> None:
    op.drop_table('dag_spec')
