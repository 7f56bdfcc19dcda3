"""Cluster CRM: contacts, interactions and campaign automation for an innovation cluster."""

__version__ = "0.1.0"
