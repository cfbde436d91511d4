"""Schedules and backfills: the DAG's next run (its persisted timer), backfill records, and
one scheduled or backfill run per logical date of a DAG (a unique index).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

AUTOMATED = sa.text("run_type IN ('scheduled', 'backfill')")


def upgrade() -> None:
    with op.batch_alter_table('dag') as batch:
        for name in ('next_dagrun', 'next_dagrun_data_interval_start',
                     'next_dagrun_data_interval_end', 'next_dagrun_create_after'):
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.create_table('backfill',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('dag_id', sa.String(length=250), nullable=False),
    sa.Column('from_date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('to_date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reprocess_behavior', sa.String(length=20), nullable=False),
    sa.Column('max_active_runs', sa.Integer(), nullable=False),
    sa.Column('dag_run_conf', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backfill'))
    )
    op.create_index(op.f('ix_backfill__dag_id'), 'backfill', ['dag_id'], unique=False)
    with op.batch_alter_table('dag_run') as batch:
        batch.add_column(sa.Column('backfill_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_dag_run__backfill_id'), ['backfill_id'], unique=False)
    op.create_index('uq_dag_run__dag_id__logical_date__automated', 'dag_run',
                    ['dag_id', 'logical_date'], unique=True,
                    sqlite_where=AUTOMATED, postgresql_where=AUTOMATED)


def downgrade() -> None:
    op.drop_index('uq_dag_run__dag_id__logical_date__automated', table_name='dag_run')
    with op.batch_alter_table('dag_run') as batch:
        batch.drop_index(batch.f('ix_dag_run__backfill_id'))
        batch.drop_column('backfill_id')
    op.drop_index(op.f('ix_backfill__dag_id'), table_name='backfill')
    op.drop_table('backfill')
    with op.batch_alter_table('dag') as batch:
        for name in ('next_dagrun_create_after', 'next_dagrun_data_interval_end',
                     'next_dagrun_data_interval_start', 'next_dagrun'):
            batch.drop_column(name)
