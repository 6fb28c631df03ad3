//! The poll-session functions the apps call (`relaySessionAuthorization`,
//! `relaySessionAuthorizationAt`, `relaySessionValid`): they agree with the relay's verifier,
//! and a malformed or expiring session is a typed `Untrusted` error that never echoes the key.

use quietline_core::relay_session::{new_session, RelaySession, SessionAuth};
use quietline_ffi::{relay_session_authorization, relay_session_authorization_at, relay_session_valid, ApiError};

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("value").as_secs() as i64
}

#[test]
fn a_session_header_verifies_on_the_relay_side_for_get_queue_only() {
    let s = new_session(now()).expect("value");
    let v = s.header_value();
    assert!(relay_session_valid(v.clone()));
    let h = relay_session_authorization(v.clone(), "GET".into(), "/queue".into(), vec![]).expect("value");
    let a = SessionAuth::parse(&h).expect("value");
    assert!((a.ts - now()).abs() <= 5);
    assert!(a.verify(&s.key, "GET", "/queue", b""));
    assert!(!a.verify(&s.key, "POST", "/checkin", b""));
    let at =
        relay_session_authorization_at(v.clone(), "GET".into(), "/queue".into(), vec![], now() + 100).expect("value");
    assert_eq!(SessionAuth::parse(&at).expect("value").ts, now() + 100);
    // Two calls draw two nonces.
    assert_ne!(SessionAuth::parse(&at).expect("value").nonce, a.nonce);
}

#[test]
fn malformed_or_expiring_sessions_are_untrusted_and_not_valid() {
    let expiring = RelaySession { sid: [1; 16], key: [0xab; 32], expires: now() + 30 }.header_value();
    let key_hex = "ab".repeat(32);
    for bad in [expiring.clone(), "".into(), "x.y.z".into(), expiring.replace('.', ":")] {
        assert!(!relay_session_valid(bad.clone()), "{bad}");
        match relay_session_authorization(bad.clone(), "GET".into(), "/queue".into(), vec![]) {
            Err(ApiError::Untrusted { reason }) => assert!(!reason.contains(&key_hex), "{reason}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    // The same session, asked for at a time well before its expiry, is fine.
    assert!(relay_session_authorization_at(expiring, "GET".into(), "/queue".into(), vec![], now() - 3600).is_ok());
}
