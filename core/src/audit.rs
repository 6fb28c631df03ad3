//! The audit log: append-only, hash-chained, and free of survivor data. Records hold event
//! kinds, counts, action ids and times, never a number. Old records expire per the policy;
//! the hash of the last expired record stays as the chain's anchor, so a broken or edited
//! chain is still detected.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use ring::digest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Counts of events not yet written to the audit log: folded into one record per kind at the
/// next commit, so a flood of events costs no extra writes.
pub(crate) type Tally = BTreeMap<AuditKind, u64>;

/// A broken chain.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AuditError {
    /// Record `seq` does not follow from the one before it.
    #[error("audit chain broken at record {seq}")]
    BrokenChain {
        /// The first record that fails.
        seq: u64,
    },
}

/// What happened. Names only kinds of events, never people or numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum AuditKind {
    AgentCreated,
    AgentOpened,
    PolicyInstalled,
    PolicyRejected,
    SurvivorRegistered,
    SurvivorForgotten,
    SurvivorsExpired,
    SurvivorDataPurged,
    OutgoingCallChecked,
    OutgoingCallWarned,
    CallEnded,
    SmsChecked,
    SmsBlocked,
    IncomingCallChecked,
    IncomingCallScreened,
    PostureReported,
    PostureNonCompliant,
    PlatformGapsReported,
    HandoffRequested,
    HandoffRefused,
    Tick,
    ActionIssued,
    ActionDone,
    ActionFailed,
    ActionsAbandoned,
    ActionUnsupported,
    CommandAccepted,
    CommandRejected,
    CommandReplayed,
    WipeStarted,
    WipeCompleted,
    ClockJump,
    CheckIn,
    Unlocked,
    UnlockFailed,
    TextHeld,
    TextsDiscarded,
    TextsExpired,
}

/// One record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// What.
    pub kind: AuditKind,
    /// How many (for aggregated decisions).
    pub count: u64,
    /// Action ids concerned.
    pub action_ids: Vec<u64>,
    /// A short detail without personal data (an action kind, a rule name).
    pub detail: String,
    /// Hex SHA-256 of the previous record (or the anchor).
    pub prev: String,
    /// Hex SHA-256 of this record.
    pub hash: String,
}

fn record_hash(r: &AuditRecord) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(b"quietline-audit-v1\0");
    ctx.update(r.prev.as_bytes());
    ctx.update(&r.seq.to_be_bytes());
    ctx.update(r.at.to_rfc3339().as_bytes());
    ctx.update(&[0]);
    ctx.update(format!("{:?}", r.kind).as_bytes());
    ctx.update(&[0]);
    ctx.update(&r.count.to_be_bytes());
    for id in &r.action_ids {
        ctx.update(&id.to_be_bytes());
    }
    ctx.update(&[0]);
    ctx.update(r.detail.as_bytes());
    crate::hex::hex(ctx.finish().as_ref())
}

/// The detail of an `ActionIssued` record for actions that a survivor call or text caused.
pub const SURVIVOR_TRAFFIC: &str = "survivor traffic";
/// Action names whose acknowledgements would time a survivor call.
const AFTER_CALL_ACTIONS: [&str; 3] = ["delete_call_log", "delete_contact", "notify"];

impl AuditKind {
    /// Events about survivor calls and texts: kept only as counts per day, because the guidance
    /// asks for the minimum, and when and how often a survivor calls is not needed.
    pub fn per_day(self) -> bool {
        matches!(
            self,
            AuditKind::OutgoingCallChecked
                | AuditKind::OutgoingCallWarned
                | AuditKind::CallEnded
                | AuditKind::SmsChecked
                | AuditKind::SmsBlocked
                | AuditKind::IncomingCallChecked
                | AuditKind::IncomingCallScreened
                | AuditKind::TextHeld
        )
    }
}

/// A count of one kind of survivor traffic on one day (UTC), not yet written to the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct DayCount {
    day: NaiveDate,
    kind: AuditKind,
    detail: String,
    count: u64,
}

/// The log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditLog {
    anchor: String,
    next_seq: u64,
    records: Vec<AuditRecord>,
    /// Today's survivor traffic, written as one record per kind once the day is over.
    #[serde(default)]
    days: Vec<DayCount>,
}

impl Default for AuditLog {
    fn default() -> Self {
        Self { anchor: "0".repeat(64), next_seq: 1, records: Vec::new(), days: Vec::new() }
    }
}

impl AuditLog {
    /// Appends a record. Survivor traffic ([`AuditKind::per_day`], the actions it issued
    /// ([`SURVIVOR_TRAFFIC`]) and their acknowledgements) is only counted for the day: no
    /// record of it carries a time of day or an action id.
    pub fn append(&mut self, at: DateTime<Utc>, kind: AuditKind, count: u64, action_ids: Vec<u64>, detail: &str) {
        self.close_days_before(at.date_naive());
        let acked = matches!(kind, AuditKind::ActionDone | AuditKind::ActionFailed | AuditKind::ActionUnsupported);
        let traffic = kind.per_day()
            || (kind == AuditKind::ActionIssued && detail == SURVIVOR_TRAFFIC)
            || (acked && AFTER_CALL_ACTIONS.contains(&detail));
        if traffic {
            let day = at.date_naive();
            match self.days.iter_mut().find(|d| d.day == day && d.kind == kind && d.detail == detail) {
                Some(d) => d.count += count,
                None => self.days.push(DayCount { day, kind, detail: detail.into(), count }),
            }
            return;
        }
        self.push(at, kind, count, action_ids, detail);
    }

    /// Writes the counts of every day before `today` to the chain: one record per kind, stamped
    /// at the end of its day.
    pub fn close_days_before(&mut self, today: NaiveDate) {
        let (done, open): (Vec<DayCount>, Vec<DayCount>) =
            std::mem::take(&mut self.days).into_iter().partition(|d| d.day < today);
        self.days = open;
        for d in done {
            let end = (d.day + chrono::Duration::days(1)).and_time(NaiveTime::MIN).and_utc();
            let detail = if d.detail.is_empty() { "per day".to_string() } else { format!("per day: {}", d.detail) };
            self.push(end, d.kind, d.count, Vec::new(), &detail);
        }
    }

    /// Today's survivor traffic so far, as (kind, count), not yet in the chain.
    pub fn open_day(&self) -> Vec<(AuditKind, u64)> {
        self.days.iter().map(|d| (d.kind, d.count)).collect()
    }

    fn push(&mut self, at: DateTime<Utc>, kind: AuditKind, count: u64, action_ids: Vec<u64>, detail: &str) {
        let prev = self.records.last().map(|r| r.hash.clone()).unwrap_or_else(|| self.anchor.clone());
        let mut r = AuditRecord {
            seq: self.next_seq,
            at,
            kind,
            count,
            action_ids,
            detail: detail.chars().take(64).collect(),
            prev,
            hash: String::new(),
        };
        r.hash = record_hash(&r);
        self.next_seq += 1;
        self.records.push(r);
    }

    /// The records still kept.
    pub fn records(&self) -> &[AuditRecord] {
        &self.records
    }

    /// Drops records older than `cutoff`, keeping the chain verifiable.
    pub fn expire_before(&mut self, cutoff: DateTime<Utc>) -> usize {
        let n = self.records.iter().take_while(|r| r.at < cutoff).count();
        if n > 0 {
            self.anchor = self.records[n - 1].hash.clone();
            self.records.drain(..n);
        }
        n
    }

    /// Checks every link of the chain.
    pub fn verify(&self) -> Result<(), AuditError> {
        verify_chain(&self.anchor, &self.records)
    }

    /// Mutable access for tests that tamper with the log.
    #[doc(hidden)]
    pub fn records_mut(&mut self) -> &mut Vec<AuditRecord> {
        &mut self.records
    }
}

/// Verifies exported records against the anchor they start from.
pub fn verify_chain(anchor: &str, records: &[AuditRecord]) -> Result<(), AuditError> {
    let mut prev = anchor.to_string();
    let mut seq = None;
    for r in records {
        let expected_seq = seq.map(|s: u64| s + 1).unwrap_or(r.seq);
        if r.prev != prev || r.seq != expected_seq || record_hash(r) != r.hash {
            return Err(AuditError::BrokenChain { seq: r.seq });
        }
        prev = r.hash.clone();
        seq = Some(r.seq);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T00:00:00Z").expect("t").with_timezone(&Utc)
            + chrono::Duration::hours(h)
    }

    #[test]
    fn chain_verifies_and_survives_expiry() {
        let mut log = AuditLog::default();
        for i in 0..5 {
            log.append(t(i), AuditKind::CheckIn, 1, vec![], "");
        }
        assert_eq!(log.verify(), Ok(()));
        assert_eq!(log.expire_before(t(2)), 2);
        assert_eq!(log.verify(), Ok(()));
        log.append(t(9), AuditKind::Tick, 1, vec![], "");
        assert_eq!(log.verify(), Ok(()));
    }

    #[test]
    fn survivor_traffic_reaches_the_chain_as_one_count_per_day() {
        let mut log = AuditLog::default();
        log.append(t(15), AuditKind::CallEnded, 1, vec![], "");
        log.append(t(19), AuditKind::CallEnded, 1, vec![], "");
        log.append(t(19), AuditKind::ActionIssued, 2, vec![7, 8], SURVIVOR_TRAFFIC);
        log.append(t(20), AuditKind::ActionDone, 1, vec![7], "delete_call_log");
        assert!(log.records().is_empty(), "nothing is timed during the day");
        assert_eq!(
            log.open_day(),
            [(AuditKind::CallEnded, 2), (AuditKind::ActionIssued, 2), (AuditKind::ActionDone, 1)]
        );
        log.append(t(30), AuditKind::Tick, 1, vec![], "");
        let r = log.records();
        assert_eq!(r.len(), 4);
        assert!(r[..3].iter().all(|r| r.at == t(24) && r.action_ids.is_empty()), "{r:?}");
        assert_eq!((r[0].kind, r[0].count), (AuditKind::CallEnded, 2));
        assert_eq!(log.verify(), Ok(()));
        assert!(log.open_day().is_empty());
    }

    #[test]
    fn broken_chain_is_detected() {
        let mut log = AuditLog::default();
        for i in 0..4 {
            log.append(t(i), AuditKind::ActionIssued, 1, vec![i as u64], "lock_now");
        }
        log.records_mut()[2].count = 7;
        assert_eq!(log.verify(), Err(AuditError::BrokenChain { seq: 3 }));
        let mut log2 = log.clone();
        log2.records_mut()[2].count = 1;
        log2.records_mut().remove(1);
        assert_eq!(log2.verify(), Err(AuditError::BrokenChain { seq: 3 }));
    }
}
