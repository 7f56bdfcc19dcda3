"""The `crm` command line: parse, call a crm service, print (tables, or --json)."""
