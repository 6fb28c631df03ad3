//! Phone numbers, as people and phones write them, normalise to the E.164 number Google's
//! libphonenumber gives, on the registration path and the lookup path alike (issue 15). The
//! differential test (tests/numbers/, scripts/test.d/15-numbers.sh) covers every region; these
//! are the cases a reader checks by eye. Expected values are libphonenumber 9.0.33's.

use quietline_core::numbers::{classify, classify_for_lookup, normalise, Classified, NumberError, Region};
use quietline_core::{Agent, AgentConfig, Event, FileKeyProtector, FixedClock, Line, Policy, Verdict};
use std::sync::Arc;

fn region(code: &str) -> Region {
    Region::parse(code).expect("region")
}

/// Both paths give `want` for `input` dialled on a phone in `device`.
fn both(device: &str, input: &str, want: &str) {
    let r = region(device);
    assert_eq!(normalise(input, r).map(|n| n.expose().to_string()), Ok(want.to_string()), "{device} {input:?}");
    match classify_for_lookup(input, r) {
        Ok(Classified::Number(n)) => assert_eq!(n.expose(), want, "lookup {device} {input:?}"),
        other => panic!("lookup {device} {input:?}: {other:?}"),
    }
}

fn special(device: &str, input: &str) {
    let r = region(device);
    assert_eq!(classify(input, r), Ok(Classified::Special), "{device} {input:?}");
    assert_eq!(classify_for_lookup(input, r), Ok(Classified::Special), "lookup {device} {input:?}");
    assert_eq!(normalise(input, r), Err(NumberError::Special), "{device} {input:?}");
}

#[test]
fn us_phone_dialling_germany_with_011_keeps_every_digit() {
    both("US", "011 49 1512 3456789", "+4915123456789");
    both("US", "+49 1512 3456789", "+4915123456789");
    both("DE", "0151 23456789", "+4915123456789");
}

#[test]
fn idd_forms_of_uk_france_brazil_netherlands_south_africa_are_valid_on_a_us_phone() {
    // National numbers that start with 1, the North American trunk prefix.
    both("US", "011 44 121 496 0000", "+441214960000");
    both("US", "011 33 1 23 45 67 89", "+33123456789");
    both("US", "011 55 11 91234 5678", "+5511912345678");
    both("US", "011 31 10 123 4567", "+31101234567");
    both("US", "011 27 11 123 4567", "+27111234567");
}

#[test]
fn each_regions_international_prefix_is_understood() {
    for (device, idd) in [("US", "011"), ("CA", "011"), ("GB", "00"), ("DE", "00"), ("AU", "0011"), ("JP", "010")] {
        both(device, &format!("{idd} 1 207 555 0100"), "+12075550100");
    }
    both("KR", "001 1 207 555 0100", "+12075550100");
    both("SG", "000 1 207 555 0100", "+12075550100");
    both("RU", "8 10 49 1512 3456789", "+4915123456789");
    both("RU", "8~10 49 1512 3456789", "+4915123456789");
    both("IL", "00 44 7400 123456", "+447400123456");
    both("AU", "0011 44 7400 123456", "+447400123456");
}

#[test]
fn national_forms_with_trunk_prefixes_normalise_alike() {
    both("GB", "07400 123456", "+447400123456");
    both("GB", "+44 (0)7400 123456", "+447400123456");
    both("RU", "8 (912) 345-67-89", "+79123456789");
    both("HU", "06 20 123 4567", "+36201234567");
    both("FR", "06 12 34 56 78", "+33612345678");
    both("NL", "06 12345678", "+31612345678");
    both("ZA", "082 123 4567", "+27821234567");
    both("IN", "098765 43210", "+919876543210");
    // Italy keeps its leading zero; Brazil's carrier code and Argentina's mobile 15 are rules of
    // the metadata (nationalPrefixForParsing and its transform).
    both("IT", "06 1234 5678", "+390612345678");
    both("BR", "0 21 11 91234 5678", "+5511912345678");
    both("AR", "011 15 2345-6789", "+5491123456789");
    both("US", "1 (207) 555-0100", "+12075550100");
}

#[test]
fn punctuation_full_width_digits_letters_and_extensions_do_not_change_the_number() {
    for s in [
        "207.555.0100",
        "207-555-0100",
        "(207) 555-0100",
        "207 555 0100",
        "２０７−５５５−０１００",
        "（２０７）５５５－０１００",
        "+1 207 555 0100 ext. 123",
        "207-555-0100 x45",
        "tel:+1-207-555-0100;ext=12",
        "Tel: +1 207 555 0100",
        "+1\u{a0}207\u{a0}555\u{a0}0100",
    ] {
        both("US", s, "+12075550100");
    }
    both("US", "1-800-FLOWERS", "+18003569377");
    both("JP", "０９０−１２３４−５６７８", "+819012345678");
}

#[test]
fn registration_and_lookup_agree_whenever_registration_accepts() {
    let inputs = [
        ("US", "011 49 1512 3456789"),
        ("US", "+44 (0)20 7946 0958"),
        ("GB", "020 7946 0958"),
        ("DE", "+49 (0)30 123456"),
        ("BR", "(11) 91234-5678"),
        ("SH", "22158"),
        ("AR", "0 11 15 2345 6789"),
    ];
    for (device, s) in inputs {
        let r = region(device);
        let full = classify(s, r).expect(s);
        assert_eq!(classify_for_lookup(s, r), Ok(full), "{device} {s}");
    }
}

#[test]
fn short_subscriber_numbers_are_numbers_not_short_codes() {
    // Saint Helena, Falklands, Niue, Tokelau, Cook Islands, Tristan da Cunha, Ascension,
    // New Caledonia, Tuvalu: four- to six-digit numbers are the whole number there.
    for (device, national, e164) in [
        ("SH", "22158", "+29022158"),
        ("FK", "31234", "+50031234"),
        ("NU", "7012", "+6837012"),
        ("TK", "3101", "+6903101"),
        ("CK", "21234", "+68221234"),
        ("TA", "8999", "+2908999"),
        ("AC", "62889", "+24762889"),
        ("NC", "201234", "+687201234"),
        ("TV", "20123", "+68820123"),
    ] {
        both(device, national, e164);
        both("US", &format!("011 {} {national}", &e164[1..e164.len() - national.len()]), e164);
    }
}

#[test]
fn emergency_numbers_and_short_codes_stay_special_where_numbers_are_short() {
    for (device, s) in [
        ("SH", "999"),
        ("SH", "911"),
        ("FK", "999"),
        ("NU", "999"),
        ("CK", "998"),
        ("NC", "17"),
        ("TV", "911"),
        ("US", "911"),
        ("US", "311"),
        ("US", "*611"),
        ("US", "85511"),
        ("GB", "116 123"),
        ("DE", "110"),
        ("ZA", "10111"),
        ("ZW", "994"),
        ("US", "+1 911"),
        ("GB", "+44 999"),
    ] {
        special(device, s);
    }
}

#[test]
fn an_invalid_number_is_refused_for_registration_but_looked_up_as_libphonenumber_reads_it() {
    let us = region("US");
    assert_eq!(classify("+44 7400 12345", us), Err(NumberError::Invalid));
    match classify_for_lookup("+44 7400 12345", us) {
        Ok(Classified::Number(n)) => assert_eq!(n.expose(), "+44740012345"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_never_carry_the_number() {
    let us = region("US");
    for s in ["+999 1234 5678 9999", "+44 7400 12345", "hello 2075550199", "+0 207 555 0199", "tel:;phone-context=x"] {
        if let Err(e) = classify(s, us) {
            let text = format!("{e} {e:?}");
            assert!(!text.chars().any(|c| c.is_ascii_digit()), "{text}");
        }
    }
}

#[test]
fn survivor_registered_in_e164_is_recognised_when_dialled_with_the_international_prefix() {
    let dir = std::env::temp_dir().join(format!("ql-numbers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let protector = Arc::new(FileKeyProtector::new(dir.join("kek")));
    let clock = Arc::new(FixedClock::at("2026-11-23T15:00:00Z", 0).expect("clock"));
    let policy = Policy::from_json(r#"{"schema":1,"mode":"byod"}"#).expect("policy");
    let mut agent = Agent::create(AgentConfig::new(&dir, "US"), protector, clock, policy).expect("agent");
    agent.register_survivor("+49 1512 3456789", None).expect("register");
    agent.register_survivor("+44 121 496 0000", None).expect("register");
    assert!(agent.is_survivor("011 49 1512 3456789").expect("lookup"));
    assert!(agent.is_survivor("011 44 121 496 0000").expect("lookup"));
    assert!(!agent.is_survivor("011 49 5123 456789").expect("lookup"));
    let out = agent
        .handle(Event::OutgoingCall { number: "011 49 1512 3456789".into(), line: Line::Direct, confirmed: true })
        .expect("call");
    assert_eq!(out.verdict, Verdict::Dial { dial_string: "*670114915123456789".into(), via_voip: false });
    let _ = std::fs::remove_dir_all(&dir);
}
