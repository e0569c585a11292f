"""Operations that keep a node's data safe over the years, without Flask.

- ``instance``: the data folder's lock, held by ``serve`` (and by a restore), so
  that nothing replaces the database under a running server;
- ``archive``: the backup file's format (the database copy, then a zip of the stored
  scans and a manifest with the schema version and a SHA-256 per part) and the
  checks a file must pass before anything is restored from it;
- ``backup``: taking an online backup whose checksums are read back, and listing the backups of a folder;
- ``verification``: a backup checked in full after it is taken (``integrity_check``), and the verdicts;
- ``retention``: which of a folder's backups to keep (14 daily, 12 monthly);
- ``restore``: replacing the database and scans from a checked backup;
- ``runner``: one backup at a time in the background, for the admin page and the nightly job;
- ``health``: the figures of the 运行状况 page (disk, sizes, last backup, sync, calendar) and its warnings;
- ``logs``: the rotating log files in the data folder's ``logs/``.

A hub on PostgreSQL backs up with ``pg_dump`` instead (``backup.require_sqlite``).
"""
