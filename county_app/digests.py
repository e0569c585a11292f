"""The SHA-256 of a file, read in pieces: a scan or a workbook is never held in memory whole."""
import hashlib

PIECE = 1 << 20


def file_sha256(path):
    """The hex SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for piece in iter(lambda: handle.read(PIECE), b""):
            digest.update(piece)
    return digest.hexdigest()
