//! The relay poll-session test vector (tests/vectors/relay-session.json), computed by an
//! independent implementation (Python's hmac), reproduced byte for byte by the core.

use quietline_core::relay_session::{session_mac_bytes, RelaySession, SessionAuth};
use quietline_core::relay_session_authorization;

#[test]
fn relay_session_vector_is_reproduced_exactly() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/relay-session.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).expect("value")).expect("value");
    let s = |k: &str| v[k].as_str().expect("value").to_string();
    let body: Vec<u8> = (0..s("body_hex").len() / 2)
        .map(|i| u8::from_str_radix(&s("body_hex")[2 * i..2 * i + 2], 16).expect("value"))
        .collect();
    let ts = v["ts"].as_i64().expect("value");
    let mut nonce = [0u8; 16];
    for (i, n) in nonce.iter_mut().enumerate() {
        *n = u8::from_str_radix(&s("nonce")[2 * i..2 * i + 2], 16).expect("value");
    }
    let header =
        relay_session_authorization(&s("session"), &s("method"), &s("endpoint"), &body, ts, nonce).expect("value");
    assert_eq!(header, s("expected"));
    let session = RelaySession::parse(&s("session")).expect("value");
    assert_eq!(
        session_mac_bytes(&s("method"), &s("endpoint"), &session.sid, ts, &nonce, &body),
        s("signed_bytes").into_bytes()
    );
    let auth = SessionAuth::parse(&header).expect("value");
    assert!(auth.verify(&session.key, &s("method"), &s("endpoint"), &body));
    assert!(!auth.verify(&session.key, "GET", "/checkin", &body));
}
