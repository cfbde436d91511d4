"""Pools (Airflow's slot_pool). default_pool is created by the scheduler at start, with
FLOW_CORE__DEFAULT_POOL_TASK_SLOT_COUNT slots.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slot_pool',
    sa.Column('pool', sa.String(length=256), nullable=False),
    sa.Column('slots', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('pool', name=op.f('pk_slot_pool'))
    )


def downgrade() -> None:
    op.drop_table('slot_pool')
