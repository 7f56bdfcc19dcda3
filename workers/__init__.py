"""dramatiq actors: thin glue that takes ids, opens the store and calls one crm service.

Importing this package sets the broker (workers.broker) before any actor is declared.
"""

from workers import broker as broker  # noqa: F401  (must come first)
