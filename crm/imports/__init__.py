"""Contact import from the CSV files animators really have (see service.import_contacts)."""
