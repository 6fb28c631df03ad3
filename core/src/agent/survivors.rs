//! The agent's survivor registry API: register, forget, look up, purge, and the off-duty block
//! list. Numbers are normalised here and stored only as keyed hashes (`crate::registry`).

use super::Agent;
use crate::actions::Action;
use crate::audit::AuditKind;
use crate::error::AgentError;
use crate::event::Outcome;
use crate::numbers::{self, Classified};
use crate::registry::{ContactPlan, RegistryError};
use crate::rules::retention;
use chrono::Duration;

impl Agent {
    /// Registers a survivor (or renews one), with their contact plan.
    pub fn register_survivor(&mut self, number: &str, plan: Option<ContactPlan>) -> Result<(), AgentError> {
        self.ensure_live()?;
        if self.state.policy.retention.anonymous_hotline {
            return Err(RegistryError::AnonymousHotline.into());
        }
        let n = numbers::normalise(number, self.state.region)?;
        let now = self.now();
        let expires = now + Duration::days(i64::from(self.state.policy.retention.survivor_days));
        self.state.registry.insert(&n, plan.unwrap_or_default(), expires)?;
        self.state.audit.append(now, AuditKind::SurvivorRegistered, 1, vec![], "");
        self.commit()
    }

    /// Registers many survivors with one commit (an organisation importing a caseload). Either
    /// all are registered or, on the first unusable number, none; the error names its position,
    /// never the number.
    pub fn register_survivors(&mut self, survivors: &[(String, Option<ContactPlan>)]) -> Result<usize, AgentError> {
        self.ensure_live()?;
        if self.state.policy.retention.anonymous_hotline {
            return Err(RegistryError::AnonymousHotline.into());
        }
        let mut parsed = Vec::with_capacity(survivors.len());
        for (i, (number, plan)) in survivors.iter().enumerate() {
            let n = numbers::normalise(number, self.state.region).map_err(|e| {
                AgentError::Registry(RegistryError::BadPlan { field: format!("survivors[{i}]"), reason: e.to_string() })
            })?;
            let plan = plan.clone().unwrap_or_default();
            plan.validate()?;
            parsed.push((n, plan));
        }
        let now = self.now();
        let expires = now + Duration::days(i64::from(self.state.policy.retention.survivor_days));
        for (n, plan) in parsed {
            self.state.registry.insert(&n, plan, expires)?;
        }
        self.state.audit.append(now, AuditKind::SurvivorRegistered, survivors.len() as u64, vec![], "bulk");
        self.commit()?;
        Ok(survivors.len())
    }

    /// Forgets a survivor, and discards the texts held for their number; true if they were
    /// registered.
    pub fn forget_survivor(&mut self, number: &str) -> Result<bool, AgentError> {
        self.ensure_live()?;
        let n = numbers::normalise(number, self.state.region)?;
        let removed = self.state.registry.remove(&n);
        // Their held texts go with them, registered or not (a text held before an expiry).
        let texts = self.state.texts.discard_number(&n);
        let now = self.now();
        if removed {
            self.state.audit.append(now, AuditKind::SurvivorForgotten, 1, vec![], "");
        }
        if texts > 0 {
            self.state.audit.append(now, AuditKind::TextsDiscarded, texts as u64, vec![], "");
        }
        if removed || texts > 0 {
            self.commit()?;
        }
        Ok(removed)
    }

    /// Whether a number belongs to a registered survivor.
    pub fn is_survivor(&self, number: &str) -> Result<bool, AgentError> {
        Ok(match numbers::classify_for_lookup(number, self.state.region)? {
            Classified::Number(n) => self.state.registry.get(&n).is_some(),
            Classified::Special => false,
        })
    }

    /// How many survivors are registered.
    pub fn survivor_count(&self) -> usize {
        self.state.registry.len()
    }

    /// Purges every survivor registration and every held text now, and asks the app to purge its
    /// own survivor data.
    pub fn purge_survivor_data(&mut self) -> Result<Vec<Action>, AgentError> {
        self.ensure_live()?;
        let now = self.now();
        let mut out = Outcome::allow();
        retention::purge(&mut self.desk(now), &mut out)?;
        self.commit()?;
        Ok(out.actions)
    }

    /// A one-way name of the registry's HMAC secret, so tests and audits can see a purge rotate
    /// it; it reveals nothing about the secret or any number.
    #[doc(hidden)]
    pub fn registry_secret_id(&self) -> String {
        self.state.registry.secret_id()
    }
}
