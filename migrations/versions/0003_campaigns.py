"""Campaigns, their contents, deliveries (the send ledger) and the suppression list

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 06:51:21.344353
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import crm.db


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('suppressions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.Enum('hard_bounce', 'complaint', 'manual', name='suppressionreason', native_enum=False, length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('created_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppressions')),
    sa.UniqueConstraint('address', name=op.f('uq_suppressions_address'))
    )
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('newsletter', 'invitation', 'press_release', 'call_for_projects', 'survey', name='campaignkind', native_enum=False, length=32), nullable=False),
    sa.Column('topic', sa.Enum('newsletter', 'events', 'press', 'calls', 'surveys', name='consenttopic', native_enum=False, length=32), nullable=False),
    sa.Column('consent_required', sa.Boolean(), nullable=False),
    sa.Column('segment', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'scheduled', 'sending', 'paused', 'finished', 'cancelled', name='campaignstatus', native_enum=False, length=32), nullable=False),
    sa.Column('from_name', sa.String(length=200), nullable=True),
    sa.Column('from_address', sa.String(length=320), nullable=False),
    sa.Column('reply_to', sa.String(length=320), nullable=True),
    sa.Column('default_language', sa.String(length=35), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('survey_url', sa.String(length=500), nullable=True),
    sa.Column('rate_limit', sa.Float(), nullable=True),
    sa.Column('scheduled_at', crm.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', crm.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', crm.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_campaigns_event_id_events'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_status'), ['status'], unique=False)

    op.create_table('campaign_contents',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_contents_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'language', name=op.f('pk_campaign_contents'))
    )
    op.create_table('deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'claimed', 'sending', 'sent', 'failed', 'suppressed', 'unknown', 'cancelled', name='deliverystatus', native_enum=False, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', crm.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=80), nullable=True),
    sa.Column('lease_expires_at', crm.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('language', sa.String(length=35), nullable=True),
    sa.Column('address', sa.String(length=320), nullable=True),
    sa.Column('message_id', sa.String(length=250), nullable=True),
    sa.Column('suppression_reason', sa.String(length=40), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('resent_after_crash', sa.Boolean(), nullable=False),
    sa.Column('sent_at', crm.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_deliveries_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_deliveries_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('campaign_id', 'contact_id', name=op.f('uq_deliveries_campaign_id_contact_id'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_claim', ['campaign_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_contact_id'), ['contact_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_contact_id'))
        batch_op.drop_index('ix_deliveries_claim')

    op.drop_table('deliveries')
    op.drop_table('campaign_contents')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_status'))

    op.drop_table('campaigns')
    op.drop_table('suppressions')

