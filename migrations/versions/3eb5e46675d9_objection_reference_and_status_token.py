"""Objections: a reference for whoever lodged one, and the hashed token of its status page

`ref` (YY-<competition code>-0001, numbered per competition) is what the person quotes; `token_hash`
is the SHA-256 of the token in the address of the status page only they were given. Objections
lodged before get their reference here, numbered in the order they were lodged, and no token.

Revision ID: 3eb5e46675d9
Revises: 6d7af19724ea
Create Date: 2026-12-05 18:53:20

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3eb5e46675d9'
down_revision = '6d7af19724ea'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ref', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_objection_ref'), ['ref'])
        batch_op.create_unique_constraint(batch_op.f('uq_objection_token_hash'), ['token_hash'])

    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT objection.id, competition.code FROM objection"
            " JOIN competition ON competition.id = objection.competition_id"
            " ORDER BY objection.competition_id, objection.created_at, objection.id"
        )
    ).all()
    numbers: dict[str, int] = {}
    for objection_id, code in rows:
        numbers[code] = numbers.get(code, 0) + 1
        connection.execute(
            sa.text("UPDATE objection SET ref = :ref WHERE id = :id"),
            {"ref": f"YY-{code}-{numbers[code]:04d}", "id": objection_id},
        )


def downgrade():
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_objection_token_hash'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_objection_ref'), type_='unique')
        batch_op.drop_column('token_hash')
        batch_op.drop_column('ref')
