"""A trimmed mean may drop more than one mark from each end: criterion.trim

Revision ID: 4e7b9c1d2a60
Revises: 9a41c2d7e5b3
Create Date: 2026-12-05 23:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4e7b9c1d2a60'
down_revision = '9a41c2d7e5b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trim', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_criterion_trim'), 'trim >= 1')


def downgrade():
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_criterion_trim'), type_='check')
        batch_op.drop_column('trim')
