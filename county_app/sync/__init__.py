"""The nightly exchange between a township and the county hub (docs/sync.md); no Flask here.

- ``records``: the tables (nodes at the hub, the outbox, marks, nonces, runs, conflicts).
- ``nodes``, ``hubkey``: the townships a hub knows and their secrets, kept encrypted.
- ``outbox``: the row written with every change of a case, and the batches read from it.
- ``snapshot``, ``apply``: what a change carries, and how the other side applies it.
- ``signing``, ``batches``: the signed, compressed, bounded requests.
- ``hub``: what the hub does with a push and a pull; ``client``: a township's run, ``transport`` its requests.
- ``scanupload``, ``scanstore``: scans sent in resumable chunks, and the hub's side of them.
- ``files``: the same exchange as one signed file, for a USB stick.
- ``reconcile``: what each side holds per day, and a township's report of it after each run.
"""
