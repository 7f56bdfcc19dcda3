"""Campaigns: creation, status, materialisation of their deliveries."""
