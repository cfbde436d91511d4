"""Variables, connections (values stored as Fernet ciphertext) and rendered template fields.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('variable',
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('val', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_variable'))
    )
    op.create_table('connection',
    sa.Column('conn_id', sa.String(length=250), nullable=False),
    sa.Column('conn_type', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('host', sa.String(length=500), nullable=False),
    sa.Column('schema', sa.String(length=500), nullable=False),
    sa.Column('login', sa.Text(), nullable=False),
    sa.Column('password', sa.Text(), nullable=False),
    sa.Column('port', sa.Integer(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('conn_id', name=op.f('pk_connection'))
    )
    op.create_table('rendered_task_instance_fields',
    sa.Column('dag_id', sa.String(length=250), nullable=False),
    sa.Column('run_id', sa.String(length=250), nullable=False),
    sa.Column('task_id', sa.String(length=250), nullable=False),
    sa.Column('map_index', sa.Integer(), nullable=False),
    sa.Column('try_number', sa.Integer(), nullable=False),
    sa.Column('rendered_fields', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('dag_id', 'run_id', 'task_id', 'map_index',
                            name=op.f('pk_rendered_task_instance_fields'))
    )


def downgrade() -> None:
    op.drop_table('rendered_task_instance_fields')
    op.drop_table('connection')
    op.drop_table('variable')
