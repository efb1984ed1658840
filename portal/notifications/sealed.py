"""The secret part of an outbox message: sealed at rest, filled in only when the message leaves.

A message may carry one secret (a one-time code, say) apart from its text. The text holds
PLACEHOLDER where the secret goes; the secret is stored as a Fernet token under a key derived
with HKDF from SECRET_KEY (tokens sealed under a key in SECRET_KEY_FALLBACKS still open). The
transport fills it in at send time, and the row drops the token when it hands the message over
or when its owner destroys it (`services.outbox_secret_destroy`).

A keyed digest of the text as sent lets the provider's copy be recognised later without keeping
the secret: a plain hash of a text around a 6-digit code could be reversed by trying every code.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.html import escape

PLACEHOLDER = "⟦secret⟧"
MASK = "••••••"

_SALT = b"partnerzone.notifications.outbox"


class SecretUnreadable(Exception):
    """The sealed secret does not open with SECRET_KEY or any of SECRET_KEY_FALLBACKS."""


def _secret_keys() -> tuple[str, ...]:
    return (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ()))


def _derive(secret_key: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=purpose).derive(secret_key.encode())


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    # MultiFernet seals with the first key and opens with any, so a rotated SECRET_KEY keeps working.
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_derive(key, b"secret v1"))) for key in keys])


@lru_cache(maxsize=8)
def _digest_keys(keys: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(_derive(key, b"text digest v1") for key in keys)


def secret_seal(plain: str) -> str:
    return _fernet(_secret_keys()).encrypt(plain.encode()).decode()


def secret_open(token: str) -> str:
    try:
        return _fernet(_secret_keys()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("The sealed secret does not open with SECRET_KEY or SECRET_KEY_FALLBACKS.") from None


def text_fill(text: str, secret: str, *, html: bool = False) -> str:
    return text.replace(PLACEHOLDER, escape(secret) if html else secret)


def text_mask(text: str) -> str:
    return text.replace(PLACEHOLDER, MASK)


def text_digest(text: str) -> str:
    """The keyed digest of a text as it was sent (under the current key)."""
    return hmac.new(_digest_keys(_secret_keys())[0], text.encode(), hashlib.sha256).hexdigest()


def text_digest_matches(text: str, digest: str) -> bool:
    """Whether `text` is what was sent, under the current key or a fallback one."""
    return any(
        hmac.compare_digest(hmac.new(key, text.encode(), hashlib.sha256).hexdigest(), digest)
        for key in _digest_keys(_secret_keys())
    )
