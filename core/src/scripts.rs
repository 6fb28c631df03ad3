//! What the app shows the advocate in words: the vague voicemail script, the hotline's practice
//! on a dropped call, and the survivor's agreed alternative when their phone rejects hidden
//! numbers. The words follow the field's guidance and name neither the organisation nor a number.

use crate::policy::{Day, Mode, Policy};

/// The hotline's practice when a call from a caller with no contact plan drops.
pub const HOTLINE_DROPPED_CALL: &str = "If the call drops, do not call back: you do not know who \
    may answer. Tell callers early in the call that you cannot call them back, and that they can \
    call the hotline again at any time.";

/// A voicemail that says who is calling but not from where or why. It names the working hours
/// when the policy sets them, and never the organisation or a phone number.
pub fn vague_voicemail(policy: &Policy) -> String {
    let od = &policy.off_duty;
    let when = if policy.mode == Mode::Work && od.enabled {
        format!(
            " You can call me back between {} and {}, {}.",
            od.start.0.format("%H:%M"),
            od.end.0.format("%H:%M"),
            days(&od.days)
        )
    } else {
        String::new()
    };
    format!("Hello, this is [your first name]. I'm returning your call.{when}")
}

fn days(days: &[Day]) -> String {
    let names = |d: &Day| match d {
        Day::Mon => "Monday",
        Day::Tue => "Tuesday",
        Day::Wed => "Wednesday",
        Day::Thu => "Thursday",
        Day::Fri => "Friday",
        Day::Sat => "Saturday",
        Day::Sun => "Sunday",
    };
    let weekdays = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];
    if [Day::Sat, Day::Sun].iter().chain(&weekdays).all(|d| days.contains(d)) {
        return "any day".into();
    }
    if days.len() == 5 && weekdays.iter().all(|d| days.contains(d)) {
        return "Monday to Friday".into();
    }
    let all: Vec<&str> = days.iter().map(names).collect();
    match all.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => all.join(""),
    }
}
