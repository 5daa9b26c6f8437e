//! `wecom schedule ...`: calendars, schedules (with attendees and repeat rules) and meeting-room
//! bookings of the selected app. An app sees only the calendars and schedules it created.
//!
//! Times are unix seconds or `YYYY-MM-DD HH:MM[:SS]` in Beijing time (UTC+8, WeCom's default
//! time zone), e.g. `--start "2024-05-06 14:00"`.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use wecom::oa::{
    CalendarNew, CalendarShare, MeetingRoom, MeetingRoomBooking, OaExt as _, RepeatType, Schedule,
    ScheduleNew, ScheduleReminders,
};

use super::Ctx;
use crate::error::CliError;
use crate::output::table;

/// `wecom schedule`
#[derive(Debug, Subcommand)]
pub enum ScheduleCmd {
    /// Calendars this app created.
    #[command(subcommand)]
    Calendar(CalendarCmd),
    /// Create a schedule.
    Add(AddArgs),
    /// Show schedules by id.
    Get {
        /// Schedule ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Every schedule of a calendar (all pages).
    List {
        /// The calendar.
        #[arg(long)]
        calendar: String,
    },
    /// Cancel a schedule.
    Delete {
        /// The schedule.
        id: String,
    },
    /// Add attendees to a schedule.
    Invite {
        /// The schedule.
        id: String,
        /// Userids to add.
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Remove attendees from a schedule.
    Uninvite {
        /// The schedule.
        id: String,
        /// Userids to remove.
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Meeting rooms and their bookings.
    #[command(subcommand)]
    Room(RoomCmd),
}

/// `wecom schedule calendar`
#[derive(Debug, Subcommand)]
pub enum CalendarCmd {
    /// Create a calendar owned by the app.
    Add {
        /// Title (1-128 characters).
        #[arg(long)]
        summary: String,
        /// Colour, `#RRGGBB`.
        #[arg(long, default_value = "#0066FF")]
        color: String,
        /// A member notified of the calendar (repeatable).
        #[arg(long = "share")]
        shares: Vec<String>,
        /// An administrator, among the shares (repeatable, at most 3).
        #[arg(long = "admin")]
        admins: Vec<String>,
        /// Make it the app's default calendar.
        #[arg(long)]
        default: bool,
        /// Description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Show calendars by id.
    Get {
        /// Calendar ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Delete a calendar and its schedules.
    Delete {
        /// The calendar.
        id: String,
    },
}

/// How a schedule repeats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Repeat {
    /// Every day.
    Daily,
    /// Every week.
    Weekly,
    /// Every month.
    Monthly,
    /// Every year.
    Yearly,
    /// Monday to Friday.
    Workdays,
}

/// `wecom schedule add`
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Start: unix seconds or `YYYY-MM-DD HH:MM` (Beijing time).
    #[arg(long)]
    start: String,
    /// End: unix seconds or `YYYY-MM-DD HH:MM` (Beijing time).
    #[arg(long)]
    end: String,
    /// Title.
    #[arg(long)]
    summary: Option<String>,
    /// The calendar (default: the app's default calendar).
    #[arg(long)]
    calendar: Option<String>,
    /// An attendee (repeatable).
    #[arg(long = "attendee")]
    attendees: Vec<String>,
    /// Place.
    #[arg(long)]
    location: Option<String>,
    /// Remind this many seconds before the start: 0, 300, 900, 3600 or 86400.
    #[arg(long)]
    remind: Option<u32>,
    /// Repeat rule.
    #[arg(long, value_enum)]
    repeat: Option<Repeat>,
    /// With --repeat: every N days/weeks/months/years (a custom repeat).
    #[arg(long, requires = "repeat")]
    every: Option<u32>,
    /// With --repeat weekly: the weekdays, 1 (Monday) to 7 (repeatable; a custom repeat).
    #[arg(long = "on-weekday", requires = "repeat")]
    weekdays: Vec<u32>,
    /// With --repeat: repeat until this time.
    #[arg(long, requires = "repeat")]
    until: Option<String>,
}

/// `wecom schedule room`
#[derive(Debug, Subcommand)]
pub enum RoomCmd {
    /// Meeting rooms, optionally filtered.
    List {
        /// Only rooms in this city.
        #[arg(long)]
        city: Option<String>,
        /// Only rooms in this building.
        #[arg(long)]
        building: Option<String>,
        /// Only rooms on this floor.
        #[arg(long)]
        floor: Option<String>,
    },
    /// Add a meeting room.
    Add {
        /// Name (at most 30 characters).
        #[arg(long)]
        name: String,
        /// How many people it holds.
        #[arg(long)]
        capacity: u32,
        /// City (with building and floor).
        #[arg(long, requires_all = ["building", "floor"])]
        city: Option<String>,
        /// Building.
        #[arg(long)]
        building: Option<String>,
        /// Floor.
        #[arg(long)]
        floor: Option<String>,
    },
    /// Book a room for a time span (refused when it overlaps another booking).
    Book {
        /// The room.
        room: u32,
        /// Start: unix seconds or `YYYY-MM-DD HH:MM` (Beijing time).
        #[arg(long)]
        start: String,
        /// End.
        #[arg(long)]
        end: String,
        /// Who books it.
        #[arg(long)]
        booker: String,
        /// Subject.
        #[arg(long)]
        subject: Option<String>,
        /// An attendee (repeatable).
        #[arg(long = "attendee")]
        attendees: Vec<String>,
    },
    /// The bookings of one day (default: from now to midnight).
    Bookings {
        /// Only this room.
        #[arg(long)]
        room: Option<u32>,
        /// Window start.
        #[arg(long)]
        start: Option<String>,
        /// Window end (the same day).
        #[arg(long)]
        end: Option<String>,
    },
    /// Cancel a booking.
    Cancel {
        /// The booking.
        booking: String,
        /// Keep its schedule, only free the room.
        #[arg(long)]
        keep_schedule: bool,
    },
}

const UTC8: i64 = 8 * 3600;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix seconds from `1714975200` or `2024-05-06 14:00[:SS]` (Beijing time).
pub fn parse_time(what: &str, s: &str) -> Result<u32, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "{what} {s:?} is not a time: give unix seconds or `YYYY-MM-DD HH:MM` (Beijing time)"
        ))
    };
    let s = s.trim();
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_err(|_| bad());
    }
    let (date, clock) = s.split_once([' ', 'T']).ok_or_else(bad)?;
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let c: Vec<i64> = clock
        .split(':')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let ([y, mo, da], [h, mi, rest @ ..]) = (d.as_slice(), c.as_slice()) else {
        return Err(bad());
    };
    let sec = rest.first().copied().unwrap_or(0);
    if !(1..=12).contains(mo)
        || !(1..=31).contains(da)
        || *h > 23
        || *mi > 59
        || sec > 59
        || rest.len() > 1
    {
        return Err(bad());
    }
    let t = days_from_civil(*y, *mo, *da) * 86_400 + h * 3600 + mi * 60 + sec - UTC8;
    u32::try_from(t).map_err(|_| bad())
}

/// Beijing-time text of unix seconds.
pub fn show_time(t: Option<u32>) -> String {
    let Some(t) = t else {
        return "-".to_owned();
    };
    let local = i64::from(t) + UTC8;
    let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    // civil_from_days
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, CliError> {
    serde_json::to_value(v)
        .map_err(|e| CliError::Failed(format!("cannot encode the result as JSON: {e}")))
}

fn schedules_text(list: &[Schedule]) -> String {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            vec![
                s.schedule_id.clone(),
                show_time(s.start_time),
                show_time(s.end_time),
                s.summary.clone().unwrap_or_default(),
                s.attendees
                    .iter()
                    .map(|a| a.userid.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ]
        })
        .collect();
    table(&["SCHEDULE", "START", "END", "SUMMARY", "ATTENDEES"], &rows)
}

fn reminders(args: &AddArgs) -> Result<Option<ScheduleReminders>, CliError> {
    if args.remind.is_none() && args.repeat.is_none() {
        return Ok(None);
    }
    let mut r = ScheduleReminders::new();
    if let Some(secs) = args.remind {
        r = r.is_remind(true).remind_before_event_secs(secs);
    }
    if let Some(repeat) = args.repeat {
        r = r.is_repeat(true).repeat_type(match repeat {
            Repeat::Daily => RepeatType::Daily,
            Repeat::Weekly => RepeatType::Weekly,
            Repeat::Monthly => RepeatType::Monthly,
            Repeat::Yearly => RepeatType::Yearly,
            Repeat::Workdays => RepeatType::Workdays,
        });
        if args.every.is_some() || !args.weekdays.is_empty() {
            r = r
                .is_custom_repeat(true)
                .repeat_interval(args.every.unwrap_or(1))
                .repeat_day_of_week(args.weekdays.clone());
        }
        if let Some(until) = &args.until {
            r = r.repeat_until(parse_time("--until", until)?);
        }
    }
    Ok(Some(r))
}

pub async fn run(ctx: &Ctx, cmd: ScheduleCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let oa = client.oa();
    match cmd {
        ScheduleCmd::Calendar(CalendarCmd::Add {
            summary,
            color,
            shares,
            admins,
            default,
            description,
        }) => {
            let mut c = CalendarNew::new(summary, color)
                .shares(shares.into_iter().map(CalendarShare::from))
                .admins(admins)
                .set_as_default(default);
            c.description = description;
            let r = oa.calendar_add(c).await?;
            let failed: Vec<String> = r
                .fail_result
                .map(|f| f.shares.into_iter().filter_map(|s| s.userid).collect())
                .unwrap_or_default();
            ctx.out.emit(
                &json!({"cal_id": r.cal_id, "failed_shares": failed}),
                || {
                    let mut t = format!("calendar {}\n", r.cal_id);
                    if !failed.is_empty() {
                        t.push_str(&format!(
                            "not shared with (unknown): {}\n",
                            failed.join(", ")
                        ));
                    }
                    t
                },
            )
        }
        ScheduleCmd::Calendar(CalendarCmd::Get { ids }) => {
            let list = oa.calendar_get(ids).await?.calendar_list;
            ctx.out.emit(&to_json(&list)?, || {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|c| {
                        vec![
                            c.cal_id.clone(),
                            c.summary.clone().unwrap_or_default(),
                            c.color.clone().unwrap_or_default(),
                            c.shares
                                .iter()
                                .map(|s| s.userid.as_str())
                                .collect::<Vec<_>>()
                                .join(","),
                        ]
                    })
                    .collect();
                table(&["CALENDAR", "SUMMARY", "COLOR", "SHARES"], &rows)
            })
        }
        ScheduleCmd::Calendar(CalendarCmd::Delete { id }) => {
            oa.calendar_delete(id.as_str()).await?;
            ctx.out
                .emit(&json!({"deleted": id}), || format!("deleted calendar {id}"))
        }
        ScheduleCmd::Add(args) => {
            let start = parse_time("--start", &args.start)?;
            let end = parse_time("--end", &args.end)?;
            if end < start {
                return Err(CliError::Usage("--end is before --start".into()));
            }
            let mut s = ScheduleNew::new(start, end).attendees(args.attendees.clone());
            s.summary = args.summary.clone();
            s.cal_id = args.calendar.clone();
            s.location = args.location.clone();
            s.reminders = reminders(&args)?;
            let id = oa.schedule_add(s).await?.schedule_id;
            ctx.out
                .emit(&json!({"schedule_id": id}), || format!("schedule {id}"))
        }
        ScheduleCmd::Get { ids } => {
            let list = oa.schedule_get(ids).await?.schedule_list;
            ctx.out.emit(&to_json(&list)?, || schedules_text(&list))
        }
        ScheduleCmd::List { calendar } => {
            let mut all = Vec::new();
            loop {
                let page = oa
                    .schedule_get_by_calendar(calendar.as_str())
                    .offset(u32::try_from(all.len()).unwrap_or(u32::MAX))
                    .limit(1000)
                    .await?
                    .schedule_list;
                let n = page.len();
                all.extend(page);
                // An empty or short page is the end.
                if n < 1000 {
                    break;
                }
            }
            ctx.out.emit(&to_json(&all)?, || schedules_text(&all))
        }
        ScheduleCmd::Delete { id } => {
            oa.schedule_delete(id.as_str()).await?;
            ctx.out.emit(&json!({"deleted": id}), || {
                format!("cancelled schedule {id}")
            })
        }
        ScheduleCmd::Invite { id, users } => {
            oa.schedule_add_attendees(id.as_str(), users.clone())
                .await?;
            ctx.out
                .emit(&json!({"schedule_id": id, "added": users}), || {
                    format!("invited {} to {id}", users.join(", "))
                })
        }
        ScheduleCmd::Uninvite { id, users } => {
            oa.schedule_del_attendees(id.as_str(), users.clone())
                .await?;
            ctx.out
                .emit(&json!({"schedule_id": id, "removed": users}), || {
                    format!("removed {} from {id}", users.join(", "))
                })
        }
        ScheduleCmd::Room(cmd) => room(ctx, &client, cmd).await,
    }
}

fn rooms_text(list: &[MeetingRoom]) -> String {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|r| {
            vec![
                r.meetingroom_id.to_string(),
                r.name.clone().unwrap_or_default(),
                r.capacity.map(|c| c.to_string()).unwrap_or_default(),
                [&r.city, &r.building, &r.floor]
                    .iter()
                    .filter_map(|p| p.as_deref())
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        })
        .collect();
    table(&["ROOM", "NAME", "CAPACITY", "WHERE"], &rows)
}

fn booking_row(room: u32, b: &MeetingRoomBooking) -> Vec<String> {
    vec![
        room.to_string(),
        b.booking_id.clone().unwrap_or_default(),
        show_time(b.start_time),
        show_time(b.end_time),
        b.booker.clone().unwrap_or_default(),
        b.status.map(|s| format!("{s:?}")).unwrap_or_default(),
    ]
}

async fn room(ctx: &Ctx, client: &wecom::Client, cmd: RoomCmd) -> Result<(), CliError> {
    let oa = client.oa();
    match cmd {
        RoomCmd::List {
            city,
            building,
            floor,
        } => {
            let mut call = oa.meetingroom_list();
            if let Some(c) = city {
                call = call.city(c);
            }
            if let Some(b) = building {
                call = call.building(b);
            }
            if let Some(f) = floor {
                call = call.floor(f);
            }
            let list = call.await?.meetingroom_list;
            ctx.out.emit(&to_json(&list)?, || rooms_text(&list))
        }
        RoomCmd::Add {
            name,
            capacity,
            city,
            building,
            floor,
        } => {
            let mut call = oa.meetingroom_add(name, capacity);
            if let (Some(c), Some(b), Some(f)) = (city, building, floor) {
                call = call.city(c).building(b).floor(f);
            }
            let id = call.await?.meetingroom_id;
            ctx.out.emit(&json!({"meetingroom_id": id}), || {
                format!("meeting room {id}")
            })
        }
        RoomCmd::Book {
            room,
            start,
            end,
            booker,
            subject,
            attendees,
        } => {
            let (start, end) = (parse_time("--start", &start)?, parse_time("--end", &end)?);
            let mut call = oa
                .meetingroom_book(room, start, end, booker)
                .attendees(attendees);
            if let Some(s) = subject {
                call = call.subject(s);
            }
            let r = call.await?;
            ctx.out.emit(
                &json!({"booking_id": r.booking_id, "schedule_id": r.schedule_id}),
                || {
                    format!(
                        "booking {} (schedule {})",
                        r.booking_id,
                        r.schedule_id.clone().unwrap_or_default()
                    )
                },
            )
        }
        RoomCmd::Bookings { room, start, end } => {
            let mut call = oa.meetingroom_get_booking_info();
            if let Some(r) = room {
                call = call.meetingroom_id(r);
            }
            if let Some(s) = start {
                call = call.start_time(parse_time("--start", &s)?);
            }
            if let Some(e) = end {
                call = call.end_time(parse_time("--end", &e)?);
            }
            let list = call.await?.booking_list;
            ctx.out.emit(&to_json(&list)?, || {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .flat_map(|r| r.schedule.iter().map(|b| booking_row(r.meetingroom_id, b)))
                    .collect();
                table(
                    &["ROOM", "BOOKING", "START", "END", "BOOKER", "STATUS"],
                    &rows,
                )
            })
        }
        RoomCmd::Cancel {
            booking,
            keep_schedule,
        } => {
            oa.meetingroom_cancel_book(booking.as_str())
                .keep_schedule(keep_schedule)
                .await?;
            ctx.out.emit(&json!({"cancelled": booking}), || {
                format!("cancelled booking {booking}")
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_beijing_time_and_back() {
        assert_eq!(parse_time("t", "1704074400").ok(), Some(1_704_074_400));
        assert_eq!(
            parse_time("t", "2024-01-01 10:00").ok(),
            Some(1_704_074_400)
        );
        assert_eq!(
            parse_time("t", "2024-01-01T10:00:30").ok(),
            Some(1_704_074_430)
        );
        assert_eq!(show_time(Some(1_704_074_400)), "2024-01-01 10:00");
        assert_eq!(show_time(Some(1_709_186_400)), "2024-02-29 14:00");
        assert!(parse_time("t", "2024-13-01 10:00").is_err());
        assert!(parse_time("t", "tomorrow").is_err());
        assert!(parse_time("t", "2024-01-01 10").is_err());
    }
}
