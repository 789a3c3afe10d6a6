"""Programmes and attempts: criterion.factored and programme_item (a factor per entrant and criterion);
stage.best and not_taken (a stage of attempts where only the best count, and the attempts not taken)

A factored criterion (a dive, a skating element) is multiplied by a factor each entrant declares
before judging (a degree of difficulty, a base value); programme_item holds it, with the label the
sport gives the element (5154B), stored as integer thousandths. A stage of attempts (three runs of a
halfpipe final) counts only its best `best` score criteria; not_taken records an attempt an entrant did
not take (DNS, DNI), which then has no score and is not waited for.

Revision ID: 5d2e8f4a7b19
Revises: 7c3e5a9d1f24
Create Date: 2026-12-06 05:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2e8f4a7b19'
down_revision = '7c3e5a9d1f24'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('factored', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'programme_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entrant_id', sa.Integer(), nullable=False),
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('factor', sa.BigInteger(), nullable=False),
        sa.Column('label', sa.String(length=16), nullable=False),
        sa.CheckConstraint('factor > 0', name=op.f('ck_programme_item_factor')),
        sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'], name=op.f('fk_programme_item_criterion_id_criterion'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['entrant_id'], ['entrant.id'], name=op.f('fk_programme_item_entrant_id_entrant'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_item')),
        sa.UniqueConstraint('entrant_id', 'criterion_id', name=op.f('uq_programme_item_entrant_id_criterion_id')),
    )
    with op.batch_alter_table('programme_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_item_criterion_id'), ['criterion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_item_entrant_id'), ['entrant_id'], unique=False)
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('best', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_stage_best'), 'best IS NULL OR best >= 1')
    op.create_table(
        'not_taken',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('competition_id', sa.Integer(), nullable=False),
        sa.Column('entrant_id', sa.Integer(), nullable=False),
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=8), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("reason IN ('DNS', 'DNI')", name=op.f('ck_not_taken_reason')),
        sa.ForeignKeyConstraint(['competition_id'], ['competition.id'], name=op.f('fk_not_taken_competition_id_competition'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'], name=op.f('fk_not_taken_criterion_id_criterion'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['entrant_id'], ['entrant.id'], name=op.f('fk_not_taken_entrant_id_entrant'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_not_taken_recorded_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_not_taken')),
        sa.UniqueConstraint('entrant_id', 'criterion_id', name=op.f('uq_not_taken_entrant_id_criterion_id')),
    )
    with op.batch_alter_table('not_taken', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_not_taken_competition_id'), ['competition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_not_taken_criterion_id'), ['criterion_id'], unique=False)


def downgrade():
    with op.batch_alter_table('not_taken', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_not_taken_criterion_id'))
        batch_op.drop_index(batch_op.f('ix_not_taken_competition_id'))
    op.drop_table('not_taken')
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_stage_best'), type_='check')
        batch_op.drop_column('best')
    with op.batch_alter_table('programme_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_item_entrant_id'))
        batch_op.drop_index(batch_op.f('ix_programme_item_criterion_id'))
    op.drop_table('programme_item')
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.drop_column('factored')
