//! Signature counting on signed containers: a key counts once, and a signature covers exactly
//! the bytes it was made over.

use quietline_core::trust::{check_root_signed, count_signers, sign_container, RootSet, SigningKey, TrustError};
use quietline_core::wire::ObjType;

#[test]
fn duplicate_signatures_count_once() {
    let a = SigningKey::generate().expect("a");
    let b = SigningKey::generate().expect("b");
    let c = sign_container(ObjType::Policy, b"{}".to_vec(), &[&a, &a, &a]).expect("sign");
    assert_eq!(count_signers(&c, &[a.public_key(), a.public_key(), b.public_key()]), 1);
    let root = RootSet { version: 1, keys: vec![a.public_key(), a.public_key(), b.public_key()], threshold: 2 };
    assert_eq!(check_root_signed(&c, &root), Err(TrustError::ThresholdNotMet { need: 2, got: 1 }));
    let c2 = sign_container(ObjType::Policy, b"{}".to_vec(), &[&a, &b]).expect("sign");
    assert_eq!(check_root_signed(&c2, &root), Ok(()));
}

#[test]
fn signature_over_other_bytes_fails() {
    let a = SigningKey::generate().expect("a");
    let mut c = sign_container(ObjType::Policy, b"{}".to_vec(), &[&a]).expect("sign");
    c.body = b"{ }".to_vec();
    assert_eq!(count_signers(&c, &[a.public_key()]), 0);
}
