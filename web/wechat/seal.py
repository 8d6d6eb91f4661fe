"""What a gateway that takes over a message needs to answer it, kept in its row encrypted.

A message whose process died while answering is answered by another process (or by this one after a
restart): it needs the resident's OpenID (the customer-service push is addressed to it) and what to
ask the assistant. Neither may lie in the store in clear (the rows know the sender's pseudonym only),
so they are sealed with AES-GCM under a key derived from the secret key (HOTLINE_SECRET_KEY), bound to
the row's key, and the row forgets them once the message is final (dedup.py).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PURPOSE = b"hotline wechat seal v1"
_NONCE = 12


@dataclass(frozen=True)
class Envelope:
    openid: str
    kind: str  # ask, greet (gateway.Incoming.kind)
    message: str  # what Rasa is sent: the text, a chosen button's payload, /greet
    whole: bool = False  # the answer to a question for the resident's own words: never divided


class Sealer:
    def __init__(self, secret_key: bytes) -> None:
        self._aead = AESGCM(hmac.new(secret_key, _PURPOSE, hashlib.sha256).digest())

    def seal(self, row_key: str, envelope: Envelope) -> str:
        nonce = os.urandom(_NONCE)
        data = json.dumps([envelope.openid, envelope.kind, envelope.message, envelope.whole],
                          ensure_ascii=False).encode("utf-8")
        return base64.b64encode(nonce + self._aead.encrypt(nonce, data, row_key.encode("utf-8"))).decode("ascii")

    def open(self, row_key: str, sealed: str) -> Envelope | None:
        """The envelope; None when it cannot be opened (another key, another row, damaged)."""
        try:
            raw = base64.b64decode(sealed.encode("ascii"), validate=True)
            data = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], row_key.encode("utf-8"))
            # three items: sealed by the previous release (no ``whole``)
            openid, kind, message, *whole = json.loads(data.decode("utf-8"))
        except (InvalidTag, ValueError, TypeError, UnicodeError):
            return None
        return Envelope(str(openid), str(kind), str(message), whole == [True])
