"""Cluster CRM tests: one folder per area of `crm/` (cli/ and faults/ run the real `crm` processes); helpers in support/."""
