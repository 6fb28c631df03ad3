//! Working hours (rule 6): off duty, a work phone reminds the advocate to turn it off and
//! screens survivor calls as the policy says. Hours are local to the phone.

use super::Desk;
use crate::actions::{ActionKind, NotifyKind};
use crate::event::Outcome;
use crate::policy::{Day, Mode, Policy};
use chrono::{DateTime, Datelike, Duration, FixedOffset, TimeZone, Utc};

/// Whether `now` falls in the policy's working hours.
pub(crate) fn in_working_hours(p: &Policy, offset: FixedOffset, now: DateTime<Utc>) -> bool {
    let od = &p.off_duty;
    let local = now.with_timezone(&offset);
    od.days.contains(&Day::from_weekday(local.weekday())) && od.start.0 <= local.time() && local.time() < od.end.0
}

/// The latest end of working hours at or before `now`.
fn last_work_end(p: &Policy, offset: FixedOffset, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    duty_boundaries(p, offset, now).filter(|(t, is_end)| *is_end && *t <= now).map(|(t, _)| t).max()
}

/// Every start and end of working hours (with `true` for an end) from eight days before
/// `now` to eight days after, in UTC.
fn duty_boundaries(
    p: &Policy,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> impl Iterator<Item = (DateTime<Utc>, bool)> + '_ {
    let od = &p.off_duty;
    let today = now.with_timezone(&offset).date_naive();
    (-8..=8i64)
        .map(move |d| today + Duration::days(d))
        .filter(move |date| od.days.contains(&Day::from_weekday(date.weekday())))
        .flat_map(move |date| {
            [(od.start.0, false), (od.end.0, true)].into_iter().filter_map(move |(t, is_end)| {
                offset.from_local_datetime(&date.and_time(t)).single().map(|x| (x.with_timezone(&Utc), is_end))
            })
        })
}

/// On a tick: once after each end of working hours, remind the advocate to turn the phone off.
pub(crate) fn remind_off_duty(d: &mut Desk<'_>, out: &mut Outcome) {
    let p = d.policy;
    if p.mode == Mode::Work
        && p.off_duty.enabled
        && p.off_duty.remind_power_off
        && !in_working_hours(p, d.offset, d.now)
    {
        if let Some(end) = last_work_end(p, d.offset, d.now) {
            if d.last_off_duty_reminder.is_none_or(|r| r < end) {
                *d.last_off_duty_reminder = Some(d.now);
                d.act(out, ActionKind::Notify { kind: NotifyKind::OffDutyPowerOff });
            }
        }
    }
}
