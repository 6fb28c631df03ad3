//! Quietline's core: the policy engine that decides, for the phones of advocates who serve
//! survivors of domestic and sexual violence, what the thin platform apps must do.
//!
//! The core never calls the platform. Platform events go in through [`Agent::handle`]; an
//! [`Outcome`] comes back with a verdict and durable [`Action`]s that the app executes and
//! acknowledges with [`Agent::ack`]. State is committed, encrypted, before `handle` returns.
//!
//! ```
//! use quietline_core::{Agent, AgentConfig, Event, FileKeyProtector, FixedClock, Line, Policy, Verdict};
//! use std::sync::Arc;
//!
//! let dir = std::env::temp_dir().join(format!("ql-doc-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let protector = Arc::new(FileKeyProtector::new(dir.join("kek")));
//! let clock = Arc::new(FixedClock::at("2026-11-23T15:00:00Z", 0).unwrap());
//! let policy = Policy::from_json(r#"{"schema":1,"mode":"byod"}"#).unwrap();
//! let mut agent = Agent::create(AgentConfig::new(&dir, "US"), protector, clock, policy).unwrap();
//! let outcome = agent
//!     .handle(Event::OutgoingCall { number: "(207) 555-0100".into(), line: Line::Helpline, confirmed: false })
//!     .unwrap();
//! assert_eq!(outcome.verdict, Verdict::Dial { dial_string: "*672075550100".into(), via_voip: false });
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

pub mod actions;
mod agent;
mod amend;
pub mod audit;
pub mod checkin;
pub mod checklist;
pub mod clock;
pub mod device;
mod enrollment;
mod error;
mod event;
mod frame;
pub mod guidance;
mod hex;
pub mod numbers;
pub mod offline;
pub mod policy;
pub mod registry;
pub mod relay_session;
pub mod report;
mod rules;
pub mod scripts;
mod seq_window;
pub mod softphone;
mod state;
pub mod store;
pub mod texts;
pub mod trust;
pub mod week;
mod wipe;
pub mod wire;

pub use actions::{AckOutcome, AckResult, Action, ActionId, ActionKind, NotifyKind, WipeScope};
pub use agent::{Agent, AgentConfig};
pub use audit::{AuditError, AuditKind, AuditRecord};
pub use checklist::{Checklist, ChecklistEntry, ChecklistItem};
pub use clock::{Clock, FixedClock, LocalClock, SystemClock};
pub use device::{CommandResult, CommandStatus};
pub use error::{AgentError, StateError};
pub use event::{
    BlockReason, CallDirection, CallGuidance, ComplianceReport, Event, Finding, Line, Outcome, PlatformCaps, RuleGap,
    Verdict, WarnReason,
};
pub use numbers::{Classified, NumberError, Region, E164};
pub use policy::{Mode, Policy, PolicyError};
pub use registry::{ContactPlan, DroppedCall, HiddenNumbers, MessageLevel, RegistryError, SafeWindow};
pub use relay_session::{relay_session_authorization, relay_session_authorization_random, relay_session_valid};
pub use softphone::{Softphone, SoftphoneError};
pub use store::{FileKeyProtector, KeyProtector, KeyProtectorError, StoreError};
pub use texts::{HeldText, TextDirection, TextError, TextReply};
pub use trust::TrustError;
