"""Passwords: the rules a new one must meet, random ones, and hashing. No database, no Flask.

- A new password is at least MIN_PASSWORD_LENGTH (12) characters and at most
  MAX_PASSWORD_LENGTH. Twelve is what a random password of ours has, what the
  OWASP ASVS asks of a password that is the only factor, and still easy for a
  clerk as a phrase (“correct horse 42”); the login throttle makes online
  guessing slow, so length and unguessability protect against a copied
  database.
- It must not be guessable: zxcvbn (Dropbox's estimator, with its lists of
  common passwords, words, names, dates, keyboard rows and repeats) must rate
  it at least MIN_SCORE (3: “safely unguessable”, about 10⁸ guesses). Its
  lists are English, so the user's own name and the passwords most common in
  Chinese leaks are given to it as words too.
- Hashes are werkzeug's (scrypt). A check costs tens of milliseconds of CPU:
  callers run it outside any database transaction, so it never holds the
  write lock (bench/RESULTS.md, login under attack).
"""
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

from .text import encodable

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MIN_SCORE = 3
RANDOM_LENGTH = 14
# zxcvbn refuses longer input (its matching is quadratic); the first 72 characters decide.
_SCORED_LENGTH = 72
# Letters and digits that cannot be mistaken for one another when read aloud or copied by hand.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# Frequent in Chinese password leaks and absent from zxcvbn's English lists.
_CHINESE_COMMON = ("woaini", "5201314", "1314520", "520520", "woaini1314", "dearbook", "xiazhili",
                   "zhongguo", "beijing", "shanghai", "qq123456", "aini1314", "wangyi", "baidu", "zhangwei",
                   "wangfang", "liwei", "mima", "mima123", "zhanghao")
_dummy_hash = None


class PasswordError(ValueError):
    """A password that may not be used; the message (in Chinese) says why."""


def check_rules(password, *, words=()):
    """Raise PasswordError unless ``password`` may be set; ``words`` are the user's own (name, display name)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordError(f"密码不能超过 {MAX_PASSWORD_LENGTH} 个字符")
    if not password.strip():
        raise PasswordError("密码不能全是空格")
    own = [w for w in words if w]
    if any(password.strip().lower() == w.lower() for w in own):
        raise PasswordError("密码不能与用户名或姓名相同")
    if "\x00" in password or not encodable(password):
        raise PasswordError("密码含有无法使用的字符（空字符或不完整的编码），请重新输入")
    from zxcvbn import zxcvbn  # its lists take 13 MB: loaded with the first new password, not at start

    verdict = zxcvbn(password[:_SCORED_LENGTH], user_inputs=[*own, *_CHINESE_COMMON])
    if verdict["score"] < MIN_SCORE:
        raise PasswordError("密码太容易被猜到（常见密码、常用词、姓名、日期、键盘顺序或重复字符）："
                            "请用几个不相关的词加数字组成一句，例如“春天 骑车 去 县城 27”")


def random_password():
    """A new random password of RANDOM_LENGTH easily read characters (about 80 bits) that meets the rules."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(RANDOM_LENGTH))
        try:
            check_rules(password)
        except PasswordError:  # a run of letters that happens to spell a word: draw again
            continue
        return password



def hash_password(password):
    """The stored form of ``password`` (slow on purpose: call it outside a transaction)."""
    return generate_password_hash(password)


def verify(password_hash, password):
    """Whether ``password`` matches ``password_hash``; always one full hash check, also without a hash.

    Without a stored hash (an unknown user) a dummy one is checked, so that
    the answer takes as long as for a real user.
    """
    global _dummy_hash
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH or not encodable(password):
        password = ""  # matches no stored hash (passwords are never empty or longer), and costs the same
    if not password_hash:
        if _dummy_hash is None:
            _dummy_hash = generate_password_hash(secrets.token_hex(16))
        check_password_hash(_dummy_hash, password)
        return False
    return check_password_hash(password_hash, password)
