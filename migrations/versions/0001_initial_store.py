"""The store: contacts, organisations, consent, perception, interactions, events

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 06:10:11.458659
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import crm.db


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('custom_fields',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('type', sa.Enum('text', 'number', 'date', 'boolean', name='fieldtype', native_enum=False, length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_fields')),
    sa.UniqueConstraint('key', name=op.f('uq_custom_fields_key'))
    )
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('thematic_debate', 'monthly_meeting', 'annual_meeting', 'general_assembly', 'company_visit', 'regional_meeting', 'award_ceremony', 'workshop', 'team_building', 'press_conference', name='eventkind', native_enum=False, length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('starts_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=True),
    sa.Column('online_url', sa.String(length=500), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('organiser', sa.String(length=120), nullable=True),
    sa.Column('created_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity IS NULL OR capacity > 0', name=op.f('ck_events_positive_capacity')),
    sa.CheckConstraint('ends_at >= starts_at', name=op.f('ck_events_ends_after_start')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_starts_at'), ['starts_at'], unique=False)

    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('company', 'research_centre', 'university', 'public_institution', 'local_authority', 'private_institution', 'investor', 'funding_programme', 'other_cluster', 'professional_association', 'media', 'other', name='organisationkind', native_enum=False, length=32), nullable=False),
    sa.Column('sector', sa.String(length=120), nullable=True),
    sa.Column('region', sa.String(length=120), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('size', sa.Enum('micro', 'small', 'medium', 'large', name='organisationsize', native_enum=False, length=32), nullable=True),
    sa.Column('created_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations'))
    )
    # Case-insensitive uniqueness lives in expression indexes: same SQL on SQLite and PostgreSQL.
    op.create_index('uq_organisations_name_lower', 'organisations', [sa.text('lower(name)')], unique=True)
    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('name', name=op.f('uq_tags_name'))
    )
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=120), nullable=True),
    sa.Column('last_name', sa.String(length=120), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('language', sa.String(length=35), nullable=True),
    sa.Column('position', sa.String(length=200), nullable=True),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('target', sa.Enum('staff', 'governance', 'member_company', 'partner', 'commission', 'public_institution', 'local_authority', 'private_institution', 'investor', 'project_holder', 'research', 'funding_programme', 'other_cluster', 'professional_association', 'media', name='targetgroup', native_enum=False, length=32), nullable=True),
    sa.Column('membership', sa.Enum('member', 'prospect', 'partner', 'former', name='membership', native_enum=False, length=32), nullable=True),
    sa.Column('member_since', sa.Date(), nullable=True),
    sa.Column('member_until', sa.Date(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_contacts_organisation_id_organisations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_target'), ['target'], unique=False)
    op.create_index('uq_contacts_email_lower', 'contacts', [sa.text('lower(email)')], unique=True)

    op.create_table('interactions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('visit', 'monthly_meeting', 'annual_meeting', 'general_assembly', 'commission', 'steering_committee', 'thematic_debate', 'workshop', 'event_attendance', 'call', 'email', 'press_contact', name='interactionkind', native_enum=False, length=32), nullable=False),
    sa.Column('occurred_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('led_by', sa.String(length=120), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('created_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_interactions_event_id_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_interactions_organisation_id_organisations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interactions'))
    )
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interactions_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interactions_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_interactions_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_interactions_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('consent_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.Enum('newsletter', 'events', 'press', 'calls', 'surveys', name='consenttopic', native_enum=False, length=32), nullable=False),
    sa.Column('action', sa.Enum('opt_in', 'opt_out', name='consentaction', native_enum=False, length=32), nullable=False),
    sa.Column('at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.Enum('form', 'import', 'animator', 'unsubscribe', 'api', name='consentsource', native_enum=False, length=32), nullable=False),
    sa.Column('proof', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_consent_events_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_events'))
    )
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.create_index('ix_consent_events_latest', ['contact_id', 'topic', 'at', 'id'], unique=False)

    op.create_table('contact_field_values',
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('field_id', sa.Integer(), nullable=False),
    sa.Column('text_value', sa.Text(), nullable=True),
    sa.Column('number_value', sa.Float(precision=53), nullable=True),
    sa.Column('date_value', sa.Date(), nullable=True),
    sa.Column('bool_value', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_field_values_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['field_id'], ['custom_fields.id'], name=op.f('fk_contact_field_values_field_id_custom_fields'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', 'field_id', name=op.f('pk_contact_field_values'))
    )
    with op.batch_alter_table('contact_field_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_field_values_field_id'), ['field_id'], unique=False)

    op.create_table('contact_tags',
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_tags_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_contact_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', 'tag_id', name=op.f('pk_contact_tags'))
    )
    with op.batch_alter_table('contact_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_tags_tag_id'), ['tag_id'], unique=False)

    op.create_table('interaction_contacts',
    sa.Column('interaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_interaction_contacts_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'], name=op.f('fk_interaction_contacts_interaction_id_interactions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('interaction_id', 'contact_id', name=op.f('pk_interaction_contacts'))
    )
    with op.batch_alter_table('interaction_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interaction_contacts_contact_id'), ['contact_id'], unique=False)

    op.create_table('perception_assessments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('credibility', sa.Enum('high', 'low', 'unknown', name='level', native_enum=False, length=32), nullable=False),
    sa.Column('interest', sa.Enum('high', 'low', 'unknown', name='level', native_enum=False, length=32), nullable=False),
    sa.Column('assessed_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.Enum('survey', 'visit', 'meeting', 'animator', name='assessmentsource', native_enum=False, length=32), nullable=False),
    sa.Column('author', sa.String(length=120), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', crm.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_perception_assessments_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_perception_assessments'))
    )
    with op.batch_alter_table('perception_assessments', schema=None) as batch_op:
        batch_op.create_index('ix_perception_assessments_latest', ['contact_id', 'assessed_at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('perception_assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_perception_assessments_latest')

    op.drop_table('perception_assessments')
    with op.batch_alter_table('interaction_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interaction_contacts_contact_id'))

    op.drop_table('interaction_contacts')
    with op.batch_alter_table('contact_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_tags_tag_id'))

    op.drop_table('contact_tags')
    with op.batch_alter_table('contact_field_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_field_values_field_id'))

    op.drop_table('contact_field_values')
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_events_latest')

    op.drop_table('consent_events')
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interactions_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_interactions_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_interactions_kind'))
        batch_op.drop_index(batch_op.f('ix_interactions_event_id'))

    op.drop_table('interactions')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_target'))
        batch_op.drop_index(batch_op.f('ix_contacts_organisation_id'))

    op.drop_index('uq_contacts_email_lower', table_name='contacts')
    op.drop_table('contacts')
    op.drop_table('tags')
    op.drop_index('uq_organisations_name_lower', table_name='organisations')
    op.drop_table('organisations')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_starts_at'))

    op.drop_table('events')
    op.drop_table('custom_fields')
