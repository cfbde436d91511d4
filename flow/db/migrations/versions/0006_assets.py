"""Assets: their update events, the DAGs scheduled on them and the updates those DAGs wait
on (data-aware scheduling).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 21:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('asset_event',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uri', sa.String(length=1500), nullable=False),
    sa.Column('source_dag_id', sa.String(length=250), nullable=False),
    sa.Column('source_run_id', sa.String(length=250), nullable=False),
    sa.Column('source_task_id', sa.String(length=250), nullable=False),
    sa.Column('source_map_index', sa.Integer(), nullable=False),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_event'))
    )
    op.create_index(op.f('ix_asset_event__uri'), 'asset_event', ['uri'], unique=False)
    op.create_index(op.f('ix_asset_event__timestamp'), 'asset_event', ['timestamp'],
                    unique=False)
    op.create_table('dag_schedule_asset',
    sa.Column('dag_id', sa.String(length=250), nullable=False),
    sa.Column('uri', sa.String(length=1500), nullable=False),
    sa.PrimaryKeyConstraint('dag_id', 'uri', name=op.f('pk_dag_schedule_asset'))
    )
    op.create_table('asset_dag_run_queue',
    sa.Column('target_dag_id', sa.String(length=250), nullable=False),
    sa.Column('uri', sa.String(length=1500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('target_dag_id', 'uri', name=op.f('pk_asset_dag_run_queue'))
    )


def downgrade() -> None:
    op.drop_table('asset_dag_run_queue')
    op.drop_table('dag_schedule_asset')
    op.drop_index(op.f('ix_asset_event__timestamp'), table_name='asset_event')
    op.drop_index(op.f('ix_asset_event__uri'), table_name='asset_event')
    op.drop_table('asset_event')
