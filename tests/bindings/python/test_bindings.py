"""Exercises every exported item of the Python bindings, including the error paths.

Usage: PYTHONPATH=target/bindings/python:tests/bindings/python python3 test_bindings.py
"""
import datetime as dt
import json
import pathlib
import re
import sys
import tempfile
import traceback

import quietline as ql
from org import DEVICE_ID, RELAY, Org
from support import FailingProtector, FrozenClock, XorProtector, utc

BYOD = json.dumps({"schema": 1, "mode": "byod"})
WORK = json.dumps({"schema": 1, "mode": "work"})
SURVIVOR = "(207) 555-0100"


def raises(case, fn):
    try:
        fn()
    except case as e:
        assert "5550100" not in str(e), f"the error names the number: {e}"
        return e
    except Exception as e:  # noqa: BLE001
        raise AssertionError(f"expected {case.__name__}, got {type(e).__name__}: {e}")
    raise AssertionError(f"expected {case.__name__}, nothing was raised")


def new_agent(tmp, policy=BYOD, region="US", protector=None, clock=None):
    return ql.Agent.create(str(tmp), region, policy, protector or XorProtector(),
                           clock or FrozenClock("2026-11-23T15:00:00Z", -18000))


def test_create_issues_first_actions_and_reads_back(tmp):
    agent = new_agent(tmp)
    kinds = [type(a.kind).__name__.split(".")[-1] for a in agent.pending_actions()]
    assert kinds[:2] == ["SET_MAX_TIME_TO_LOCK", "REQUIRE_SECURE_LOCK"], kinds
    assert agent.region() == "US"
    assert json.loads(agent.policy_json())["mode"] == "byod"
    assert agent.generation() >= 1
    assert agent.all_pending_actions() == agent.pending_actions()


def test_python_key_protector_creates_commits_and_reopens(tmp):
    protector = XorProtector()
    clock = FrozenClock("2026-11-23T15:00:00Z")
    agent = new_agent(tmp, protector=protector, clock=clock)
    agent.register_survivor(SURVIVOR, None)
    assert protector.wrapped == 1
    del agent
    again = ql.Agent.open(str(tmp), protector, clock)
    assert protector.unwrapped == 1
    assert again.is_survivor("+12075550100")
    assert again.survivor_count() == 1


def test_open_without_clock_uses_the_device_clock(tmp):
    new_agent(tmp)
    agent = ql.Agent.open(str(tmp), XorProtector())
    assert agent.compliance().mode == ql.Mode.BYOD


def test_throwing_key_protector_is_a_typed_error_and_loses_nothing(tmp):
    agent = new_agent(tmp)
    agent.register_survivor(SURVIVOR, None)
    gen = agent.generation()
    del agent
    raises(ql.ApiError.KeyStoreUnavailable,
           lambda: ql.Agent.open(str(tmp), FailingProtector(ql.KeyProtectorError.Unavailable("locked"))))
    raises(ql.ApiError.KeyInvalidated,
           lambda: ql.Agent.open(str(tmp), FailingProtector(ql.KeyProtectorError.KeyInvalidated())))
    raises(ql.ApiError.KeyStoreFailed, lambda: ql.Agent.open(str(tmp), FailingProtector(RuntimeError("boom"))))
    again = ql.Agent.open(str(tmp), XorProtector(), FrozenClock("2026-11-23T15:05:00Z"))
    assert again.is_survivor(SURVIVOR)
    assert again.generation() == gen


def test_throwing_key_protector_on_create_leaves_no_agent(tmp):
    raises(ql.ApiError.KeyStoreFailed,
           lambda: new_agent(tmp, protector=FailingProtector(ql.KeyProtectorError.Failed("no keystore"))))
    raises(ql.ApiError.NotInitialized, lambda: ql.Agent.open(str(tmp), XorProtector()))


def test_create_twice_and_open_missing_are_typed(tmp):
    new_agent(tmp)
    raises(ql.ApiError.AlreadyInitialized, lambda: new_agent(tmp))
    raises(ql.ApiError.NotInitialized, lambda: ql.Agent.open(str(tmp / "missing"), XorProtector()))
    raises(ql.ApiError.InvalidInput, lambda: ql.Agent.open("", XorProtector()))


def test_bad_policy_and_region_are_refused(tmp):
    for bad in ["", "{", "null", "[]", '{"schema":2,"mode":"byod"}', '{"schema":1,"mode":"byod","x":1}',
                '{"schema":1,"mode":"byod","auto_lock":{"max_timeout_secs":0}}', " " * 70000]:
        raises(ql.ApiError.InvalidPolicy, lambda bad=bad: new_agent(tmp / "p", policy=bad))
    for region in ["", "ZZ", "USA", "\u0000"]:
        raises(ql.ApiError.InvalidRegion, lambda region=region: new_agent(tmp / "r", region=region))


def test_bad_numbers_are_typed_errors_without_the_number(tmp):
    agent = new_agent(tmp)
    for bad in ["", "abc", "1" * 65, "\u0000\u0001", "☎" * 100]:
        raises(ql.ApiError.InvalidNumber, lambda bad=bad: agent.register_survivor(bad, None))
        raises(ql.ApiError.InvalidNumber, lambda bad=bad: agent.is_survivor(bad))
        raises(ql.ApiError.InvalidNumber, lambda bad=bad: agent.forget_survivor(bad))
    raises(ql.ApiError.InvalidNumber, lambda: agent.register_survivor("911", None))
    raises(ql.ApiError.InvalidNumber,
           lambda: agent.handle(ql.Event.OUTGOING_SMS(number="x" * 10000)))
    # An unreadable caller is not a survivor: the call rings.
    out = agent.handle(ql.Event.INCOMING_CALL(number="garbage"))
    assert isinstance(out.verdict, ql.Verdict.ALLOW)


def test_survivors_register_forget_and_purge(tmp):
    agent = new_agent(tmp)
    plan = ql.default_contact_plan()
    assert plan.voicemail_allowed and plan.message_level == ql.MessageLevel.VAGUE
    assert plan.dropped_call == ql.DroppedCall.THEY_CALL_BACK and plan.safe_windows == []
    plan.safe_windows = [ql.SafeWindow(day=ql.Day.TUE, start="18:00", end="20:00")]
    agent.register_survivor(SURVIVOR, plan)
    agent.register_survivor("207-555-0101", None)
    assert agent.survivor_count() == 2
    assert agent.forget_survivor("2075550101") is True
    assert agent.forget_survivor("2075550101") is False
    actions = agent.purge_survivor_data()
    assert [type(a.kind).__name__.split(".")[-1] for a in actions] == ["PURGE_SURVIVOR_DATA"]
    assert agent.survivor_count() == 0 and not agent.is_survivor(SURVIVOR)


def test_survivors_texts_are_held_without_their_number(tmp):
    policy = json.dumps({"schema": 1, "mode": "work", "sms": {"block_to_survivors": False}})
    agent = new_agent(tmp, policy=policy)
    agent.register_survivor(SURVIVOR, None)
    held_id = agent.hold_text("+12075550100", ql.TextDirection.INCOMING, "are you free at 6")
    assert held_id is not None
    assert agent.hold_text("+12075550199", ql.TextDirection.INCOMING, "hi") is None
    [held] = agent.held_texts()
    assert (held.id, held.body, held.conversation) == (held_id, "are you free at 6", 1)
    assert held.expires_at - held.at == dt.timedelta(hours=72)
    assert "5550100" not in repr(held)
    reply = agent.reply_to_held_text(held_id, "yes")
    assert isinstance(reply.outcome.verdict, ql.Verdict.ALLOW) and reply.send_to == "+12075550100"
    raises(ql.ApiError.InvalidInput, lambda: agent.hold_text(SURVIVOR, ql.TextDirection.INCOMING, "x" * 4097))
    assert agent.discard_held_text(held_id) is True and agent.discard_held_text(held_id) is False
    assert agent.forget_survivor(SURVIVOR) is True
    assert agent.held_texts() == []


def test_bad_contact_plans_are_refused(tmp):
    agent = new_agent(tmp)
    for start, end in [("20:00", "18:00"), ("25:00", "26:00"), ("", "18:00"), ("9:00", "10:00")]:
        plan = ql.ContactPlan(safe_windows=[ql.SafeWindow(day=ql.Day.MON, start=start, end=end)],
                              voicemail_allowed=True, message_level=ql.MessageLevel.NONE,
                              dropped_call=ql.DroppedCall.WE_CALL_BACK)
        raises(ql.ApiError.InvalidContactPlan, lambda plan=plan: agent.register_survivor(SURVIVOR, plan))
    many = ql.default_contact_plan()
    many.safe_windows = [ql.SafeWindow(day=ql.Day.MON, start="08:00", end="09:00")] * 65
    raises(ql.ApiError.InvalidContactPlan, lambda: agent.register_survivor(SURVIVOR, many))
    assert agent.survivor_count() == 0


def test_handle_every_event(tmp):
    clock = FrozenClock("2026-11-23T15:00:00Z", -18000)
    agent = new_agent(tmp, clock=clock)
    agent.register_survivor(SURVIVOR, None)
    out = agent.handle(ql.Event.OUTGOING_CALL(number=SURVIVOR, line=ql.Line.DIRECT, confirmed=False))
    assert out.verdict == ql.Verdict.DIAL(dial_string="*672075550100", via_voip=False)
    assert out.guidance == ql.CallGuidance(voicemail_allowed=True, message_level=ql.MessageLevel.VAGUE,
                                           dropped_call=ql.DroppedCall.THEY_CALL_BACK,
                                           hidden_numbers=ql.HiddenNumbers.ACCEPTED,
                                           voicemail_script="Hello, this is [your first name]. I'm returning your call.",
                                           review_due=False, dropped_call_practice=None)
    out = agent.handle(ql.Event.CALL_ENDED(number=SURVIVOR, line=ql.Line.DIRECT, direction=ql.CallDirection.OUTGOING,
                                           started_at=utc("2026-11-23T14:55:00Z"), dropped=False))
    deletion = out.actions[0]
    assert deletion.kind.number == "+12075550100" and deletion.kind.since == utc("2026-11-23T14:54:00Z")
    assert deletion.created_at == utc("2026-11-23T15:00:00Z") and deletion.attempts == 0
    assert isinstance(agent.handle(ql.Event.OUTGOING_SMS(number=SURVIVOR)).verdict, ql.Verdict.BLOCK)
    assert isinstance(agent.handle(ql.Event.INCOMING_CALL(number=None)).verdict, ql.Verdict.ALLOW)
    out = agent.handle(ql.Event.POSTURE(lock_timeout_secs=0, secure_lock=False, caller_id_hidden=False))
    assert ql.Finding.SECURE_LOCK_MISSING() in out.findings
    for e in [ql.Event.TICK(), ql.Event.CHECK_IN(), ql.Event.UNLOCKED(), ql.Event.UNLOCK_FAILED(),
              ql.Event.HANDOFF_REQUESTED()]:
        agent.handle(e)


def test_ack_done_failed_repeated_and_unknown(tmp):
    clock = FrozenClock("2026-11-23T15:00:00Z")
    agent = new_agent(tmp, clock=clock)
    first, second = agent.pending_actions()[:2]
    assert agent.ack(first.id, ql.AckResult.DONE()) == ql.AckOutcome.COMPLETED
    assert agent.ack(first.id, ql.AckResult.DONE()) == ql.AckOutcome.ALREADY_DONE
    assert agent.ack(second.id, ql.AckResult.FAILED(reason="denied for 207 555 0100")) == ql.AckOutcome.WILL_RETRY
    assert second.id not in [a.id for a in agent.pending_actions()]
    [later] = [a for a in agent.all_pending_actions() if a.id == second.id]
    assert later.attempts == 1 and "555" not in later.last_error
    assert any(isinstance(f, ql.Finding.ACTION_FAILING) for f in agent.compliance().findings)
    clock.set("2026-11-23T15:01:00Z")
    assert second.id in [a.id for a in agent.pending_actions()]
    for bad in [0, 999, 2**64 - 1]:
        raises(ql.ApiError.UnknownAction, lambda bad=bad: agent.ack(bad, ql.AckResult.DONE()))


def test_unacknowledged_actions_survive_a_restart(tmp):
    clock = FrozenClock("2026-11-23T15:00:00Z")
    agent = new_agent(tmp, clock=clock)
    agent.register_survivor(SURVIVOR, None)
    agent.handle(ql.Event.CALL_ENDED(number=SURVIVOR, line=ql.Line.HELPLINE, direction=ql.CallDirection.INCOMING,
                                     started_at=utc("2026-11-23T14:50:00Z"), dropped=False))
    before = agent.pending_actions()
    del agent
    again = ql.Agent.open(str(tmp), XorProtector(), clock)
    assert again.pending_actions() == before


def test_install_policy_json(tmp):
    agent = new_agent(tmp)
    actions = agent.install_policy_json(json.dumps({"schema": 1, "mode": "byod", "auto_lock": {"max_timeout_secs": 60}}))
    assert ql.ActionKind.SET_MAX_TIME_TO_LOCK(secs=60) in [a.kind for a in actions]
    raises(ql.ApiError.InvalidPolicy, lambda: agent.install_policy_json('{"schema":1,"mode":"byod","wipe":{"allow_full":true}}'))
    raises(ql.ApiError.InvalidPolicy, lambda: agent.install_policy_json("x" * 100000))
    assert json.loads(agent.policy_json())["auto_lock"]["max_timeout_secs"] == 60
    assert json.loads(ql.default_policy_json(ql.Mode.WORK))["mode"] == "work"


def test_anonymous_hotline_refuses_registration(tmp):
    agent = new_agent(tmp, policy=json.dumps({"schema": 1, "mode": "work", "retention": {"anonymous_hotline": True}}))
    raises(ql.ApiError.NotAllowed, lambda: agent.register_survivor(SURVIVOR, None))


def test_region_compliance_and_audit(tmp):
    agent = new_agent(tmp)
    agent.set_region("gb")
    assert agent.region() == "GB"
    raises(ql.ApiError.InvalidRegion, lambda: agent.set_region("XX"))
    report = agent.compliance()
    assert report.mode == ql.Mode.BYOD and report.survivors == 0 and report.pending_actions == len(agent.all_pending_actions())
    assert ql.Finding.CALLER_ID_CHECK_OVERDUE() in report.findings
    agent.register_survivor("020 7946 0018", None)
    records = agent.audit_export()
    assert records[0].seq == 1 and records[0].kind == ql.AuditKind.AGENT_CREATED
    assert ql.AuditKind.SURVIVOR_REGISTERED in [r.kind for r in records]
    assert all(records[i + 1].prev == records[i].hash for i in range(len(records) - 1))
    assert "79460018" not in repr(records)


def test_damaged_state_is_a_typed_error(tmp):
    new_agent(tmp)
    state = tmp / "state.qls"
    data = bytearray(state.read_bytes())
    data[-1] ^= 1
    state.write_bytes(bytes(data))
    raises(ql.ApiError.StateDamaged, lambda: ql.Agent.open(str(tmp), XorProtector()))
    state.write_bytes(b"")
    raises(ql.ApiError.StateDamaged, lambda: ql.Agent.open(str(tmp), XorProtector()))


def test_wipe_erases_and_refuses_further_calls(tmp):
    protector = XorProtector()
    agent = new_agent(tmp, protector=protector)
    agent.wipe()
    assert protector.destroyed
    assert not (tmp / "state.qls").exists()
    assert raises(ql.ApiError.Wiped, lambda: agent.pending_actions()).scope is None
    raises(ql.ApiError.Wiped, lambda: agent.handle(ql.Event.TICK()))
    raises(ql.ApiError.Wiped, lambda: agent.wipe())
    raises(ql.ApiError.NotInitialized, lambda: ql.Agent.open(str(tmp), protector))


def test_wipe_reports_a_failing_key_destroy_but_removes_files(tmp):
    agent = new_agent(tmp)
    del agent
    agent = ql.Agent.open(str(tmp), _DestroyFails())
    raises(ql.ApiError.KeyStoreFailed, lambda: agent.wipe())
    assert not (tmp / "state.qls").exists()


class _DestroyFails(XorProtector):
    def destroy_key(self):
        raise ql.KeyProtectorError.Failed("keystore busy")


def test_broken_clock_is_an_internal_error_not_a_crash(tmp):
    class BadOffset(FrozenClock):
        def local_offset_secs(self):
            return 10**6

    clock = BadOffset("2026-11-23T15:00:00Z")
    clock.offset = 0
    agent = new_agent(tmp, clock=FrozenClock("2026-11-23T15:00:00Z"))
    del agent
    agent = ql.Agent.open(str(tmp), XorProtector(), clock)
    agent.register_survivor(SURVIVOR, _plan_with_window())
    raises(ql.ApiError.Internal, lambda: agent.handle(
        ql.Event.OUTGOING_CALL(number=SURVIVOR, line=ql.Line.DIRECT, confirmed=False)))
    raises(ql.ApiError.Internal, lambda: agent.pending_actions())
    again = ql.Agent.open(str(tmp), XorProtector(), FrozenClock("2026-11-23T15:00:00Z"))
    assert again.is_survivor(SURVIVOR)


def _plan_with_window():
    plan = ql.default_contact_plan()
    plan.safe_windows = [ql.SafeWindow(day=ql.Day.TUE, start="18:00", end="20:00")]
    return plan


# --- trust: enrollment, signed policies and commands, receipts, wipes ----------------------------
# Bundles, policies and commands come from the real admin CLI; the agent runs on the device clock,
# as the CLI signs with the current time.

WORK_RULES = {"schema": 1, "mode": "work", "wipe": {"allow_full": True}}


def enrolled(tmp, rules=WORK_RULES, mode="work", protector=None):
    org = Org(tmp.parent / "org", rules, mode)
    agent = ql.Agent.enroll(str(tmp), "US", org.bundle_text, protector or XorProtector())
    agent.set_platform_caps(ql.PlatformCaps(full_wipe=True, prefix_dialing=True))
    org.accept(agent.enrollment_response())
    return org, agent


def kind(action):
    return type(action.kind).__name__.split(".")[-1]


def test_enroll_pins_the_org_and_answers_with_a_response(tmp):
    org, agent = enrolled(tmp)
    assert agent.enrollment_response().startswith("QL:")
    assert agent.device_id() == DEVICE_ID and agent.policy_version() == 1 and agent.relay_url() == RELAY
    assert agent.policy_is_stale() is False
    assert agent.queued_receipts() == []
    assert "SET_MAX_TIME_TO_LOCK" in [kind(a) for a in agent.pending_actions()]
    raises(ql.ApiError.NotAllowed, lambda: agent.install_policy_json(WORK))
    raises(ql.ApiError.AlreadyInitialized, lambda: ql.Agent.enroll(str(tmp), "US", org.bundle_text, XorProtector()))
    response = agent.enrollment_response()
    del agent
    again = ql.Agent.open(str(tmp), XorProtector())
    assert again.device_id() == DEVICE_ID
    assert again.enrollment_response() == response, "kept for delivery after a restart"


def test_enroll_refuses_bad_bundles(tmp):
    org = Org(tmp.parent / "org", WORK_RULES)
    for bad in ["", "QL:", "hello", "QL:" + "A" * 100000, org.bundle_text[:-8], org.bundle_text + "AAAA"]:
        raises(ql.ApiError.Untrusted, lambda bad=bad: ql.Agent.enroll(str(tmp), "US", bad, XorProtector()))
    raises(ql.ApiError.InvalidRegion, lambda: ql.Agent.enroll(str(tmp), "ZZ", org.bundle_text, XorProtector()))
    raises(ql.ApiError.InvalidInput, lambda: ql.Agent.enroll(" ", "US", org.bundle_text, XorProtector()))
    raises(ql.ApiError.NotInitialized, lambda: ql.Agent.open(str(tmp), XorProtector()))


def test_unenrolled_agent_has_no_trust_surface(tmp):
    agent = new_agent(tmp)
    assert agent.enrollment_response() is None and agent.device_id() is None
    assert agent.policy_version() is None and agent.relay_url() is None and agent.policy_is_stale() is False
    assert agent.queued_receipts() == []
    raises(ql.ApiError.WrongState, lambda: agent.apply_command("QL:AAAA"))
    raises(ql.ApiError.WrongState, lambda: agent.install_signed_policy("QL:AAAA"))
    raises(ql.ApiError.WrongState, lambda: agent.receipt_delivered("QL:AAAA"))
    assert ql.take_wipe_receipt(str(tmp)) is None and ql.take_wipe_receipt("") is None


def test_lock_command_is_applied_replayed_acked_and_its_receipt_verifies(tmp):
    org, agent = enrolled(tmp)
    lock = org.command("lock")
    result = agent.apply_command(lock)
    assert result.status == ql.CommandStatus.APPLIED and result.requested == ql.CommandAction.LOCK
    assert len(result.command_id) == 32 and result.receipt is None and result.wipe is None
    [action] = result.actions
    assert action.kind == ql.ActionKind.LOCK_NOW()
    replay = agent.apply_command(lock)
    assert replay.status == ql.CommandStatus.REPLAYED and replay.actions == []
    assert replay.command_id == result.command_id
    assert agent.ack(action.id, ql.AckResult.DONE()) == ql.AckOutcome.COMPLETED
    [receipt] = agent.queued_receipts()
    fields = org.verify_receipt(receipt)
    assert (fields["requested"], fields["outcome"], fields["command_id"]) == ("lock", "done", result.command_id)
    assert agent.receipt_delivered(receipt) is True
    assert agent.receipt_delivered(receipt) is False and agent.queued_receipts() == []
    ping = agent.apply_command(org.command("ping"))
    assert org.verify_receipt(ping.receipt)["requested"] == "ping"


def test_forged_and_garbage_commands_are_untrusted_and_change_nothing(tmp):
    org, agent = enrolled(tmp)
    lock = org.command("lock")
    forged = lock[:-4] + ("AAAA" if not lock.endswith("AAAA") else "BBBB")
    before = (agent.generation(), agent.all_pending_actions())
    for bad in ["", "QL:", "garbage", "QL:" + "A" * 100000, forged, lock[:-10], "\u0000" * 10]:
        e = raises(ql.ApiError.Untrusted, lambda bad=bad: agent.apply_command(bad))
        assert not re.search(r"\d{7,}", str(e)) and (len(bad) < 8 or bad not in str(e)), f"echoes input: {e}"
    assert (agent.generation(), agent.all_pending_actions()) == before
    agent.apply_command(lock)
    reused = org.command("ping", "--seq", "1")
    raises(ql.ApiError.Untrusted, lambda: agent.apply_command(reused))


def test_signed_policies_install_once_and_never_roll_back(tmp):
    org, agent = enrolled(tmp)
    v2 = org.policy(2, {**WORK_RULES, "auto_lock": {"max_timeout_secs": 60}})
    assert ql.ActionKind.SET_MAX_TIME_TO_LOCK(secs=60) in [a.kind for a in agent.install_signed_policy(v2)]
    assert agent.policy_version() == 2 and json.loads(agent.policy_json())["auto_lock"]["max_timeout_secs"] == 60
    assert agent.install_signed_policy(v2) == []
    v1 = (org.dir / "policy-1.ql").read_text().strip()
    for bad in [v1, "", "garbage", "QL:" + "A" * 100000, v2[:-6]]:
        raises(ql.ApiError.Untrusted, lambda bad=bad: agent.install_signed_policy(bad))
    for bad in ["", "garbage", v2]:
        raises(ql.ApiError.Untrusted, lambda bad=bad: agent.apply_root_rotation(bad))
    assert agent.policy_version() == 2


def test_full_wipe_command_erases_and_hands_over_scope_and_receipt(tmp):
    protector = XorProtector()
    org, agent = enrolled(tmp, protector=protector)
    result = agent.apply_command(org.command("wipe", "--scope", "full"))
    assert result.status == ql.CommandStatus.APPLIED and result.wipe == ql.WipeScope.FULL
    assert protector.destroyed and not (tmp / "state.qls").exists()
    for call in [agent.pending_actions, agent.queued_receipts, lambda: agent.handle(ql.Event.TICK()), agent.wipe]:
        e = raises(ql.ApiError.Wiped, call)
        assert e.scope == ql.WipeScope.FULL
    receipt = ql.take_wipe_receipt(str(tmp))
    assert receipt == result.receipt and ql.take_wipe_receipt(str(tmp)) is None
    fields = org.verify_receipt(receipt)
    assert (fields["requested"], fields["outcome"], fields["performed"]) == ("wipe_full", "erased", "full")


def test_byod_full_wipe_is_selective(tmp):
    org, agent = enrolled(tmp, rules={"schema": 1, "mode": "byod"}, mode="byod")
    result = agent.apply_command(org.command("wipe", "--scope", "full"))
    assert result.wipe == ql.WipeScope.SELECTIVE
    assert org.verify_receipt(ql.take_wipe_receipt(str(tmp)))["reason"] == "byod_selective_only"


def test_failed_unlocks_self_wipe_leaves_scope_and_receipt(tmp):
    rules = {"schema": 1, "mode": "byod", "offline": {"max_failed_unlocks": 3}}
    org, agent = enrolled(tmp, rules=rules, mode="byod")
    for _ in range(2):
        assert agent.handle(ql.Event.UNLOCK_FAILED()).actions == []
    out = agent.handle(ql.Event.UNLOCK_FAILED())
    assert ql.ActionKind.WIPE(scope=ql.WipeScope.SELECTIVE) in [a.kind for a in out.actions]
    e = raises(ql.ApiError.Wiped, agent.pending_actions)
    assert e.scope == ql.WipeScope.SELECTIVE
    fields = org.verify_receipt(ql.take_wipe_receipt(str(tmp)))
    assert (fields["outcome"], fields["performed"], fields["reason"]) == ("erased", "selective", "failed_unlocks")


OFF_DUTY = json.dumps({"schema": 1, "mode": "work", "off_duty": {
    "enabled": True, "days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00",
    "survivor_calls": "voicemail"}})


def test_platform_caps_refuse_an_exposed_call_and_downgrade_full_wipe(tmp):
    agent = new_agent(tmp)
    agent.set_platform_caps(ql.PlatformCaps(full_wipe=False, prefix_dialing=False))
    out = agent.handle(ql.Event.OUTGOING_CALL(number=SURVIVOR, line=ql.Line.HELPLINE, confirmed=False))
    assert isinstance(out.verdict, ql.Verdict.BLOCK), out.verdict
    assert out.verdict.reason == ql.BlockReason.CALLER_ID_CANNOT_BE_HIDDEN


def test_bulk_registration_and_no_survivor_block_list(tmp):
    # Monday 21:00 at UTC-5: off duty.
    agent = ql.Agent.create(str(tmp), "US", OFF_DUTY, XorProtector(), FrozenClock("2026-11-24T02:00:00Z", -18000))
    n = agent.register_survivors([ql.SurvivorEntry(number=SURVIVOR, plan=None),
                                  ql.SurvivorEntry(number="(207) 555-0101", plan=None)])
    assert n == 2 and agent.survivor_count() == 2
    e = raises(ql.ApiError, lambda: agent.register_survivors([ql.SurvivorEntry(number="911", plan=None)]))
    assert "survivors[0]" in str(e), e
    # No API lists survivors' numbers for blocking (issue 11 item 9: a block list of survivors
    # only is an oracle for anyone who fakes a survivor's caller ID).
    assert not hasattr(agent, "off_duty_block_list")


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)]
    passed = failed = 0
    for name, fn in tests:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                fn(pathlib.Path(tmp) / "agent")
                passed += 1
                print(f"ok   {name}")
            except Exception:  # noqa: BLE001
                failed += 1
                print(f"FAIL {name}")
                traceback.print_exc()
    print(f"python bindings: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
