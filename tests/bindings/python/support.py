"""A frozen clock and test key protectors, implementing the bindings' foreign traits in Python."""
import datetime as dt
import threading

import quietline as ql


def utc(s):
    """An RFC 3339 time as a timezone-aware datetime (what the bindings expect)."""
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def fmt(t):
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FrozenClock(ql.Clock):
    def __init__(self, at, offset_secs=0):
        self.at = utc(at) if isinstance(at, str) else at
        self.offset = offset_secs
        self.lock = threading.Lock()

    def set(self, at):
        with self.lock:
            self.at = utc(at) if isinstance(at, str) else at

    def now(self):
        with self.lock:
            return self.at

    def local_offset_secs(self):
        return self.offset


class XorProtector(ql.KeyProtector):
    """Not a real protector: enough to prove the data key goes through the app's code."""

    def __init__(self):
        self.wrapped = 0
        self.unwrapped = 0
        self.destroyed = False

    def wrap_key(self, data_key):
        self.wrapped += 1
        return bytes(b ^ 0x5A for b in data_key)

    def unwrap_key(self, wrapped):
        self.unwrapped += 1
        return bytes(b ^ 0x5A for b in wrapped)

    def destroy_key(self):
        self.destroyed = True

    # Keeps no generation record (rollback detection is tested in bindings/tests/rollback.rs).
    def record_generation(self, generation):
        return False

    def recorded_generation(self):
        return None


class FailingProtector(ql.KeyProtector):
    """A key store that is locked (or broken): every call throws."""

    def __init__(self, error):
        self.error = error

    def wrap_key(self, data_key):
        raise self.error

    def unwrap_key(self, wrapped):
        raise self.error

    def destroy_key(self):
        raise self.error

    def record_generation(self, generation):
        raise self.error

    def recorded_generation(self):
        raise self.error
