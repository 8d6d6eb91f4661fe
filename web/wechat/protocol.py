"""WeChat's callback protocol for an official account, on top of wechatpy.

Every callback carries ``signature = sha1(sorted(token, timestamp, nonce))`` in its query string.
In plain mode that is all: the body (XML) is not covered by it. In safe mode (``WECHAT_AES_KEY``)
the body is ``<xml><Encrypt>…</Encrypt></xml>`` and ``msg_signature`` covers the ciphertext too;
the reply goes back encrypted. URL verification (``GET …&echostr=…``) is plain in both modes.

In plain mode the signature does not cover the body: a signed query string (proxies log them) could
be sent again with a forged body. So each (timestamp, nonce) is remembered with the body it came with
for as long as its timestamp is accepted (``Nonces``, per process), and taken again only with that
same body (a delivery sent again as it was: answered as WeChat's retries are, from the dedupe rows).
A message for another account than ``account`` (ToUserName, the account's original id) is refused.

Nothing here trusts the body before the signature and timestamp are checked, and no XML reaches a
parser before defusedxml has read it with DTDs forbidden (WeChat never sends one: a DOCTYPE can only
be an entity bomb or an external entity). wechatpy's own parsing (xmltodict) then reads a document
known to be plain elements.
"""
from __future__ import annotations

import binascii
import hashlib
import hmac
import re
import struct
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.parser import parse_message
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner
from xml.etree.ElementTree import Element, ParseError

MAX_BODY = 64 * 1024  # bytes; WeChat's largest callbacks (encrypted text) are a few KB
MAX_AGE = 300  # seconds: a callback older (or further in the future) than this is refused
# OpenIDs and account ids are base64-like; anything else is not from WeChat (and would be written
# back into our reply XML).
_USER_ID = re.compile(r"[A-Za-z0-9_\-@.]{1,64}")
# Characters XML 1.0 cannot carry, even in CDATA.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class ProtocolError(Exception):
    """A callback refused: ``status`` is the HTTP status, the message says why (to the caller)."""

    status = 400


class BadRequest(ProtocolError):
    status = 400


class Forbidden(ProtocolError):
    status = 403


class TooLarge(ProtocolError):
    status = 413


@dataclass(frozen=True)
class Callback:
    """The query string of a callback."""

    signature: str
    timestamp: str
    nonce: str
    encrypt_type: str = ""
    msg_signature: str = ""
    echostr: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> "Callback":
        return cls(signature=query.get("signature", ""), timestamp=query.get("timestamp", ""),
                   nonce=query.get("nonce", ""), encrypt_type=query.get("encrypt_type", "").lower(),
                   msg_signature=query.get("msg_signature", ""), echostr=query.get("echostr"))


class Nonces:
    """The (timestamp, nonce) pairs of callbacks taken and a digest of their body, each kept while
    its timestamp is accepted."""

    PRUNE_EVERY = 60.0  # seconds between two sweeps of the expired pairs

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self._seen: dict[tuple[str, str], tuple[float, bytes]] = {}  # pair → (forget after, body digest)
        self._next_prune = 0.0

    def take(self, timestamp: str, nonce: str, body: bytes, now: float) -> bool:
        """True for a pair not seen before (now remembered with ``body``) or seen with this body;
        False for a pair seen with another body (a replayed nonce)."""
        if now >= self._next_prune:
            self._seen = {pair: seen for pair, seen in self._seen.items() if seen[0] > now}
            self._next_prune = now + self.PRUNE_EVERY
        pair, digest = (timestamp, nonce), hashlib.sha256(body).digest()
        seen = self._seen.get(pair)
        if seen is not None:
            return hmac.compare_digest(seen[1], digest)
        self._seen[pair] = (int(timestamp) + self.max_age + 1, digest)
        return True

    def __len__(self) -> int:
        return len(self._seen)


class Protocol:
    def __init__(self, token: str, *, appid: str | None = None, aes_key: str | None = None,
                 account: str | None = None, max_age: float = MAX_AGE,
                 clock: Callable[[], float] = time.time) -> None:
        if not token:
            raise ValueError("WECHAT_TOKEN is empty")
        self.token = token
        self.appid = appid
        self.account = account
        self.max_age = max_age
        self.clock = clock
        self.nonces = Nonces(max_age)
        self.crypto: WeChatCrypto | None = None
        if aes_key:
            if not appid:
                raise ValueError("WECHAT_AES_KEY is set but WECHAT_APPID is not: safe mode needs both")
            try:
                self.crypto = _Crypto(token, aes_key, appid)
            except (AssertionError, binascii.Error, ValueError) as exc:
                raise ValueError("WECHAT_AES_KEY is not an EncodingAESKey (43 characters of base64 "
                                 "from the official account's settings)") from exc

    @property
    def safe(self) -> bool:
        return self.crypto is not None

    # --- checks on the query string -------------------------------------------------------------
    def check(self, callback: Callback) -> None:
        """The signature is the token's and the timestamp is recent; Forbidden otherwise."""
        if not callback.signature or not callback.timestamp or not callback.nonce:
            raise Forbidden("signature, timestamp and nonce are required")
        if not _same(_sign(self.token, callback.timestamp, callback.nonce), callback.signature):
            raise Forbidden("invalid signature")
        try:
            sent = int(callback.timestamp)
        except ValueError:
            raise Forbidden("invalid timestamp") from None
        if abs(self.clock() - sent) > self.max_age:
            raise Forbidden("stale timestamp")

    def echo(self, callback: Callback) -> str:
        """URL verification: the ``echostr`` back, once the signature is checked."""
        self.check(callback)
        if not callback.echostr:
            raise BadRequest("echostr is required")
        return callback.echostr

    # --- the body ---------------------------------------------------------------------------------
    def parse(self, callback: Callback, body: bytes) -> BaseMessage:
        """The message of a checked callback (call ``check`` first)."""
        if len(body) > MAX_BODY:
            raise TooLarge(f"body over {MAX_BODY} bytes")
        outer = _xml(body, "body")
        if callback.encrypt_type == "aes":
            if self.crypto is None:
                raise BadRequest("encrypted message, but WECHAT_AES_KEY is not set")
            inner = self._decrypt(callback, outer)
            _xml(inner.encode("utf-8"), "decrypted message")
        elif self.crypto is not None:
            # The plain-mode signature does not cover the body: in safe mode only ciphertext whose
            # msg_signature we check is taken.
            raise Forbidden("safe mode: only encrypted messages are accepted")
        else:
            # Safe mode needs no such memory: msg_signature binds the query to the ciphertext.
            if not self.nonces.take(callback.timestamp, callback.nonce, body, self.clock()):
                raise Forbidden("replayed nonce")
            inner = body.decode("utf-8")
        try:
            message = parse_message(inner)
        except Exception:  # noqa: BLE001 - xmltodict/wechatpy on a document of the wrong shape
            raise BadRequest("not a WeChat message") from None
        if message is None or not _USER_ID.fullmatch(str(message.source or "")) \
                or not _USER_ID.fullmatch(str(message.target or "")):
            raise BadRequest("not a WeChat message: FromUserName and ToUserName are required")
        try:
            valid = isinstance(message.time, int) and isinstance(message.id, int)
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise BadRequest("not a WeChat message: CreateTime (and MsgId) must be numbers")
        if self.account and str(message.target) != self.account:
            raise Forbidden("message for another account")
        return message

    def _decrypt(self, callback: Callback, outer: Element) -> str:
        encrypt = outer.findtext("Encrypt")
        if not encrypt:
            raise BadRequest("encrypted message without Encrypt")
        if not _same(_sign(self.token, callback.timestamp, callback.nonce, encrypt), callback.msg_signature):
            raise Forbidden("invalid msg_signature")
        try:
            return self.crypto.decrypt_message({"Encrypt": encrypt}, callback.msg_signature,
                                               callback.timestamp, callback.nonce)
        except InvalidSignatureException:
            raise Forbidden("invalid msg_signature") from None
        except InvalidAppIdException:
            raise Forbidden("encrypted for another account") from None
        except (binascii.Error, ValueError, struct.error, IndexError, TypeError):
            # Bad base64, a length that is not a multiple of the block size, bad padding, or text
            # that is not UTF-8 (UnicodeDecodeError is a ValueError).
            raise BadRequest("Encrypt cannot be decrypted") from None

    # --- replies ----------------------------------------------------------------------------------
    def reply(self, callback: Callback, message: BaseMessage, text: str) -> str:
        """A passive text reply to ``message`` (encrypted in safe mode)."""
        now = int(self.clock())
        xml = TextReply(source=message.target, target=message.source, time=now,
                        content=_cdata_safe(text)).render()
        if self.crypto is None:
            return xml
        return self.crypto.encrypt_message(xml, callback.nonce or "nonce", str(now))


    def transfer(self, callback: Callback, message: BaseMessage, account: str | None = None) -> str:
        """The passive reply that hands the conversation to the account's customer-service agents
        (``transfer_customer_service``), to ``account`` (kf2001@gh_…) when one is named."""
        now = int(self.clock())
        trans = ""
        if account:
            trans = f"<TransInfo><KfAccount><![CDATA[{_cdata_safe(account)}]]></KfAccount></TransInfo>"
        xml = (f"<xml><ToUserName><![CDATA[{message.source}]]></ToUserName>"
               f"<FromUserName><![CDATA[{message.target}]]></FromUserName><CreateTime>{now}</CreateTime>"
               f"<MsgType><![CDATA[transfer_customer_service]]></MsgType>{trans}</xml>")
        if self.crypto is None:
            return xml
        return self.crypto.encrypt_message(xml, callback.nonce or "nonce", str(now))


class _Crypto(WeChatCrypto):
    """wechatpy's WeChatCrypto (the same envelope, signature and checks), with its AES cipher made once:
    wechatpy makes one for every message it encrypts or decrypts, a tenth of the protocol's CPU."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        super().__init__(token, encoding_aes_key, app_id)
        prp = PrpCrypto(self.key)  # a cipher object only: each use makes its own encryptor (CBC state)
        self._prp = lambda _key: prp  # wechatpy's crypto_class, called with the key

    def encrypt_message(self, msg, nonce, timestamp=None):
        return self._encrypt_message(msg, nonce, timestamp, self._prp)

    def decrypt_message(self, msg, signature, timestamp, nonce):
        return self._decrypt_message(msg, signature, timestamp, nonce, self._prp)


def _sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))


def _xml(data: bytes, what: str) -> Element:
    """The root of a WeChat XML document read by defusedxml; BadRequest for anything else."""
    if not data.strip():
        raise BadRequest(f"empty {what}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"{what} is not UTF-8") from None
    try:
        root = SafeET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BadRequest(f"{what}: DTDs and entities are not accepted") from None
    except (ParseError, ValueError):
        raise BadRequest(f"{what} is not well-formed XML") from None
    if root.tag != "xml":
        raise BadRequest(f"{what}: not a WeChat message (root is not <xml>)")
    return root


def _cdata_safe(text: str) -> str:
    # wechatpy writes the content as <![CDATA[…]]>: a "]]>" in the text (a resident's own words
    # echoed back) would end it early.
    return _NOT_XML.sub("", text).replace("]]>", "]]]]><![CDATA[>")
