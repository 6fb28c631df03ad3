//! The agent's side of the relay protocol: request authentication and the check-in status
//! report, signed with the device key (formats in `report` and docs/relay-protocol.md).

use super::Agent;
use crate::audit::AuditKind;
use crate::error::AgentError;
use crate::event::Finding;
use crate::report::{finding_kind, random16, DeviceAuth, ReportError, StatusReport};
use crate::trust::TrustError;
use crate::wire;
use chrono::DateTime;
use std::collections::BTreeMap;

fn report_err(e: ReportError) -> AgentError {
    match e {
        ReportError::Trust(t) => AgentError::Trust(t),
        other => AgentError::Trust(TrustError::BadBody { field: "relay".into(), reason: other.to_string() }),
    }
}

impl Agent {
    /// The `Authorization` header value for a request to the organisation's relay, signed with
    /// this device's key over the method, the endpoint (`/queue`, `/receipts`, `/checkin`,
    /// `/push-token`) and the body, at the device's clock. Only authenticates the request: the
    /// relay's answer is still untrusted.
    pub fn relay_authorization(&self, method: &str, endpoint: &str, body: &[u8]) -> Result<String, AgentError> {
        self.relay_authorization_at(method, endpoint, body, self.clock().now().timestamp())
    }

    /// As [`Agent::relay_authorization`], at a given time (e.g. the relay's `Date` after a
    /// `401`): signing the relay's time affects only this request's authentication.
    pub fn relay_authorization_at(
        &self,
        method: &str,
        endpoint: &str,
        body: &[u8],
        ts: i64,
    ) -> Result<String, AgentError> {
        self.ensure_live()?;
        let v = self.trust_ref()?.device_view()?;
        let a = DeviceAuth::sign(&v.key, v.device_id, v.enrollment_id, ts.max(0), method, endpoint, body)
            .map_err(report_err)?;
        Ok(a.header())
    }

    /// Applies the organisation's signed acknowledgement of a check-in (wire type `08`, as `QL:`
    /// text from the relay's queue): if it names one of this phone's outstanding check-in
    /// nonces, for this device and enrollment, signed by a key of the installed policy with the
    /// `checkin` role and within its lifetime, the offline check-in timer is reset to when that
    /// nonce was issued, and the nonce is used up. Anything else (replayed, another phone's,
    /// another nonce, expired, forged, the wrong role) is refused and changes nothing.
    pub fn apply_checkin_ack(&mut self, text: &str) -> Result<(), AgentError> {
        self.ensure_live()?;
        let now = self.clock().now();
        let tnow = self.trusted_now();
        let timer_now = now.max(self.state.last_seen).timestamp();
        let (nonce, at) = self.trust_ref()?.check_checkin_ack(text, now, tnow, timer_now)?;
        self.trust_mut()?.consume_checkin_nonce(&nonce);
        if let Some(at) = DateTime::from_timestamp(at, 0) {
            self.state.offline.record_check_in(at);
        }
        self.state.audit.append(now, AuditKind::CheckIn, 1, vec![], "acknowledged");
        self.commit()
    }

    /// The device-signed status report for a check-in, answering the relay's `challenge`:
    /// policy version and staleness, compliance findings by kind, pending counts and the
    /// clock-jump flag. It carries nothing about survivors.
    ///
    /// Its `nonce` is remembered (committed before this returns): the organisation's signed
    /// acknowledgement naming it ([`Agent::apply_checkin_ack`]) is what resets the offline
    /// check-in timer, once.
    pub fn status_report(&mut self, challenge: &str) -> Result<String, AgentError> {
        self.ensure_live()?;
        let v = self.trust_ref()?.device_view()?;
        let c = self.compliance();
        let mut findings = BTreeMap::new();
        for f in &c.findings {
            *findings.entry(finding_kind(f).to_string()).or_insert(0u64) += 1;
        }
        let nonce = random16().map_err(report_err)?;
        let issued = self.clock().now().max(self.state.last_seen).timestamp();
        self.trust_mut()?.issue_checkin_nonce(nonce, issued);
        self.commit()?;
        let r = StatusReport {
            device_id: wire::hex(&v.device_id),
            enrollment_id: wire::hex(&v.enrollment_id),
            at: self.trusted_now().timestamp(),
            challenge: challenge.to_string(),
            nonce: wire::hex(&nonce),
            mode: v.mode,
            policy_version: self.policy_version().unwrap_or(0),
            policy_expires_at: v.policy_expires_at,
            policy_stale: self.policy_is_stale(),
            root_version: v.root_version,
            findings,
            pending_actions: c.pending_actions,
            queued_receipts: self.queued_receipts().len() as u64,
            clock_jumped: c.findings.iter().any(|f| matches!(f, Finding::ClockJumps { .. })),
        };
        r.sign(&v.key).map_err(report_err)
    }
}
