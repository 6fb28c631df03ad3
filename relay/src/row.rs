//! A device's row as the database stores it, shared by the database layer (`db`) and the
//! in-memory copy SQLite relays keep of it (`hot`).

/// A device as stored.
#[derive(Debug, Clone)]
pub struct DeviceRow {
    /// Hex.
    pub device_id: String,
    /// Hex.
    pub enrollment_id: String,
    /// `work` or `byod`.
    pub mode: String,
    /// Hex, once the phone posted its response (or IT accepted one).
    pub device_key: Option<String>,
    /// Whether IT accepted the key.
    pub key_accepted: bool,
    /// The posted response.
    pub enroll_response: Option<String>,
    /// When IT announced the enrollment.
    pub announced_at: i64,
    /// When the response arrived.
    pub enrolled_at: Option<i64>,
    /// Last authenticated request.
    pub last_seen: Option<i64>,
    /// Last verified check-in.
    pub last_checkin: Option<i64>,
    /// The last status report body (JSON), as verified.
    pub report: Option<String>,
    /// Reported policy version.
    pub policy_version: Option<i64>,
    /// Reported root version.
    pub root_version: Option<i64>,
}
