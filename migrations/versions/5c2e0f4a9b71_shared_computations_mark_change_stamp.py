"""Shared computations (board, results) and the mark-change index that stamps them

A saved mark no longer bumps competition.version: the live board and the results are stamped
by the competition's version and the count and last id of its mark changes, read from the
index (competition_id, id). The `computed` table holds what one app process built for all.

Revision ID: 5c2e0f4a9b71
Revises: 7786fe567f01
Create Date: 2026-12-05 13:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c2e0f4a9b71'
down_revision = '7786fe567f01'
branch_labels = None
depends_on = None


def upgrade():
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
    with op.batch_alter_table('mark_change', schema=None) as batch_op:
        batch_op.create_index('ix_mark_change_competition_changes', ['competition_id', 'id'], unique=False)
        batch_op.drop_index('ix_mark_change_competition_id')


def downgrade():
    with op.batch_alter_table('mark_change', schema=None) as batch_op:
        batch_op.create_index('ix_mark_change_competition_id', ['competition_id'], unique=False)
        batch_op.drop_index('ix_mark_change_competition_changes')
    op.drop_table('computed')
