"""What only a county hub does, beside the exchange itself (``sync/``); no Flask here.

- ``townships``: which township a case came from, by its number (the township's 12-digit centre code
  begins it), named as the hub registered the township (``sync_node``).
- ``reconciliation``: each township's days as it reported them beside the hub's, and the cases that differ.

Who may do what at the hub (the window's actions belong to the townships, results and suspensions to the
departments) is in ``access.AT_HUB``, checked where every permission is.
"""
