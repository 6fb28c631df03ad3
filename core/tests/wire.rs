//! The wire layouts' own rules: a command fits one SMS, malformed bytes are typed errors, and a
//! container's length cannot lie (moved out of `wire.rs` to keep it within one head).

use quietline_core::wire::*;

fn cmd() -> Command {
    Command {
        device_id: [1; 8],
        enrollment_id: [2; 4],
        seq: 7,
        issued_at: 1_800_000_000,
        expires_at: 1_800_003_600,
        action: CommandAction::WipeFull,
        key_id: [3; 8],
        signature: [4; 64],
    }
}

#[test]
fn command_fits_one_gsm7_sms() {
    let text = to_text(&cmd().to_bytes());
    assert!(text.len() <= 160, "{}", text.len());
    // base64url and the prefix use only GSM-7 basic characters.
    assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || "QL:-_".contains(c)));
    assert_eq!(Command::from_bytes(&from_text(&text).expect("text")).expect("cmd"), cmd());
}

#[test]
fn truncated_trailing_and_wrong_type_are_typed_errors() {
    let b = cmd().to_bytes();
    for n in 0..b.len() {
        assert!(Command::from_bytes(&b[..n]).is_err());
    }
    let mut long = b.clone();
    long.push(0);
    assert_eq!(Command::from_bytes(&long), Err(WireError::Trailing));
    let mut t = b.clone();
    t[3] = 4;
    assert!(Command::from_bytes(&t).is_err());
    assert_eq!(from_text(&"A".repeat(MAX_TEXT + 1)), Err(WireError::TooLarge(MAX_TEXT + 1)));
}

#[test]
fn container_rejects_lying_length() {
    let c = Container { kind: ObjType::Policy, body: b"{}".to_vec(), signatures: vec![([9; 8], [8; 64])] };
    let mut b = c.to_bytes().expect("encodes");
    assert_eq!(Container::from_bytes(&b, ObjType::Policy).expect("ok"), c);
    b[7] = 200;
    assert!(Container::from_bytes(&b, ObjType::Policy).is_err());
    let mut huge = c.to_bytes().expect("encodes");
    huge[4] = 0x7f;
    assert!(matches!(Container::from_bytes(&huge, ObjType::Policy), Err(WireError::TooLarge(_))));
    let many = Container { signatures: vec![([1; 8], [2; 64]); MAX_SIGS + 1], ..c.clone() };
    assert_eq!(many.to_bytes(), Err(WireError::BadField("signature count")));
    let big = Container { body: vec![b' '; MAX_BODY + 1], ..c };
    assert_eq!(big.to_bytes(), Err(WireError::TooLarge(MAX_BODY + 1)));
}
