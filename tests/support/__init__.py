"""Helpers shared by the tests: real databases, the `crm` subprocess, SMTP and Redis servers, delivery fixtures."""
