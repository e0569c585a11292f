"""The hub's own key, kept in its data folder, that encrypts the townships' secrets in the database.

A hash is not enough: the hub recomputes each request's HMAC, so it must
know the secret. Encrypted with a key outside the database, a copy of the
database alone (a backup on a USB stick) does not give the secrets away;
the key file must be kept with the backups of a hub (README), else after a
restore on another PC every township needs ``node secret`` again.

``cryptography`` (its OpenSSL and Rust bindings: 7 MB of the window's
memory) is imported only when a secret is sealed or unsealed: at the hub.
"""
import secrets
from pathlib import Path

from .. import paths
from .errors import NodeError

KEY_FILENAME = "sync_hub.key"


def _fernet(data_dir):
    from cryptography.fernet import Fernet

    path = paths.private_file(Path(data_dir) / KEY_FILENAME)
    if not path.stat().st_size:
        path.write_bytes(Fernet.generate_key())
    return Fernet(path.read_bytes().strip())


def new_secret():
    """A fresh shared secret: 32 random bytes as 64 hex digits (typed once into the township's settings)."""
    return secrets.token_hex(32)


def seal(data_dir, secret):
    """``secret`` encrypted with the hub's key, as text for the database."""
    return _fernet(data_dir).encrypt(secret.encode("ascii")).decode("ascii")


def unseal(data_dir, sealed):
    """The secret ``seal`` encrypted; NodeError when the hub's key is not the one that sealed it."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(data_dir).decrypt(sealed.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError):
        raise NodeError(f"无法解开节点密钥：数据文件夹中的 {KEY_FILENAME} 不是登记该节点时的那一个；"
                        "请用 node secret 为该乡镇重新生成密钥") from None
