//! The agent: the one home of [`Agent`], the orchestrator. It holds the state, hands each event
//! to the rules that own it, asks the domain modules (trust, offline, wipe) for their decisions,
//! and commits before it answers. Its rooms: `survivors` (the registry's API), `signed`
//! (enrollment, signed policies and commands, receipts), `texts` (survivors' texts, held instead
//! of the SMS provider) and `wiping` (the wipe lifecycle).

mod relay;
mod signed;
mod survivors;
mod texts;
mod wiping;

use crate::actions::{AckOutcome, AckResult, Action, ActionId, WipeScope};
use crate::audit::{AuditKind, AuditRecord, Tally};
use crate::clock::Clock;
use crate::error::{AgentError, StateError};
use crate::event::{ComplianceReport, Event, Finding, Outcome, PlatformCaps, Verdict};
use crate::numbers::Region;
use crate::policy::Policy;
use crate::rules::{calls, hours, posture, retention, sms, Desk};
use crate::state::{self, Journal, State};
use crate::store::KeyProtector;
use crate::wipe::FailPoint;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where and how the agent lives.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The state directory.
    pub dir: PathBuf,
    /// The device's region code (ISO 3166-1 alpha-2).
    pub region: String,
}

impl AgentConfig {
    /// A config for `dir` and `region`.
    pub fn new(dir: impl AsRef<Path>, region: &str) -> Self {
        Self { dir: dir.as_ref().to_path_buf(), region: region.to_string() }
    }
}

/// The policy agent.
pub struct Agent {
    journal: Journal,
    clock: Arc<dyn Clock>,
    state: State,
    counts: Tally,
    wiped: Option<WipeScope>,
    fail_point: Option<FailPoint>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Agent(generation {})", self.state.generation)
    }
}

impl Agent {
    /// Creates a new agent in an empty directory with an initial policy, and commits it.
    /// The first actions (lock timeout, secure lock) are pending at once.
    pub fn create(
        config: AgentConfig,
        protector: Arc<dyn KeyProtector>,
        clock: Arc<dyn Clock>,
        policy: Policy,
    ) -> Result<Self, AgentError> {
        crate::guidance::accept(&policy)?;
        let region = Region::parse(&config.region)?;
        state::check_dir(&config.dir)?;
        let journal = Journal::create(&config.dir, protector)?;
        let now = clock.now();
        let state = State::new(region, policy, now)?;
        let mut agent = Agent::assemble(journal, clock, state);
        agent.state.audit.append(now, AuditKind::AgentCreated, 1, vec![], "");
        let mut out = Outcome::allow();
        posture::enforce_policy(&mut agent.desk(now), &mut out);
        agent.commit()?;
        Ok(agent)
    }

    /// Opens the agent in `dir`. A missing, corrupt or truncated state is a typed error,
    /// never a silent reset.
    ///
    /// If a wipe was intended and a crash interrupted it, the wipe is finished first and
    /// `AgentError::Wiped` is returned.
    pub fn open(
        dir: impl AsRef<Path>,
        protector: Arc<dyn KeyProtector>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AgentError> {
        state::check_dir(dir.as_ref())?;
        if let Some(scope) = Self::resume_wipe_if_intended(dir.as_ref(), &protector, &clock)? {
            return Err(AgentError::Wiped { scope });
        }
        Self::open_ignoring_intent(dir.as_ref(), protector, clock)
    }

    fn open_ignoring_intent(
        dir: &Path,
        protector: Arc<dyn KeyProtector>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AgentError> {
        let (journal, state) = Journal::open(dir, protector)?;
        Ok(Agent::assemble(journal, clock, state))
    }

    fn assemble(journal: Journal, clock: Arc<dyn Clock>, state: State) -> Self {
        Agent { journal, clock, state, counts: Tally::new(), wiped: None, fail_point: None }
    }

    /// `Some(scope)` once this agent has wiped itself (a command, an offline rule): the app must
    /// perform that platform wipe; every further call fails with `AgentError::Wiped`.
    pub fn wiped(&self) -> Option<WipeScope> {
        self.wiped
    }

    fn ensure_live(&self) -> Result<(), AgentError> {
        match self.wiped {
            Some(scope) => Err(AgentError::Wiped { scope }),
            None => Ok(()),
        }
    }

    fn count(&mut self, kind: AuditKind) {
        *self.counts.entry(kind).or_default() += 1;
    }

    /// Counts an event: survivor traffic goes straight to the audit log's count for the day
    /// (so it is never attributed to a later day), anything else is folded into the next commit.
    fn count_event(&mut self, kind: AuditKind, now: DateTime<Utc>) {
        if kind.per_day() {
            self.state.audit.append(now, kind, 1, vec![], "");
        } else {
            self.count(kind);
        }
    }

    /// How many commits this state has seen.
    pub fn generation(&self) -> u64 {
        self.state.generation
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.state.policy
    }

    /// The organisation's calling app named in the policy in force (`caller_id.softphone`), which
    /// the apps use before any managed configuration. On an enrolled phone only a root-signed
    /// policy can set or change it (a staff-signed one may not touch `caller_id`), and neither the
    /// relay nor the advocate can.
    pub fn softphone(&self) -> Option<&crate::softphone::Softphone> {
        self.state.policy.caller_id.softphone.as_ref()
    }

    /// The device's region.
    pub fn region(&self) -> Region {
        self.state.region
    }

    /// The clock the agent reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The state directory (for tests and tools that inspect what is on disk).
    pub fn dir(&self) -> &Path {
        self.journal.dir()
    }

    /// Updates the device's region (after a SIM change or travel).
    pub fn set_region(&mut self, region: &str) -> Result<(), AgentError> {
        self.ensure_live()?;
        self.state.region = Region::parse(region)?;
        self.commit()
    }

    /// Installs a policy that has already been authenticated by the caller (the trust layer,
    /// or a test) and issues the actions that enforce it.
    ///
    /// An enrolled agent refuses it: its policies arrive signed (`install_signed_policy`).
    pub fn install_policy(&mut self, policy: Policy) -> Result<Vec<Action>, AgentError> {
        if self.state.trust.is_some() {
            return Err(StateError::SignedPoliciesOnly.into());
        }
        self.apply_policy(policy)
    }

    fn apply_policy(&mut self, policy: Policy) -> Result<Vec<Action>, AgentError> {
        self.ensure_live()?;
        crate::guidance::accept(&policy)?;
        let now = self.now();
        self.state.policy = policy;
        self.state.audit.append(now, AuditKind::PolicyInstalled, 1, vec![], "");
        let mut out = Outcome::allow();
        posture::enforce_policy(&mut self.desk(now), &mut out);
        self.commit()?;
        Ok(out.actions)
    }

    /// Declares what the platform can do (see [`PlatformCaps`]). Commands are refused until
    /// the app has declared it once: a receipt must say what the platform can really do.
    pub fn set_platform_caps(&mut self, caps: PlatformCaps) -> Result<(), AgentError> {
        self.ensure_live()?;
        if self.state.caps != caps || !self.state.caps_declared {
            self.state.caps = caps;
            self.state.caps_declared = true;
            self.commit()?;
        }
        Ok(())
    }

    /// What the platform can do, as last declared.
    pub fn platform_caps(&self) -> PlatformCaps {
        self.state.caps
    }

    /// Actions due now, oldest first: after a restart, everything not yet acknowledged.
    pub fn pending_actions(&self) -> Vec<Action> {
        self.state.outbox.due(self.now())
    }

    /// Every unacknowledged action, due or not.
    pub fn all_pending_actions(&self) -> Vec<Action> {
        self.state.outbox.all().cloned().collect()
    }

    /// Acknowledges an action. `Done` drops it (and any number it held); `Failed` schedules a
    /// retry with backoff and shows up in compliance. Acknowledging twice is harmless.
    pub fn ack(&mut self, id: ActionId, result: AckResult) -> Result<AckOutcome, AgentError> {
        self.ensure_live()?;
        let now = self.now();
        let (outcome, name) = self.state.outbox.ack(id, &result, now).ok_or(AgentError::UnknownAction(id))?;
        match outcome {
            AckOutcome::AlreadyDone => return Ok(outcome),
            AckOutcome::Completed => self.state.audit.append(now, AuditKind::ActionDone, 1, vec![id], name),
            AckOutcome::WillRetry => self.state.audit.append(now, AuditKind::ActionFailed, 1, vec![id], name),
            AckOutcome::Unsupported => self.state.audit.append(now, AuditKind::ActionUnsupported, 1, vec![id], name),
        }
        if let Some(t) = self.state.trust.as_mut() {
            t.receipt_for_ack(id, &result, now)?;
        }
        self.commit()?;
        Ok(outcome)
    }

    /// The compliance report.
    pub fn compliance(&self) -> ComplianceReport {
        let s = &self.state;
        let mut findings = posture::compliance_findings(&s.policy, &s.posture, &s.outbox, self.now());
        if s.offline.clock_jumps() > 0 {
            findings.push(Finding::ClockJumps { count: s.offline.clock_jumps() });
        }
        if let Some(t) = &s.trust {
            if self.policy_is_stale() {
                // A stale policy expired in the past; one before chrono's earliest time shows as that time.
                let expired_at = DateTime::from_timestamp(t.policy_expires_at(), 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
                findings.push(Finding::PolicyStale { expired_at });
            }
        }
        ComplianceReport {
            mode: s.policy.mode,
            findings,
            survivors: s.registry.len() as u64,
            pending_actions: s.outbox.all().count() as u64,
            checklist: s.policy.checklist.entries(),
        }
    }

    /// The audit records kept, oldest first, after checking the chain.
    pub fn audit_export(&self) -> Result<Vec<AuditRecord>, AgentError> {
        self.state.audit.verify()?;
        Ok(self.state.audit.records().to_vec())
    }

    /// Checks the audit chain.
    pub fn verify_audit(&self) -> Result<(), AgentError> {
        Ok(self.state.audit.verify()?)
    }

    /// Cryptographic erase of everything the agent holds: the key first, then the files.
    pub fn wipe(mut self) -> Result<(), AgentError> {
        self.ensure_live()?;
        self.journal.erase()
    }

    /// Handles one platform event. Any state change is committed before this returns; on a
    /// failed commit the agent returns to its last committed state and reports the error.
    pub fn handle(&mut self, event: Event) -> Result<Outcome, AgentError> {
        self.ensure_live()?;
        let now = self.now();
        let gen = self.state.generation;
        let before = self.state.audit.records().len();
        let before_seq = self.state.outbox.all().count();
        let kind = event.audit_kind();
        let mut out = self.decide(event, now)?;
        if self.wiped.is_some() {
            // The agent wiped itself (an offline rule fired): nothing is left to commit.
            return Ok(out);
        }
        self.count_event(kind, now);
        if let Verdict::Block { .. } = out.verdict {
            if kind == AuditKind::SmsChecked {
                self.count_event(AuditKind::SmsBlocked, now);
            }
        }
        let changed = self.state.generation != gen
            || self.state.audit.records().len() != before
            || self.state.outbox.all().count() != before_seq
            || !out.actions.is_empty()
            || matches!(
                kind,
                AuditKind::PostureReported
                    | AuditKind::PlatformGapsReported
                    | AuditKind::Tick
                    | AuditKind::CheckIn
                    | AuditKind::Unlocked
                    | AuditKind::UnlockFailed
            );
        if changed {
            if !out.actions.is_empty() {
                let ids = out.actions.iter().map(|a| a.id).collect();
                let detail = if kind.per_day() { crate::audit::SURVIVOR_TRAFFIC } else { "" };
                self.state.audit.append(now, AuditKind::ActionIssued, out.actions.len() as u64, ids, detail);
            }
            self.commit()?;
        }
        out.actions.sort_by_key(|a| a.id);
        Ok(out)
    }

    /// Hands the event to the rules that own it.
    fn decide(&mut self, event: Event, now: DateTime<Utc>) -> Result<Outcome, AgentError> {
        let mut out = Outcome::allow();
        let o = &mut out;
        match event {
            Event::OutgoingCall { number, line, confirmed } => {
                calls::outgoing(&mut self.desk(now), o, &number, line, confirmed)?
            }
            Event::CallEnded { number, line, direction: _, started_at, dropped } => {
                calls::ended(&mut self.desk(now), o, &number, line, started_at, dropped)?
            }
            Event::OutgoingSms { number } => sms::outgoing(&mut self.desk(now), o, &number)?,
            Event::IncomingCall { number } => calls::incoming(&mut self.desk(now), o, number.as_deref()),
            Event::Posture { lock_timeout_secs, secure_lock, caller_id_hidden } => {
                posture::report(&mut self.desk(now), o, lock_timeout_secs, secure_lock, caller_id_hidden)
            }
            Event::PlatformGaps { gaps } => posture::report_gaps(&mut self.desk(now), o, gaps),
            Event::HandoffRequested => retention::handoff(&mut self.desk(now), o)?,
            Event::Tick => self.tick(o, now)?,
            // The app reached the relay: proof of nothing (the relay is not trusted, and a poll
            // can be faked or replayed). Audited only; the offline timers reset on fresh signed
            // evidence (a new policy, a root rotation, a command that is not a replay).
            Event::CheckIn => {}
            Event::Unlocked => {
                let t = now.max(self.state.last_seen);
                self.state.offline.record_unlock(t);
            }
            Event::UnlockFailed => {
                if let Some(rule) =
                    self.state.offline.record_failed_unlock(self.state.policy.offline.max_failed_unlocks)
                {
                    self.offline_wipe(o, rule, now)?;
                }
            }
        }
        Ok(out)
    }

    /// Periodic housekeeping: retention, the caller-ID check, the off-duty reminder, a stale
    /// policy, then the offline timers (which may wipe, so they come last).
    fn tick(&mut self, out: &mut Outcome, now: DateTime<Utc>) -> Result<(), AgentError> {
        let mut d = self.desk(now);
        retention::expire(&mut d);
        posture::schedule_caller_id_check(&mut d, out);
        hours::remind_off_duty(&mut d, out);
        let tnow = self.trusted_now();
        if let Some(t) = self.state.trust.as_mut() {
            for kind in t.stale_tick(tnow) {
                out.push(&mut self.state.outbox, kind, now, now);
            }
        }
        // Timers that never started run from the last time the agent committed (its setup).
        let start = self.state.last_seen;
        let mono = self.clock.monotonic();
        let (timer_now, jump) = self.state.offline.timer_now(now, start, mono);
        if let Some(at) = jump {
            self.state.audit.append(at, AuditKind::ClockJump, 1, vec![], "");
        }
        self.state.last_seen = self.state.last_seen.max(timer_now);
        let steps = self.state.offline.tick(&self.state.policy.offline, start, timer_now);
        for kind in steps.actions {
            out.push(&mut self.state.outbox, kind, now, now);
        }
        match steps.wipe {
            Some(rule) => self.offline_wipe(out, rule, now),
            None => Ok(()),
        }
    }

    /// Records a successful contact with the organisation; resets the check-in timer.
    fn record_check_in(&mut self, now: DateTime<Utc>) {
        let t = now.max(self.state.last_seen);
        self.state.offline.record_check_in(t);
    }

    /// The parts of the state the rules work with, at `now`.
    fn desk(&mut self, now: DateTime<Utc>) -> Desk<'_> {
        let s = &mut self.state;
        Desk {
            now,
            offset: self.clock.local_offset(),
            region: s.region,
            caps: s.caps,
            policy: &s.policy,
            registry: &mut s.registry,
            texts: &mut s.texts,
            posture: &mut s.posture,
            outbox: &mut s.outbox,
            audit: &mut s.audit,
            tally: &mut self.counts,
            last_off_duty_reminder: &mut s.last_off_duty_reminder,
        }
    }

    /// Commits the state (with the counts gathered since the last commit). On failure the
    /// in-memory state returns to the last committed one.
    fn commit(&mut self) -> Result<(), AgentError> {
        let now = self.now();
        let signed = self.state.trust.as_ref().map_or(0, |t| t.signed_floor());
        self.state.time.observe(self.clock.monotonic(), signed);
        for (kind, count) in std::mem::take(&mut self.counts) {
            self.state.audit.append(now, kind, count, vec![], "");
        }
        self.journal.commit(&mut self.state, now)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
