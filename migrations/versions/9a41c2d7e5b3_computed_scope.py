"""Shared computations keyed by a scope: a competition's, or the city dashboard's year

The `computed` table held only per-competition computations (its key was the competition).
The city dashboard's figures are shared by every app server too, so the key becomes
(kind, scope), and the competition becomes an optional column that still takes its rows with
it. The table holds caches only: it is made again empty, and the next request fills it.

Revision ID: 9a41c2d7e5b3
Revises: 3eb5e46675d9
Create Date: 2026-12-05 22:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9a41c2d7e5b3'
down_revision = '3eb5e46675d9'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('computed')
    op.create_table('computed',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=True),
    sa.Column('stamp', sa.String(length=64), nullable=False),
    sa.Column('built_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['competition_id'], ['competition.id'], name=op.f('fk_computed_competition_id_competition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kind', 'scope', name=op.f('pk_computed'))
    )
    with op.batch_alter_table('computed', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_computed_competition_id'), ['competition_id'], unique=False)


def downgrade():
    op.drop_table('computed')
    op.create_table('computed',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('stamp', sa.String(length=64), nullable=False),
    sa.Column('built_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['competition_id'], ['competition.id'], name=op.f('fk_computed_competition_id_competition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kind', 'competition_id', name=op.f('pk_computed'))
    )
