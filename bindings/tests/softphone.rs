//! The calling app across the FFI: the policy's softphone read back, the managed-configuration
//! check with the policy's rules (typed error naming the setting, never a number), the URI.

use quietline_ffi::{check_softphone, softphone_call_uri, ApiError, SoftphoneSettings};

#[test]
fn a_managed_configuration_template_is_held_to_the_policys_rules() {
    let ok = check_softphone("acmevoice://call?to={number}".into(), Some("com.acme.voice".into())).expect("valid");
    assert_eq!(
        ok,
        SoftphoneSettings {
            call_uri: "acmevoice://call?to={number}".into(),
            android_package: Some("com.acme.voice".into())
        }
    );
    assert_eq!(
        softphone_call_uri(ok, "+1 (202) 555-0143".into()).as_deref(),
        Some("acmevoice://call?to=%2B12025550143")
    );
    for (uri, pkg, field) in [
        ("telprompt:{number}", None, "call_uri"),
        ("facetime:{number}", None, "call_uri"),
        ("acmevoice://2025550143", None, "call_uri"),
        ("tel:+12025550143;{number}", None, "call_uri"),
        ("acmevoice:{number}", Some("2025550143"), "android_package"),
    ] {
        match check_softphone(uri.into(), pkg.map(String::from)) {
            Err(ApiError::InvalidInput { reason }) => {
                assert!(reason.starts_with(&format!("{field}: ")), "{uri}: {reason}");
                assert!(!reason.contains("2025550143"), "{reason}");
            }
            other => panic!("{uri}: expected InvalidInput, got {other:?}"),
        }
    }
    // Settings that do not pass the check never produce a URI.
    let bad = SoftphoneSettings { call_uri: "tel:{number}".into(), android_package: None };
    assert_eq!(softphone_call_uri(bad, "+12025550143".into()), None);
}
