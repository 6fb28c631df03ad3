"""Interoperability checks: the independent Python implementation (quietline_wire.py) against the
test vectors, against quietline-admin, and against the real agent playing a phone.

    python3 tests/python/run_interop.py --admin PATH --phone PATH [--vectors DIR] [--work DIR]

`--phone` is the `phone` example of quietline-admin (admin/examples/phone.rs). Ends with
`N passed, M failed` and exits non-zero if any check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quietline_wire as ql  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

RESULTS = {"passed": 0, "failed": 0}


def check(name):
    def wrap(fn):
        def run(*args):
            try:
                fn(*args)
                RESULTS["passed"] += 1
                print(f"ok   {name}")
            except Exception:  # noqa: BLE001 - report every failure and go on
                RESULTS["failed"] += 1
                print(f"FAIL {name}")
                traceback.print_exc()
        return run
    return wrap


def load(vectors, name):
    with open(os.path.join(vectors, name), encoding="utf-8") as f:
        return json.load(f)


def vector_key(vectors, name) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(load(vectors, "keys.json")["keys"][name]["seed"]))


# ---- test vectors -------------------------------------------------------------------------


def vector_checks(vectors):
    @check("vectors: keys come from their seeds; key ids and PKCS#8 files agree")
    def keys():
        for name, k in load(vectors, "keys.json")["keys"].items():
            seed = bytes.fromhex(k["seed"])
            key = Ed25519PrivateKey.from_private_bytes(seed)
            pub = ql.public_bytes(key)
            assert pub.hex() == k["public_key"], name
            assert ql.key_id(pub).hex() == k["key_id"], name
            from_file = ql.private_key_from_pkcs8(bytes.fromhex(k["pkcs8_hex"]))
            assert ql.public_bytes(from_file) == pub, name

    @check("vectors: commands re-signed from their fields give the same bytes and text")
    def commands():
        staff = vector_key(vectors, "staff")
        for name in ("command-wipe-full.json", "command-lock.json"):
            v = load(vectors, name)
            f = v["fields"]
            c = ql.Command.sign(staff, bytes.fromhex(f["device_id"]), bytes.fromhex(f["enrollment_id"]), f["seq"],
                                f["issued_at"], f["expires_at"], f["action"])
            assert c.signed_bytes().hex() == v["signed_hex"], name
            assert c.to_bytes().hex() == v["hex"], name
            assert ql.to_text(c.to_bytes()) == v["text"], name
            assert len(v["text"]) <= 160
            assert c.command_id().hex() == v["command_id"], name
            assert c.key_id.hex() == f["key_id"]
            d = ql.Command.from_bytes(ql.from_text(v["text"]))
            assert d == c, name

    @check("vectors: the receipt verifies with the device key and names the wipe command")
    def receipt():
        v = load(vectors, "receipt.json")
        device_pub = ql.public_bytes(vector_key(vectors, "device"))
        r = ql.verify_receipt(v["text"], device_pub)
        fields = r.fields()
        for k, val in fields.items():
            assert v["fields"][k] == val, (k, val)
        assert r.command_id.hex() == load(vectors, "command-wipe-full.json")["command_id"]
        assert r.to_bytes().hex() == v["hex"]
        resigned = vector_key(vectors, "device").sign(r.signed_bytes())
        assert resigned.hex() == v["signature_hex"]
        staff_pub = ql.public_bytes(vector_key(vectors, "staff"))
        try:
            ql.verify_receipt(v["text"], staff_pub)
            raise AssertionError("verified with the wrong key")
        except ql.WireError:
            pass

    @check("vectors: the enrollment response proves possession of its key and is bound to the bundle")
    def response():
        v = load(vectors, "enroll-response.json")
        r = ql.EnrollResponse.from_bytes(ql.from_text(v["text"]))
        assert r.device_key.hex() == v["fields"]["device_key"]
        assert r.device_key == ql.public_bytes(vector_key(vectors, "device"))
        assert (r.signed_bytes() + r.signature).hex() == v["hex"]
        secret = bytes.fromhex(v["enroll_secret"])
        r.check_binding(secret, r.device_id)
        try:
            r.check_binding(bytes(32), r.device_id)
            raise AssertionError("bound under another secret")
        except ql.WireError:
            pass

    @check("vectors: the check-in acknowledgement re-signed from its fields gives the same bytes and verifies")
    def checkin_ack():
        v = load(vectors, "checkin-ack.json")
        f = v["fields"]
        staff = vector_key(vectors, "staff")
        a = ql.CheckinAck.sign(staff, bytes.fromhex(f["device_id"]), bytes.fromhex(f["enrollment_id"]),
                               bytes.fromhex(f["nonce"]), f["issued_at"], f["expires_at"])
        assert a.signed_bytes().hex() == v["signed_hex"]
        assert a.to_bytes().hex() == v["hex"]
        assert ql.to_text(a.to_bytes()) == v["text"]
        assert ql.verify_checkin_ack(v["text"], ql.public_bytes(staff)) == a
        try:
            ql.verify_checkin_ack(v["text"], ql.public_bytes(vector_key(vectors, "device")))
            raise AssertionError("verified with the wrong key")
        except ql.WireError:
            pass

    @check("vectors: the policy container is signed by the root over header, length and body")
    def policy():
        v = load(vectors, "policy.json")
        c = ql.Container.from_bytes(ql.from_text(v["text"]), ql.T_POLICY)
        assert c.to_bytes().hex() == v["hex"]
        assert c.signed_bytes().hex() == v["signed_hex"]
        assert c.body.decode() == v["body_json"]
        root = ql.public_bytes(vector_key(vectors, "root"))
        root2 = ql.public_bytes(vector_key(vectors, "root2"))
        assert c.count_signers([root, root, root2]) == 1  # a key listed twice counts once
        body = c.json()
        assert body["version"] == 3 and body["targets"] == [load(vectors, "keys.json")["device_id"]]
        assert vector_key(vectors, "root").sign(c.signed_bytes()) == c.signatures[0][1]

    @check("vectors: the root rotation is signed by the old root and the new")
    def rotation():
        v = load(vectors, "root-rotation.json")
        c = ql.Container.from_bytes(ql.from_text(v["text"]), ql.T_ROOT)
        assert c.to_bytes().hex() == v["hex"]
        root = ql.public_bytes(vector_key(vectors, "root"))
        root2 = ql.public_bytes(vector_key(vectors, "root2"))
        assert c.count_signers([root]) == 1 and c.count_signers([root2]) == 1
        assert c.json()["keys"] == [root2.hex()] and c.json()["version"] == 2

    @check("vectors: altered, truncated and padded objects are rejected")
    def negative():
        v = load(vectors, "command-wipe-full.json")
        data = bytearray(ql.from_text(v["text"]))
        data[16 + 3] ^= 1  # seq
        c = ql.Command.from_bytes(bytes(data))
        staff_pub = ql.public_bytes(vector_key(vectors, "staff"))
        assert not ql.verify(staff_pub, c.signed_bytes(), c.signature)
        for bad in (v["text"][:-4], v["text"] + "=", "XL:" + v["text"][3:], v["text"] + "AA"):
            try:
                ql.Command.from_bytes(ql.from_text(bad))
                raise AssertionError(f"accepted {bad!r}")
            except ql.WireError:
                pass

    for c in (keys, commands, receipt, response, checkin_ack, policy, rotation, negative):
        c()


# ---- against quietline-admin and the agent ------------------------------------------------


class Env:
    def __init__(self, admin, phone, work):
        self.admin, self.phone, self.work = admin, phone, work

    def f(self, name):
        return os.path.join(self.work, name)

    def run(self, *args, ok=True):
        p = subprocess.run(list(args), capture_output=True, text=True)
        if ok and p.returncode != 0:
            raise AssertionError(f"{args} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        return p

    def adm(self, *args, ok=True):
        return self.run(self.admin, *args, ok=ok)

    def device(self, name):
        with open(self.f(name), encoding="utf-8") as fh:
            return json.load(fh)

    def python_command(self, device_json, key_file, action, seq, minutes=30):
        """Signs a command in Python, from the device record, and writes its text to a file."""
        d = self.device(device_json)
        now = int(time.time())
        key = ql.read_private_key(self.f(key_file))
        c = ql.Command.sign(key, bytes.fromhex(d["device_id"]), bytes.fromhex(d["enrollment_id"]), seq,
                            now, now + minutes * 60, action)
        text = ql.to_text(c.to_bytes())
        assert len(text) <= 160, len(text)
        path = self.f(f"py-{action}-{seq}-{device_json}.txt")
        with open(path, "w", encoding="ascii") as fh:
            fh.write(text + "\n")
        return c, path

    def apply(self, phone_dir, cmd_path, receipt_name, ok=True):
        p = self.run(self.phone, "apply", self.f(phone_dir), cmd_path, self.f(receipt_name), ok=ok)
        receipt = None
        if p.returncode == 0:
            with open(self.f(receipt_name), encoding="ascii") as fh:
                receipt = fh.read().strip()
        return p, receipt


def interop_checks(admin, phone, work):
    e = Env(admin, phone, work)
    state = {}

    @check("setup: quietline-admin makes keys, signs a policy and a bundle; the agent enrolls")
    def setup():
        e.adm("keygen", "--out", work, "--name", "root")
        e.adm("keygen", "--out", work, "--name", "staff")
        for mode in ("work", "byod"):
            with open(e.f(f"rules-{mode}.json"), "w", encoding="utf-8") as fh:
                json.dump({"schema": 1, "mode": mode}, fh)
            e.adm("policy", "sign", "--rules", e.f(f"rules-{mode}.json"), "--org", "acme", "--version", "1",
                  "--expires-in-days", "30", "--staff", f"it={e.f('staff.pub')}=lock,wipe_selective,wipe_full",
                  "--key", e.f("root.key"), "--out", e.f(f"policy-{mode}.ql"))
            e.adm("enroll", "--org", "acme", "--root-pub", e.f("root.pub"), "--mode", mode, "--policy",
                  e.f(f"policy-{mode}.ql"), "--out", e.f(f"bundle-{mode}.ql"))
            e.run(phone, "enroll", e.f(f"phone-{mode}"), e.f(f"bundle-{mode}.ql"), e.f(f"response-{mode}.ql"))
            e.adm("enroll", "accept", e.f(f"response-{mode}.ql"), "--bundle", e.f(f"bundle-{mode}.ql"), "--out",
                  e.f(f"device-{mode}.json"))
        state["ready"] = True

    @check("python verifies the phone's enrollment response, bound to the bundle's secret")
    def response():
        with open(e.f("response-work.ql"), encoding="ascii") as fh:
            r = ql.EnrollResponse.from_bytes(ql.from_text(fh.read()))
        with open(e.f("bundle-work.ql"), encoding="ascii") as fh:
            device_id, secret = ql.bundle_secret(fh.read())
        r.check_binding(secret, device_id)
        d = e.device("device-work.json")
        assert r.device_key.hex() == d["device_key"] and r.device_id.hex() == d["device_id"]
        assert r.enrollment_id.hex() == d["enrollment_id"]

    @check("a response with a substituted device key (the relay's) is refused by python and the CLI")
    def substituted():
        with open(e.f("response-work.ql"), encoding="ascii") as fh:
            real = ql.EnrollResponse.from_bytes(ql.from_text(fh.read()))
        relay = Ed25519PrivateKey.generate()
        forged = ql.EnrollResponse(real.device_id, real.enrollment_id, ql.public_bytes(relay), real.at,
                                   real.binding, b"")
        forged.signature = relay.sign(forged.signed_bytes())
        forged = ql.EnrollResponse.from_bytes(forged.signed_bytes() + forged.signature)
        with open(e.f("bundle-work.ql"), encoding="ascii") as fh:
            device_id, secret = ql.bundle_secret(fh.read())
        try:
            forged.check_binding(secret, device_id)
            raise AssertionError("a substituted response was bound")
        except ql.WireError:
            pass
        path = e.f("forged-response.ql")
        with open(path, "w", encoding="ascii") as fh:
            fh.write(ql.to_text(forged.signed_bytes() + forged.signature))
        p = e.adm("enroll", "accept", path, "--bundle", e.f("bundle-work.ql"), "--out", e.f("forged.json"), ok=False)
        assert p.returncode != 0 and "bundle" in p.stderr, (p.stdout, p.stderr)

    @check("a lock signed in python is applied by the agent; python verifies its receipt")
    def lock():
        c, path = e.python_command("device-work.json", "staff.key", "lock", 1)
        p, receipt = e.apply("phone-work", path, "receipt-lock.ql")
        assert "status=applied" in p.stdout, p.stdout
        device_key = bytes.fromhex(e.device("device-work.json")["device_key"])
        r = ql.verify_receipt(receipt, device_key)
        assert r.command_id == c.command_id() and r.seq == 1
        assert r.fields()["requested"] == "lock" and r.fields()["outcome"] == "done"
        state["lock"] = (path, receipt)

    @check("quietline-admin agrees: receipt verify and inspect accept what python made")
    def admin_agrees():
        path, receipt = state["lock"]
        out = e.adm("receipt", "verify", receipt, "--device", e.f("device-work.json")).stdout
        assert json.loads(out)["outcome"] == "done"
        with open(path, encoding="ascii") as fh:
            text = fh.read().strip()
        out = e.adm("inspect", text, "--device", e.f("device-work.json"), "--policy", e.f("policy-work.ql")).stdout
        assert "verdict: valid" in out, out

    @check("the same python command replayed changes nothing and returns the original receipt")
    def replay():
        path, receipt = state["lock"]
        p, again = e.apply("phone-work", path, "receipt-replay.ql")
        assert "status=replayed" in p.stdout, p.stdout
        assert again == receipt

    @check("a command signed by a key the policy does not name is rejected by the agent")
    def forged():
        mallory = Ed25519PrivateKey.generate()
        d = e.device("device-work.json")
        now = int(time.time())
        c = ql.Command.sign(mallory, bytes.fromhex(d["device_id"]), bytes.fromhex(d["enrollment_id"]), 5, now,
                            now + 600, "wipe_full")
        path = e.f("forged.txt")
        with open(path, "w", encoding="ascii") as fh:
            fh.write(ql.to_text(c.to_bytes()))
        p, _ = e.apply("phone-work", path, "receipt-forged.ql", ok=False)
        assert p.returncode != 0 and "unknown key" in p.stderr, (p.stdout, p.stderr)
        # A valid staff signature over other bytes does not verify either.
        staff = ql.read_private_key(e.f("staff.key"))
        good = ql.Command.sign(staff, c.device_id, c.enrollment_id, 5, now, now + 600, "lock")
        good.action = ql.ACTIONS["wipe_full"]
        with open(path, "w", encoding="ascii") as fh:
            fh.write(ql.to_text(good.to_bytes()))
        p, _ = e.apply("phone-work", path, "receipt-forged.ql", ok=False)
        assert p.returncode != 0 and "signature does not verify" in p.stderr, (p.stdout, p.stderr)

    @check("a tampered receipt fails python verification")
    def tampered():
        _, receipt = state["lock"]
        data = bytearray(ql.from_text(receipt))
        data[37] = 2  # outcome: done -> refused
        try:
            ql.verify_receipt(ql.to_text(bytes(data)), bytes.fromhex(e.device("device-work.json")["device_key"]))
            raise AssertionError("a tampered receipt verified")
        except ql.WireError:
            pass

    @check("a full wipe signed in python erases the work phone's agent; the receipt says the full wipe is requested")
    def wipe_work():
        c, path = e.python_command("device-work.json", "staff.key", "wipe_full", 2)
        p, receipt = e.apply("phone-work", path, "receipt-wipe-work.ql")
        assert "wipe=full" in p.stdout, p.stdout
        r = ql.verify_receipt(receipt, bytes.fromhex(e.device("device-work.json")["device_key"]))
        f = r.fields()
        assert (f["outcome"], f["performed"], f["reason"]) == ("erased", "full", "none"), f
        assert r.command_id == c.command_id()

    @check("a full wipe signed in python performs only the selective wipe on a personal phone")
    def wipe_byod():
        c, path = e.python_command("device-byod.json", "staff.key", "wipe_full", 1)
        p, receipt = e.apply("phone-byod", path, "receipt-wipe-byod.ql")
        assert "wipe=selective" in p.stdout, p.stdout
        r = ql.verify_receipt(receipt, bytes.fromhex(e.device("device-byod.json")["device_key"]))
        f = r.fields()
        assert (f["outcome"], f["performed"], f["reason"]) == ("erased", "selective", "byod_selective_only"), f
        out = e.adm("receipt", "verify", receipt, "--device", e.f("device-byod.json")).stdout
        assert json.loads(out)["reason"] == "byod_selective_only"

    setup()
    if not state.get("ready"):
        return
    for c in (response, substituted, lock, admin_agrees, replay, forged, tampered, wipe_work, wipe_byod):
        c()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--admin", required=True, help="the quietline-admin binary")
    ap.add_argument("--phone", required=True, help="the phone example binary")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--vectors", default=os.path.join(here, "..", "vectors"))
    ap.add_argument("--work", help="working directory (default: a temporary one)")
    a = ap.parse_args()
    vector_checks(a.vectors)
    if a.work:
        os.makedirs(a.work, exist_ok=True)
        interop_checks(a.admin, a.phone, a.work)
    else:
        with tempfile.TemporaryDirectory(prefix="ql-interop-") as work:
            interop_checks(a.admin, a.phone, work)
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    sys.exit(1 if RESULTS["failed"] else 0)


if __name__ == "__main__":
    main()
