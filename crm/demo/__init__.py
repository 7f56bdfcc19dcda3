"""The demo cluster (`crm demo`): a realistic agri-food cluster built in an empty database.

`cluster` builds it (deterministic for a seed and a day) and sums it up; `data` holds the
cluster's words (organisations, events, topics, in French, English and Arabic); `people`
adds organisations, contacts and consent; `activity` a year of calendar, interactions and
perception; `campaigns` the two campaigns the demo sends through the real engine.
"""
