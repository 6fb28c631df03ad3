"""An independent implementation of Quietline's wire format, written from docs/wire-format.md
alone, using only the `cryptography` package for Ed25519 and SHA-256.

It shows that any Ed25519 implementation can issue commands that a phone accepts and check the
receipts that phones send back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MAGIC = b"QL"
VERSION = 1  # commands, policies and root rotations
PREFIX = "QL:"
MAX_TEXT = 96 * 1024
SIG_LEN = 64

T_COMMAND, T_POLICY, T_ROOT, T_RECEIPT, T_ENROLL_RESPONSE, T_BUNDLE = 1, 2, 3, 4, 5, 6
T_CHECKIN_ACK = 8  # type 7 is the relay's status report (docs/relay-protocol.md)
COMMAND_LEN, RECEIPT_LEN, ENROLL_RESPONSE_LEN, CHECKIN_ACK_LEN = 101, 108, 148, 112
# The wire version of each type: 2 where issue 11 changed a layout (enrollment bundle and response).
VERSIONS = {T_COMMAND: 1, T_POLICY: 1, T_ROOT: 1, T_RECEIPT: 1, T_ENROLL_RESPONSE: 2, T_BUNDLE: 2, T_CHECKIN_ACK: 1}

ACTIONS = {"lock": 1, "wipe_selective": 2, "wipe_full": 3, "purge_survivor_data": 4, "ping": 5}
ACTION_NAMES = {v: k for k, v in ACTIONS.items()}
OUTCOMES = {1: "done", 2: "refused", 3: "failed", 4: "erased"}
PERFORMED = {0: "none", 1: "selective", 2: "full"}
REASONS = {
    0: "none",
    1: "byod_selective_only",
    2: "scope_not_allowed",
    3: "platform_refused",
    4: "key_store_unavailable",
    5: "offline_check_in",
    6: "offline_unlock",
    7: "failed_unlocks",
    8: "platform_selective_only",
}

# PKCS#8 v2 (RFC 5958 / RFC 8410) as quietline-admin keygen writes it.
PKCS8_PREFIX = bytes.fromhex("3051020101300506032b657004220420")
PKCS8_MIDDLE = bytes.fromhex("812100")


class WireError(ValueError):
    """The bytes or text are not a valid object."""


def sha256(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    return h.finalize()


def key_id(public_key: bytes) -> bytes:
    """First 8 bytes of SHA-256 of the 32-byte public key."""
    return sha256(public_key)[:8]


def to_text(data: bytes) -> str:
    return PREFIX + base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def from_text(text: str) -> bytes:
    if len(text) > MAX_TEXT:
        raise WireError("input is too large")
    t = text.strip()
    if not t.startswith(PREFIX):
        raise WireError("missing QL: prefix")
    body = t[len(PREFIX):]
    if "=" in body or len(body) % 4 == 1:
        raise WireError("not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as e:
        raise WireError("not base64url") from e
    if to_text(data) != PREFIX + body:  # non-canonical trailing bits or stray characters
        raise WireError("not canonical base64url")
    return data


def header(data: bytes) -> int:
    if len(data) < 4:
        raise WireError("truncated")
    if data[:2] != MAGIC:
        raise WireError("bad magic")
    if data[3] not in VERSIONS:
        raise WireError(f"unknown type {data[3]}")
    if data[2] != VERSIONS[data[3]]:
        raise WireError(f"type {data[3]} version {data[2]} is not accepted (version {VERSIONS[data[3]]} is)")
    return data[3]


def _expect(data: bytes, kind: int, length: int | None) -> None:
    got = header(data)
    if got != kind:
        raise WireError(f"expected type {kind}, got {got}")
    if length is not None and len(data) != length:
        raise WireError("truncated" if len(data) < length else "trailing bytes")


def public_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw)


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except InvalidSignature:
        return False


def private_key_from_pkcs8(der: bytes) -> Ed25519PrivateKey:
    """Reads the 83-byte PKCS#8 v2 key file: prefix, seed, [1] public key."""
    if len(der) != 83 or der[:16] != PKCS8_PREFIX or der[48:51] != PKCS8_MIDDLE:
        raise WireError("not an Ed25519 PKCS#8 v2 key file")
    key = Ed25519PrivateKey.from_private_bytes(der[16:48])
    if public_bytes(key) != der[51:83]:
        raise WireError("the key file's public key does not match its seed")
    return key


def read_private_key(path: str) -> Ed25519PrivateKey:
    with open(path, "rb") as f:
        return private_key_from_pkcs8(f.read())


def read_public_key(path: str) -> bytes:
    with open(path, encoding="ascii") as f:
        return bytes.fromhex(f.read().strip())


@dataclass
class Command:
    device_id: bytes
    enrollment_id: bytes
    seq: int
    issued_at: int
    expires_at: int
    action: int
    key_id: bytes
    signature: bytes = b"\0" * 64

    def signed_bytes(self) -> bytes:
        return (
            MAGIC
            + bytes([VERSION, T_COMMAND])
            + self.device_id
            + self.enrollment_id
            + struct.pack(">III", self.seq, self.issued_at, self.expires_at)
            + bytes([self.action])
            + self.key_id
        )

    def to_bytes(self) -> bytes:
        return self.signed_bytes() + self.signature

    def command_id(self) -> bytes:
        return sha256(self.signed_bytes())[:16]

    @classmethod
    def sign(cls, key: Ed25519PrivateKey, device_id: bytes, enrollment_id: bytes, seq: int,
             issued_at: int, expires_at: int, action: str) -> "Command":
        assert len(device_id) == 8 and len(enrollment_id) == 4
        c = cls(device_id, enrollment_id, seq, issued_at, expires_at, ACTIONS[action], key_id(public_bytes(key)))
        c.signature = key.sign(c.signed_bytes())
        return c

    @classmethod
    def from_bytes(cls, data: bytes) -> "Command":
        _expect(data, T_COMMAND, COMMAND_LEN)
        seq, issued, expires = struct.unpack(">III", data[16:28])
        if data[28] not in ACTION_NAMES:
            raise WireError("bad action")
        return cls(data[4:12], data[12:16], seq, issued, expires, data[28], data[29:37], data[37:101])


@dataclass
class Receipt:
    device_id: bytes
    enrollment_id: bytes
    command_id: bytes
    seq: int
    requested: int
    outcome: int
    performed: int
    reason: int
    at: int
    signature: bytes

    def signed_bytes(self) -> bytes:
        return (
            MAGIC
            + bytes([VERSIONS[T_RECEIPT], T_RECEIPT])
            + self.device_id
            + self.enrollment_id
            + self.command_id
            + struct.pack(">I", self.seq)
            + bytes([self.requested, self.outcome, self.performed, self.reason])
            + struct.pack(">I", self.at)
        )

    def to_bytes(self) -> bytes:
        return self.signed_bytes() + self.signature

    @classmethod
    def from_bytes(cls, data: bytes) -> "Receipt":
        _expect(data, T_RECEIPT, RECEIPT_LEN)
        (seq,) = struct.unpack(">I", data[32:36])
        req, out, perf, reason = data[36], data[37], data[38], data[39]
        if req not in ACTION_NAMES or out not in OUTCOMES or perf not in PERFORMED or reason not in REASONS:
            raise WireError("a receipt code is out of range")
        (at,) = struct.unpack(">I", data[40:44])
        return cls(data[4:12], data[12:16], data[16:32], seq, req, out, perf, reason, at, data[44:108])

    def fields(self) -> dict:
        return {
            "device_id": self.device_id.hex(),
            "enrollment_id": self.enrollment_id.hex(),
            "command_id": self.command_id.hex(),
            "seq": self.seq,
            "requested": ACTION_NAMES[self.requested],
            "outcome": OUTCOMES[self.outcome],
            "performed": PERFORMED[self.performed],
            "reason": REASONS[self.reason],
            "at": self.at,
        }


def verify_receipt(text: str, device_key: bytes) -> Receipt:
    """Decodes a receipt and checks the device's signature; raises WireError if it fails."""
    r = Receipt.from_bytes(from_text(text))
    if not verify(device_key, r.signed_bytes(), r.signature):
        raise WireError("receipt signature does not verify")
    return r


@dataclass
class CheckinAck:
    """The organisation's acknowledgement of one check-in: it names the nonce of the phone's
    status report (signed by a key whose only role is `checkin`, which the relay holds)."""
    device_id: bytes
    enrollment_id: bytes
    nonce: bytes
    issued_at: int
    expires_at: int
    key_id: bytes
    signature: bytes = b"\0" * 64

    def signed_bytes(self) -> bytes:
        return (
            MAGIC
            + bytes([VERSIONS[T_CHECKIN_ACK], T_CHECKIN_ACK])
            + self.device_id
            + self.enrollment_id
            + self.nonce
            + struct.pack(">II", self.issued_at, self.expires_at)
            + self.key_id
        )

    def to_bytes(self) -> bytes:
        return self.signed_bytes() + self.signature

    @classmethod
    def sign(cls, key: Ed25519PrivateKey, device_id: bytes, enrollment_id: bytes, nonce: bytes,
             issued_at: int, expires_at: int) -> "CheckinAck":
        assert len(device_id) == 8 and len(enrollment_id) == 4 and len(nonce) == 16
        a = cls(device_id, enrollment_id, nonce, issued_at, expires_at, key_id(public_bytes(key)))
        a.signature = key.sign(a.signed_bytes())
        return a

    @classmethod
    def from_bytes(cls, data: bytes) -> "CheckinAck":
        _expect(data, T_CHECKIN_ACK, CHECKIN_ACK_LEN)
        issued, expires = struct.unpack(">II", data[32:40])
        return cls(data[4:12], data[12:16], data[16:32], issued, expires, data[40:48], data[48:112])


def verify_checkin_ack(text: str, key: bytes) -> CheckinAck:
    """Decodes a check-in acknowledgement and checks its signature; raises WireError if it fails."""
    a = CheckinAck.from_bytes(from_text(text))
    if a.key_id != key_id(key) or not verify(key, a.signed_bytes(), a.signature):
        raise WireError("check-in acknowledgement signature does not verify")
    return a


@dataclass
class EnrollResponse:
    device_id: bytes
    enrollment_id: bytes
    device_key: bytes
    at: int
    binding: bytes
    signature: bytes

    def bound_bytes(self) -> bytes:
        """Bytes 0..52: what the binding MACs."""
        return (MAGIC + bytes([VERSIONS[T_ENROLL_RESPONSE], T_ENROLL_RESPONSE]) + self.device_id
                + self.enrollment_id + self.device_key + struct.pack(">I", self.at))

    def signed_bytes(self) -> bytes:
        return self.bound_bytes() + self.binding

    @classmethod
    def from_bytes(cls, data: bytes) -> "EnrollResponse":
        _expect(data, T_ENROLL_RESPONSE, ENROLL_RESPONSE_LEN)
        (at,) = struct.unpack(">I", data[48:52])
        r = cls(data[4:12], data[12:16], data[16:48], at, data[52:84], data[84:148])
        if not verify(r.device_key, r.signed_bytes(), r.signature):
            raise WireError("enrollment response: proof of possession does not verify")
        return r

    def check_binding(self, enroll_secret: bytes, device_id: bytes) -> None:
        """The response must prove knowledge of the bundle's secret, which only the phone that
        scanned the bundle has: a relay cannot substitute its own device key."""
        want = hmac.new(enroll_secret, self.bound_bytes(), hashlib.sha256).digest()
        if not hmac.compare_digest(want, self.binding):
            raise WireError("enrollment response: not bound to this bundle's secret")
        if self.device_id != device_id:
            raise WireError("enrollment response: names another device")


def bundle_secret(text: str) -> tuple[bytes, bytes]:
    """The (device_id, enroll_secret) of an enrollment bundle (type 06, no signatures)."""
    c = Container.from_bytes(from_text(text), T_BUNDLE)
    body = c.json()
    return bytes.fromhex(body["device_id"]), bytes.fromhex(body["enroll_secret"])


@dataclass
class Container:
    kind: int
    body: bytes
    signatures: list  # [(key_id, signature)]

    def signed_bytes(self) -> bytes:
        return MAGIC + bytes([VERSIONS[self.kind], self.kind]) + struct.pack(">I", len(self.body)) + self.body

    def to_bytes(self) -> bytes:
        out = self.signed_bytes() + bytes([len(self.signatures)])
        for kid, sig in self.signatures:
            out += kid + sig
        return out

    def json(self) -> dict:
        return json.loads(self.body.decode("utf-8"))

    def count_signers(self, keys: list) -> int:
        """Distinct keys with a valid signature; a key listed or signing twice counts once."""
        msg = self.signed_bytes()
        return sum(
            1
            for k in set(keys)
            if any(kid == key_id(k) and verify(k, msg, sig) for kid, sig in self.signatures)
        )

    @classmethod
    def from_bytes(cls, data: bytes, kind: int) -> "Container":
        _expect(data, kind, None)
        if len(data) < 8:
            raise WireError("truncated")
        (n_body,) = struct.unpack(">I", data[4:8])
        if n_body > 64 * 1024:
            raise WireError("body too large")
        if len(data) < 9 + n_body:
            raise WireError("truncated")
        body = data[8:8 + n_body]
        n = data[8 + n_body]
        if n > 16:
            raise WireError("too many signatures")
        at = 9 + n_body
        if len(data) != at + 72 * n:
            raise WireError("truncated" if len(data) < at + 72 * n else "trailing bytes")
        sigs = [(data[at + 72 * i:at + 72 * i + 8], data[at + 72 * i + 8:at + 72 * (i + 1)]) for i in range(n)]
        return cls(kind, body, sigs)
