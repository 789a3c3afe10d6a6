"""A criterion's scale and its points kept apart: criterion.low_value (signed scales) and criterion.worth;
criterion.places, the decimals a rule rounds a criterion's aggregated mark to before it counts

low_value is the lowest mark a judge may type (0 unless the scale is signed, −3…+3); worth is the
points the top mark is worth when the judges mark on a scale that is not points (a 0–3 judgement
worth 5 points). Both are stored as integer hundredths, as max_value is. A mark may now be negative
(on a signed scale), so mark.value_cents loses its sign check: the criterion's range is checked when a
mark is entered, saved or imported. Downgrading puts the sign check back, which fails while any
negative mark is stored: remove those competitions' marks first.

Revision ID: 7c3e5a9d1f24
Revises: 0b8ed8de7893
Create Date: 2026-12-06 02:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c3e5a9d1f24'
down_revision = '0b8ed8de7893'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('low_value', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('worth', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('places', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_criterion_low_value'), 'low_value < max_value')
        batch_op.create_check_constraint(batch_op.f('ck_criterion_worth'), 'worth IS NULL OR worth > 0')
        batch_op.create_check_constraint(
            batch_op.f('ck_criterion_places'), 'places IS NULL OR (places >= 0 AND places <= 4)'
        )
    with op.batch_alter_table('mark', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_mark_value_cents'), type_='check')


def downgrade():
    with op.batch_alter_table('mark', schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f('ck_mark_value_cents'), 'value_cents >= 0')
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_criterion_places'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_criterion_worth'), type_='check')
        batch_op.drop_column('places')
        batch_op.drop_constraint(batch_op.f('ck_criterion_low_value'), type_='check')
        batch_op.drop_column('worth')
        batch_op.drop_column('low_value')
