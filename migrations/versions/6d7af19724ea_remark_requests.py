"""Re-mark requests: the chief judge asks one judge to look at one mark again

One row per judge asked, with the mark as it was and the highest MarkChange id at that moment:
the judge has re-marked once a later MarkChange of theirs exists, so a mark save writes nothing
here. `answer` records what no MarkChange shows ('kept', 'withdrawn').

Revision ID: 6d7af19724ea
Revises: 5c2e0f4a9b71
Create Date: 2026-12-05 13:15:41

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6d7af19724ea'
down_revision = '5c2e0f4a9b71'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('remark_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('entrant_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('asked_by_id', sa.Integer(), nullable=True),
    sa.Column('asked_at', sa.DateTime(), nullable=False),
    sa.Column('old_cents', sa.Integer(), nullable=True),
    sa.Column('after_change_id', sa.Integer(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answer', sa.String(length=16), nullable=True),
    sa.CheckConstraint("answer IN ('kept', 'withdrawn')", name=op.f('ck_remark_request_answer')),
    sa.ForeignKeyConstraint(['asked_by_id'], ['user.id'], name=op.f('fk_remark_request_asked_by_id_user')),
    sa.ForeignKeyConstraint(['competition_id'], ['competition.id'], name=op.f('fk_remark_request_competition_id_competition'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'], name=op.f('fk_remark_request_criterion_id_criterion'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entrant_id'], ['entrant.id'], name=op.f('fk_remark_request_entrant_id_entrant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['judge_id'], ['user.id'], name=op.f('fk_remark_request_judge_id_user')),
    sa.ForeignKeyConstraint(['review_id'], ['discrepancy_review.id'], name=op.f('fk_remark_request_review_id_discrepancy_review'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remark_request'))
    )
    with op.batch_alter_table('remark_request', schema=None) as batch_op:
        batch_op.create_index('ix_remark_request_judge', ['competition_id', 'judge_id'], unique=False)
        batch_op.create_index('ix_remark_request_mark', ['entrant_id', 'criterion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remark_request_review_id'), ['review_id'], unique=False)


def downgrade():
    with op.batch_alter_table('remark_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remark_request_review_id'))
        batch_op.drop_index('ix_remark_request_mark')
        batch_op.drop_index('ix_remark_request_judge')

    op.drop_table('remark_request')
