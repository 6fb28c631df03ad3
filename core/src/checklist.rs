//! What no app can enforce, confirmed by IT staff instead: the guidance's rules about the
//! phone system and the carrier. Each item is a date in the signed policy (the day IT checked
//! it), and the compliance report lists every item with that date or as unconfirmed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One thing IT staff check by hand, because it lives outside the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChecklistItem {
    /// Voicemail is not transcribed to email or text: a transcript is easy to intercept or forward.
    VoicemailTranscriptionOff,
    /// Few staff can open the carrier's online account, which lists every call.
    CarrierAccountsRestricted,
    /// The parts of phone bills that list calls are destroyed when they arrive.
    BillingRecordsDestroyed,
    /// No free VoIP service carries survivor calls: they are less secure and may market the data.
    NoFreeVoip,
    /// A VoIP number is not reused with several survivors, unless each agreed.
    VoipNumbersNotReused,
}

impl ChecklistItem {
    /// Every item, in the order the report lists them.
    pub const ALL: [ChecklistItem; 5] = [
        ChecklistItem::VoicemailTranscriptionOff,
        ChecklistItem::CarrierAccountsRestricted,
        ChecklistItem::BillingRecordsDestroyed,
        ChecklistItem::NoFreeVoip,
        ChecklistItem::VoipNumbersNotReused,
    ];

    /// The policy field that holds its confirmation date (`checklist.<field>`).
    pub fn field(self) -> &'static str {
        match self {
            ChecklistItem::VoicemailTranscriptionOff => "voicemail_transcription_off",
            ChecklistItem::CarrierAccountsRestricted => "carrier_accounts_restricted",
            ChecklistItem::BillingRecordsDestroyed => "billing_records_destroyed",
            ChecklistItem::NoFreeVoip => "no_free_voip",
            ChecklistItem::VoipNumbersNotReused => "voip_numbers_not_reused",
        }
    }
}

/// The dates IT staff confirmed each item (`"YYYY-MM-DD"`); `null` means not yet confirmed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Checklist {
    /// Voicemail transcription to email or text is off on every line advocates use.
    pub voicemail_transcription_off: Option<NaiveDate>,
    /// Access to the carrier's online accounts (which list calls) is limited to named staff.
    pub carrier_accounts_restricted: Option<NaiveDate>,
    /// The parts of phone bills that list calls are destroyed on receipt.
    pub billing_records_destroyed: Option<NaiveDate>,
    /// Survivor calls use a paid, confidential VoIP service, never a free one.
    pub no_free_voip: Option<NaiveDate>,
    /// VoIP numbers are not reused across survivors (or each survivor agreed).
    pub voip_numbers_not_reused: Option<NaiveDate>,
}

/// One line of the compliance report's checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistEntry {
    /// The item.
    pub item: ChecklistItem,
    /// When IT confirmed it, if they did.
    pub confirmed_on: Option<NaiveDate>,
}

impl Checklist {
    /// When IT confirmed `item`.
    pub fn confirmed_on(&self, item: ChecklistItem) -> Option<NaiveDate> {
        match item {
            ChecklistItem::VoicemailTranscriptionOff => self.voicemail_transcription_off,
            ChecklistItem::CarrierAccountsRestricted => self.carrier_accounts_restricted,
            ChecklistItem::BillingRecordsDestroyed => self.billing_records_destroyed,
            ChecklistItem::NoFreeVoip => self.no_free_voip,
            ChecklistItem::VoipNumbersNotReused => self.voip_numbers_not_reused,
        }
    }

    /// Every item with its confirmation date.
    pub fn entries(&self) -> Vec<ChecklistEntry> {
        ChecklistItem::ALL.iter().map(|&item| ChecklistEntry { item, confirmed_on: self.confirmed_on(item) }).collect()
    }

    /// The items not yet confirmed.
    pub fn unconfirmed(&self) -> Vec<ChecklistItem> {
        ChecklistItem::ALL.into_iter().filter(|i| self.confirmed_on(*i).is_none()).collect()
    }
}
