//! `quietline-ffi`: the UniFFI surface of Quietline's core for the Kotlin (Android), Swift (iOS)
//! and Python (tests, tools) apps.
//!
//! This crate holds no logic. [`Agent`] wraps the core's agent and delegates; the core's enums
//! and records cross as they are (`#[uniffi::remote]`), their times, E.164 numbers and dates
//! through the custom types [`UtcTime`], [`E164`] and [`IsoDate`]; only what the app sends
//! ([`Event`], [`ContactPlan`]) is mirrored by hand; every core error becomes
//! one flat [`ApiError`] in one place ([`error`]); the platform's key store and clock come in
//! through the foreign traits [`KeyProtector`] and [`Clock`]. Nothing panics across the FFI: every entry point
//! catches panics and reports [`ApiError::Internal`]. Rust code that links this crate into its
//! own library with a key protector written in Rust (the Android crate) builds the same [`Agent`]
//! through [`embed`], without a foreign-trait round trip.
//!
//! Times cross as `SystemTime`: `java.time.Instant` in Kotlin, `Date` in Swift, a timezone-aware
//! `datetime` in Python. Phone numbers cross as strings; the generated Kotlin data classes and
//! Python records print their fields, so apps must not log verdicts, events or actions.

mod agent;
mod custom;
mod error;
mod event;
mod platform;
mod relay;
mod remote;
mod softphone;
mod texts;
mod types;

pub use agent::{default_contact_plan, default_policy_json, embed, take_wipe_receipt, Agent};
pub use custom::{IsoDate, UtcTime, E164};
pub use error::ApiError;
pub use event::*;
pub use platform::{Clock, KeyProtector, KeyProtectorError};
pub use relay::{relay_session_authorization, relay_session_authorization_at, relay_session_valid};
pub use remote::*;
pub use softphone::{check_softphone, softphone_call_uri, SoftphoneSettings};
pub use texts::{HeldText, TextDirection, TextReply};
pub use types::*;

uniffi::setup_scaffolding!("quietline");
