"""Re-check sampling (复核): recheck_sample (the seed, the share, the tolerance, the marker) and recheck_item

Before the lock the organizer draws a sample from a recorded seed (every entrant in the award zone
and a share of the rest); a second marker marks the sampled criteria blind; marks further from the
panel's than the tolerance wait for the chief judge's ruling (keep, take the second, or ask a third
marker, whose blind mark picks the nearer of the two), and the lock waits for them.

Revision ID: 8f1c2b6d4e07
Revises: 5d2e8f4a7b19
Create Date: 2026-12-06 05:35:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8f1c2b6d4e07'
down_revision = '5d2e8f4a7b19'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'recheck_sample',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('competition_id', sa.Integer(), nullable=False),
        sa.Column('seed', sa.String(length=32), nullable=False),
        sa.Column('share', sa.BigInteger(), nullable=False),
        sa.Column('tolerance', sa.BigInteger(), nullable=False),
        sa.Column('zone', sa.JSON(), nullable=False),
        sa.Column('pool', sa.JSON(), nullable=False),
        sa.Column('marker_id', sa.Integer(), nullable=False),
        sa.Column('drawn_by_id', sa.Integer(), nullable=True),
        sa.Column('drawn_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('share >= 0 AND share <= 10000', name=op.f('ck_recheck_sample_share')),
        sa.CheckConstraint('tolerance > 0 AND tolerance <= 10000', name=op.f('ck_recheck_sample_tolerance')),
        sa.ForeignKeyConstraint(['competition_id'], ['competition.id'], name=op.f('fk_recheck_sample_competition_id_competition'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['drawn_by_id'], ['user.id'], name=op.f('fk_recheck_sample_drawn_by_id_user')),
        sa.ForeignKeyConstraint(['marker_id'], ['user.id'], name=op.f('fk_recheck_sample_marker_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recheck_sample')),
        sa.UniqueConstraint('competition_id', name=op.f('uq_recheck_sample_competition_id')),
    )
    op.create_table(
        'recheck_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sample_id', sa.Integer(), nullable=False),
        sa.Column('entrant_id', sa.Integer(), nullable=False),
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('second_cents', sa.BigInteger(), nullable=True),
        sa.Column('second_at', sa.DateTime(), nullable=True),
        sa.Column('third_marker_id', sa.Integer(), nullable=True),
        sa.Column('third_cents', sa.BigInteger(), nullable=True),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("state IN ('waiting', 'agreed', 'differs', 'third', 'kept', 'second')", name=op.f('ck_recheck_item_state')),
        sa.ForeignKeyConstraint(['third_marker_id'], ['user.id'], name=op.f('fk_recheck_item_third_marker_id_user')),
        sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'], name=op.f('fk_recheck_item_criterion_id_criterion'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['entrant_id'], ['entrant.id'], name=op.f('fk_recheck_item_entrant_id_entrant'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'], name=op.f('fk_recheck_item_resolved_by_id_user')),
        sa.ForeignKeyConstraint(['sample_id'], ['recheck_sample.id'], name=op.f('fk_recheck_item_sample_id_recheck_sample'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recheck_item')),
        sa.UniqueConstraint('sample_id', 'entrant_id', 'criterion_id', name=op.f('uq_recheck_item_sample_id_entrant_id_criterion_id')),
    )
    with op.batch_alter_table('recheck_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recheck_item_sample_id'), ['sample_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recheck_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recheck_item_sample_id'))
    op.drop_table('recheck_item')
    op.drop_table('recheck_sample')
