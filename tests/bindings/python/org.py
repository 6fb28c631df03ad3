"""IT staff for the trust tests: drives the real admin CLI (`quietline-admin`) to make keys, signed
policies, enrollment bundles and commands, and to verify the phone's receipts.

The binary is `$QL_ADMIN`, or the debug build in the workspace's target directory.
"""
import json
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[3]
ADMIN = os.environ.get("QL_ADMIN") or str(ROOT / "target" / "debug" / "quietline-admin")
DEVICE_ID = "0011223344556677"
RELAY = "https://relay.example.org/q"


class Org:
    """One organisation: a root key, a staff key with every command role, and a signed policy."""

    def __init__(self, tmp, rules, mode="work"):
        self.dir = pathlib.Path(tmp)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.mode = mode
        self.admin("keygen", "--out", "keys", "--name", "root")
        self.admin("keygen", "--out", "keys", "--name", "it")
        self.bundle_text = None
        self.policy(1, rules)
        self.admin("enroll", "--org", "acme", "--root-pub", "keys/root.pub", "--mode", mode,
                   "--policy", "policy-1.ql", "--device-id", DEVICE_ID, "--relay-url", RELAY,
                   "--out", "bundle.ql")
        self.bundle_text = (self.dir / "bundle.ql").read_text().strip()

    def admin(self, *args):
        r = subprocess.run([ADMIN, *args], cwd=self.dir, capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f"quietline-admin {' '.join(args[:2])} failed: {r.stderr}")
        return r.stdout

    def policy(self, version, rules):
        """Signs `rules` (a dict) as policy `version`; returns the `QL:` text."""
        (self.dir / f"rules-{version}.json").write_text(json.dumps(rules))
        self.admin("policy", "sign", "--rules", f"rules-{version}.json", "--org", "acme",
                   "--version", str(version), "--expires-in-days", "30",
                   "--staff", "it=keys/it.pub=lock,wipe_selective,wipe_full,purge_survivor_data,ping",
                   "--key", "keys/root.key", "--out", f"policy-{version}.ql")
        return (self.dir / f"policy-{version}.ql").read_text().strip()

    def accept(self, response):
        """IT accepts the phone's enrollment response (and so learns its device key)."""
        self.admin("enroll", "accept", "--bundle", "bundle.ql", "--out", "device.json", response)

    def command(self, *args):
        """Signs a command (`lock`, `wipe --scope full`, `ping`, …); returns its SMS text."""
        out = self.admin("command", *args, "--device", "device.json", "--key", "keys/it.key")
        [sms] = [line[len("SMS: "):] for line in out.splitlines() if line.startswith("SMS: ")]
        return sms

    def verify_receipt(self, receipt):
        """Checks a receipt's signature with the device key, as IT staff do; returns its fields."""
        return json.loads(self.admin("receipt", "verify", "--device", "device.json", receipt))
