//! The date of each endpoint's WeCom doc page (`doc_updated`, the page's "最后更新" as read):
//! the check that it is a real date, and the list of endpoints whose date is missing or older
//! than a year, which `cargo xtask gen` prints as warnings (issue 19: the spec says what the
//! page says, and a stale reading shows).

use crate::Input;
use crate::spec::SpecFile;

/// Days after which a page read is due for another reading.
pub const STALE_AFTER_DAYS: i64 = 365;

/// Days since 1970-01-01 of a `YYYY-MM-DD` date, or `None` when it is not a real date.
pub fn parse_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One line per endpoint whose `doc_updated` is missing or more than [`STALE_AFTER_DAYS`] before
/// `today` (days since 1970-01-01), in spec order. Files that do not parse are skipped (the
/// generator reports them).
pub fn stale_doc_dates(specs: &[Input<'_>], today: i64) -> Vec<String> {
    let mut out = Vec::new();
    for input in specs {
        let Ok(spec) = toml::from_str::<SpecFile>(input.text) else {
            continue;
        };
        for ep in &spec.endpoint {
            let name = ep.name.get_ref();
            match ep.doc_updated.as_deref().map(|d| (d, parse_date(d))) {
                None => out.push(format!(
                    "{}: endpoint `{name}` has no doc_updated (read {} and record its 最后更新 date)",
                    input.path, ep.doc_url
                )),
                Some((d, Some(days))) if today - days > STALE_AFTER_DAYS => out.push(format!(
                    "{}: endpoint `{name}`: doc page read at its {d} version, more than a year ago (read {} again)",
                    input.path, ep.doc_url
                )),
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked_for_real() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-07-23"), Some(19_927));
        assert_eq!(
            parse_date("2024-02-29").map(|d| d + 1),
            parse_date("2024-03-01")
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024/07/23",
            "24-07-23",
            "2024-7-23",
            "2024-07-3x",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn missing_and_old_dates_are_listed() {
        let text = r#"
[area]
name = "demo"
crate_dir = "crates/demo"
crate_name = "demo"
doc = "Demo."

[[endpoint]]
name = "fresh"
method = "GET"
path = "fresh"
credential = "app"
doc = "Fresh."
doc_url = "https://example.invalid/1"
doc_updated = "2026-06-01"

[[endpoint]]
name = "old"
method = "GET"
path = "old"
credential = "app"
doc = "Old."
doc_url = "https://example.invalid/2"
doc_updated = "2019-06-13"

[[endpoint]]
name = "undated"
method = "GET"
path = "undated"
credential = "app"
doc = "Undated."
doc_url = "https://example.invalid/3"
"#;
        let today = parse_date("2026-12-03").unwrap_or_default();
        let lines = stale_doc_dates(
            &[Input {
                path: "spec/demo.toml",
                text,
            }],
            today,
        );
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("`old`") && lines[0].contains("2019-06-13"));
        assert!(lines[1].contains("`undated`") && lines[1].contains("no doc_updated"));
    }
}
