"""Saved segments: a name for a rule (membership is computed at use time, never stored)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 06:50:14.545111
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import crm.db


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Planner statistics on a contact's perception segment as crm.perception.segment_case computes it
# (PostgreSQL >= 14). Without them the planner guesses 0.5 % of assessments for any
# `perception = …` clause and joins a segment of 100,000 contacts row by row (seconds on a
# million contacts); with them it hashes. The expression must stay the one PostgreSQL sees at
# run time: tests/test_segments.py fails when crm.perception changes it (then add a migration).
SEGMENT_EXPRESSION = """(CASE
    WHEN credibility = 'unknown' OR interest = 'unknown' THEN 'no_opinion'::varchar
    WHEN credibility = 'low' AND interest = 'low' THEN 'opponent'::varchar
    WHEN credibility = 'high' AND interest = 'low' THEN 'indifferent'::varchar
    WHEN credibility = 'low' AND interest = 'high' THEN 'skeptic'::varchar
    ELSE 'acquired'::varchar END)::text"""


def _statistics_supported() -> bool:
    dialect = op.get_context().dialect
    version = getattr(dialect, "server_version_info", None)  # None when writing SQL offline
    return dialect.name == "postgresql" and (version is None or version >= (14,))


def upgrade() -> None:
    op.create_table('segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('rule', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segments')),
    sa.UniqueConstraint('name', name=op.f('uq_segments_name'))
    )
    if _statistics_supported():
        op.execute(f"CREATE STATISTICS st_perception_assessments_segment ON ({SEGMENT_EXPRESSION}) "
                   "FROM perception_assessments")
        op.execute("ANALYZE perception_assessments")


def downgrade() -> None:
    if _statistics_supported():
        op.execute("DROP STATISTICS IF EXISTS st_perception_assessments_segment")
    op.drop_table('segments')
