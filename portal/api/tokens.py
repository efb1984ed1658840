"""API key secrets: how they look, how they are made and how they are checked.

A key reads `pzk_ab12cd34.<40 random characters>`. The part before the dot is the prefix: unique,
stored in clear, shown in lists and used to find the key. The rest is the secret: 40 characters
from 62 give about 238 bits, drawn with `secrets`. Only a SHA-512 of the whole key is stored
(djangorestframework-api-key's hasher: a fast hash is right for a long random secret, where a
password hasher's deliberate slowness would only slow down every API call).
"""

import string

from django.utils.crypto import get_random_string
from rest_framework_api_key.crypto import KeyGenerator

KEY_MARK = "pzk_"
PREFIX_RANDOM_LENGTH = 8
SECRET_LENGTH = 40
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits


class PortalKeyGenerator(KeyGenerator):
    def __init__(self):
        super().__init__(prefix_length=PREFIX_RANDOM_LENGTH, secret_key_length=SECRET_LENGTH)

    def get_prefix(self) -> str:
        return KEY_MARK + get_random_string(self.prefix_length, allowed_chars=_PREFIX_ALPHABET)


generator = PortalKeyGenerator()


def key_generate() -> tuple[str, str, str]:
    """A new key: (the full key to show once, its prefix, the hash to store)."""
    return generator.generate()


def key_prefix(raw: str) -> str | None:
    """The prefix of a presented key, or None if it cannot be one of ours."""
    prefix, dot, secret = raw.partition(".")
    if not dot or not prefix.startswith(KEY_MARK) or len(prefix) != len(KEY_MARK) + PREFIX_RANDOM_LENGTH:
        return None
    if len(secret) != SECRET_LENGTH or not secret.isalnum() or not secret.isascii():
        return None
    return prefix


def key_matches(raw: str, hashed_key: str) -> bool:
    """Constant-time comparison of a presented key with a stored hash."""
    return generator.verify(raw, hashed_key)
