"""Initial schema: dag, serialized_dag, dag_run, task_instance, task_instance_history, xcom,
import_error.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 11:34:38.115169
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dag',
    sa.Column('dag_id', sa.String(length=250), nullable=False),
    sa.Column('fileloc', sa.String(length=2000), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('is_paused', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('schedule', sa.String(length=1000), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('owners', sa.JSON(), nullable=False),
    sa.Column('doc_md', sa.Text(), nullable=True),
    sa.Column('last_parsed_time', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('dag_id', name=op.f('pk_dag'))
    )
    op.create_table('dag_run',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('dag_id', sa.String(length=250), nullable=False),
    sa.Column('run_id', sa.String(length=250), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'success', 'failed', name='dagrunstate', native_enum=False, length=20), nullable=False),
    sa.Column('run_type', sa.Enum('manual', 'scheduled', 'backfill', name='dagruntype', native_enum=False, length=20), nullable=False),
    sa.Column('logical_date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data_interval_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('data_interval_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('start_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('conf', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dag_run')),
    sa.UniqueConstraint('dag_id', 'run_id', name=op.f('uq_dag_run__dag_id_run_id'))
    )
    with op.batch_alter_table('dag_run', schema=None) as batch_op:
        batch_op.create_index('ix_dag_run__dag_id__logical_date', ['dag_id', 'logical_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_dag_run__state'), ['state'], unique=False)

    op.create_table('import_error',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('filename', sa.String(length=2000), nullable=False),
    sa.Column('stacktrace', sa.Text(), nullable=False),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_error')),
    sa.UniqueConstraint('filename', name=op.f('uq_import_error__filename'))
    )
    op.create_table('serialized_dag',
    sa.Column('dag_id', sa.String(length=250), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('dag_hash', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('dag_id', name=op.f('pk_serialized_dag'))
    )
    op.create_table('task_instance',
    sa.Column('dag_id', sa.String(length=250), nullable=False),
    sa.Column('run_id', sa.String(length=250), nullable=False),
    sa.Column('task_id', sa.String(length=250), nullable=False),
    sa.Column('map_index', sa.Integer(), nullable=False),
    sa.Column('try_number', sa.Integer(), nullable=False),
    sa.Column('max_tries', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('none', 'scheduled', 'queued', 'running', 'success', 'failed', 'up_for_retry', 'up_for_reschedule', 'upstream_failed', 'skipped', 'removed', name='taskinstancestate', native_enum=False, length=20), nullable=False),
    sa.Column('operator', sa.String(length=250), nullable=False),
    sa.Column('queue', sa.String(length=250), nullable=False),
    sa.Column('pool', sa.String(length=250), nullable=False),
    sa.Column('pool_slots', sa.Integer(), nullable=False),
    sa.Column('priority_weight', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration', sa.Float(), nullable=True),
    sa.Column('hostname', sa.String(length=1000), nullable=False),
    sa.Column('worker_id', sa.String(length=250), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_retry_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('dag_id', 'run_id', 'task_id', 'map_index', name=op.f('pk_task_instance'))
    )
    with op.batch_alter_table('task_instance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_instance__state'), ['state'], unique=False)

    op.create_table('task_instance_history',
    sa.Column('dag_id', sa.String(length=250), nullable=False),
    sa.Column('run_id', sa.String(length=250), nullable=False),
    sa.Column('task_id', sa.String(length=250), nullable=False),
    sa.Column('map_index', sa.Integer(), nullable=False),
    sa.Column('try_number', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('none', 'scheduled', 'queued', 'running', 'success', 'failed', 'up_for_retry', 'up_for_reschedule', 'upstream_failed', 'skipped', 'removed', name='taskinstancestate', native_enum=False, length=20), nullable=False),
    sa.Column('start_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration', sa.Float(), nullable=True),
    sa.Column('hostname', sa.String(length=1000), nullable=False),
    sa.Column('worker_id', sa.String(length=250), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('dag_id', 'run_id', 'task_id', 'map_index', 'try_number', name=op.f('pk_task_instance_history'))
    )
    op.create_table('xcom',
    sa.Column('dag_id', sa.String(length=250), nullable=False),
    sa.Column('run_id', sa.String(length=250), nullable=False),
    sa.Column('task_id', sa.String(length=250), nullable=False),
    sa.Column('map_index', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=512), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('dag_id', 'run_id', 'task_id', 'map_index', 'key', name=op.f('pk_xcom'))
    )


def downgrade() -> None:
    op.drop_table('xcom')
    op.drop_table('task_instance_history')
    with op.batch_alter_table('task_instance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_instance__state'))

    op.drop_table('task_instance')
    op.drop_table('serialized_dag')
    op.drop_table('import_error')
    with op.batch_alter_table('dag_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dag_run__state'))
        batch_op.drop_index('ix_dag_run__dag_id__logical_date')

    op.drop_table('dag_run')
    op.drop_table('dag')
