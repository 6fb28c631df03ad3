"""Runs tests/conformance/*.json through the generated Python bindings.

Usage: PYTHONPATH=target/bindings/python:tests/bindings/python python3 conformance.py VECTOR_DIR [TRANSCRIPT]
"""
import json
import pathlib
import re
import sys
import tempfile

import quietline as ql
from support import FrozenClock, XorProtector, fmt, utc


def snake(name):
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def enum(cls, name):
    return cls[name.upper()]


def verdict(v):
    if isinstance(v, ql.Verdict.ALLOW):
        return "allow"
    if isinstance(v, ql.Verdict.BLOCK):
        return f"block({v.reason.name.lower()})"
    if isinstance(v, ql.Verdict.DIAL):
        return f"dial({v.dial_string},voip={str(v.via_voip).lower()})"
    if isinstance(v, ql.Verdict.WARN):
        at = fmt(v.next_safe_at) if v.next_safe_at is not None else "none"
        return f"warn({v.reason.name.lower()},{at})"
    if isinstance(v, ql.Verdict.SEND_TO_VOICEMAIL):
        return "send_to_voicemail"
    raise AssertionError(f"unknown verdict {type(v)}")


def action(k):
    K = ql.ActionKind
    if isinstance(k, K.SET_MAX_TIME_TO_LOCK):
        return f"set_max_time_to_lock:{k.secs}"
    if isinstance(k, K.SET_MAX_FAILED_UNLOCKS):
        return f"set_max_failed_unlocks:{k.count}"
    if isinstance(k, K.NOTIFY):
        return f"notify:{k.kind.name.lower()}"
    if isinstance(k, K.WIPE):
        return f"wipe:{k.scope.name.lower()}"
    for name in ["REQUIRE_SECURE_LOCK", "LOCK_NOW", "DELETE_CALL_LOG", "DELETE_CONTACT",
                 "SCHEDULE_CALLER_ID_CHECK", "PURGE_SURVIVOR_DATA"]:
        if isinstance(k, getattr(K, name)):
            return name.lower()
    raise AssertionError(f"unknown action {type(k)}")


def finding(f):
    return type(f).__name__.split(".")[-1].lower()


def plan(p):
    if p is None:
        return None
    return ql.ContactPlan(
        safe_windows=[ql.SafeWindow(day=enum(ql.Day, w["day"]), start=w["start"], end=w["end"]) for w in p["safe_windows"]],
        voicemail_allowed=p["voicemail_allowed"],
        message_level=enum(ql.MessageLevel, p["message_level"]),
        dropped_call=enum(ql.DroppedCall, p["dropped_call"]),
    )


def event(e):
    t = e["type"]
    if t == "outgoing_call":
        return ql.Event.OUTGOING_CALL(number=e["number"], line=enum(ql.Line, e["line"]), confirmed=e["confirmed"])
    if t == "call_ended":
        return ql.Event.CALL_ENDED(number=e["number"], line=enum(ql.Line, e["line"]),
                                   direction=enum(ql.CallDirection, e["direction"]),
                                   started_at=utc(e["started_at"]), dropped=e["dropped"])
    if t == "outgoing_sms":
        return ql.Event.OUTGOING_SMS(number=e["number"])
    if t == "incoming_call":
        return ql.Event.INCOMING_CALL(number=e["number"])
    if t == "posture":
        return ql.Event.POSTURE(lock_timeout_secs=e["lock_timeout_secs"], secure_lock=e["secure_lock"],
                                caller_id_hidden=e["caller_id_hidden"])
    if t == "platform_gaps":
        return ql.Event.PLATFORM_GAPS(gaps=[enum(ql.RuleGap, g) for g in e["gaps"]])
    if t == "handoff_requested":
        return ql.Event.HANDOFF_REQUESTED()
    if t == "tick":
        return ql.Event.TICK()
    if t == "check_in":
        return ql.Event.CHECK_IN()
    if t == "unlocked":
        return ql.Event.UNLOCKED()
    if t == "unlock_failed":
        return ql.Event.UNLOCK_FAILED()
    raise AssertionError(f"unknown event {t}")


def ack_all(agent):
    for a in agent.pending_actions():
        agent.ack(a.id, ql.AckResult.DONE())


def run(path, workdir):
    v = json.loads(path.read_text())
    name = path.stem
    clock = FrozenClock(v["start"], v["local_offset_secs"])
    agent = ql.Agent.create(str(workdir), v["region"], json.dumps(v["policy"]), XorProtector(), clock)
    for s in v["survivors"]:
        agent.register_survivor(s["number"], plan(s["plan"]))
    ack_all(agent)
    lines, failures = [], []

    def check(i, what, got, want):
        if got != want:
            failures.append(f"{name} step {i}: {what} was {got}, expected {want}")

    for i, step in enumerate(v["steps"]):
        clock.set(step["at"])
        exp = step.get("expect", {})
        if "event" in step:
            out = agent.handle(event(step["event"]))
            gv = verdict(out.verdict)
            ga = [action(a.kind) for a in out.actions]
            gf = [finding(f) for f in out.findings]
            check(i, "verdict", gv, exp["verdict"])
            check(i, "actions", ga, exp["actions"])
            if "findings" in exp:
                check(i, "findings", gf, exp["findings"])
            line = f"{gv} [{','.join(ga)}] [{','.join(gf)}]"
        elif "is_survivor" in step:
            got = agent.is_survivor(step["is_survivor"])
            check(i, "is_survivor", got, exp["is_survivor"])
            line = f"is_survivor={str(got).lower()}"
        elif "register" in step:
            try:
                agent.register_survivor(step["register"], None)
                got = "ok"
            except ql.ApiError as e:
                got = snake(type(e).__name__)
            check(i, "register", got, exp.get("error", "ok"))
            line = f"register={got}"
        elif "softphone" in step:
            sp = agent.softphone()
            if sp is None:
                got = "none"
            else:
                uri = ql.softphone_call_uri(sp, step["softphone"]) or "none"
                got = f"softphone({uri},{sp.android_package or 'none'})"
            check(i, "softphone", got, exp["softphone"])
            line = got
        elif step.get("ack_all"):
            ack_all(agent)
            line = "ack_all"
        else:
            raise AssertionError(f"{name} step {i}: unknown step")
        lines.append(f"{name} {i} {line}")
    agent.wipe()
    return lines, failures


def main():
    vectors = pathlib.Path(sys.argv[1])
    files = sorted(vectors.glob("*.json"))
    transcript, failures, passed = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for n, f in enumerate(files):
            lines, fails = run(f, pathlib.Path(tmp) / str(n))
            transcript += lines
            failures += fails
            passed += not fails
    text = "\n".join(transcript) + "\n"
    if len(sys.argv) > 2:
        pathlib.Path(sys.argv[2]).write_text(text)
    for f in failures:
        print("FAIL", f)
    print(f"python conformance: {passed} passed, {len(files) - passed} failed")
    sys.exit(1 if failures or not files else 0)


if __name__ == "__main__":
    main()
