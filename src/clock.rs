//! UTC timestamps for batch output and recordings, and the times a user
//! types to travel in one, without a date crate. Times are milliseconds
//! since the Unix epoch, UTC.

use std::time::{SystemTime, UNIX_EPOCH};

/// `2026-11-28T10:43:52.123Z` for the current time.
pub fn now_iso8601() -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    iso8601(d.as_secs(), d.subsec_millis())
}

/// The current time in ms since the epoch.
pub fn now_ms() -> i64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    d.as_millis() as i64
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's days-from-civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Digits at `s[at..at + n]` as a number.
fn digits(s: &[u8], at: usize, n: usize) -> Option<i64> {
    let d = s.get(at..at + n)?;
    d.iter().all(u8::is_ascii_digit).then(|| d.iter().fold(0, |v, c| v * 10 + i64::from(c - b'0')))
}

/// `HH:MM` or `HH:MM:SS` with an optional `.mmm`: milliseconds into a day.
fn time_of_day(s: &[u8]) -> Option<i64> {
    let (h, m) = (digits(s, 0, 2)?, digits(s, 3, 2)?);
    let mut ms = (h * 60 + m) * 60_000;
    let mut at = 5;
    if s.get(2) != Some(&b':') || h > 23 || m > 59 {
        return None;
    }
    if s.get(5) == Some(&b':') {
        let sec = digits(s, 6, 2).filter(|&v| v <= 60)?;
        ms += sec * 1000;
        at = 8;
        if s.get(8) == Some(&b'.') {
            let frac = &s[9..];
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            // Milliseconds: the first three digits, padded.
            let milli = digits(frac, 0, n.min(3))? * [100, 10, 1][n.min(3) - 1];
            ms += milli;
            at = 9 + n;
        }
    }
    (at == s.len()).then_some(ms)
}

/// A full stamp, `YYYY-MM-DDTHH:MM[:SS[.mmm]]` with an optional `Z` (UTC
/// either way): milliseconds since the epoch.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    let b = b.strip_suffix(b"Z").unwrap_or(b);
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    let (y, mo, d) = (digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400_000 + time_of_day(&b[11..])?)
}

/// A time typed to travel in a recording, against the sample shown now
/// (`now`, ms): a full stamp (`2026-11-28T03:12:05Z`, or a recording's own
/// with milliseconds), a time of day (`03:12`, `03:12:05`: UTC, on `now`'s
/// day), or an offset from `now` (`-10m`, `+30s`, `-2h`, `-1d`).
pub fn parse_when(s: &str, now: i64) -> Option<i64> {
    let t = s.trim();
    if let Some(ms) = parse_iso8601(t) {
        return Some(ms);
    }
    if let Some(ms) = time_of_day(t.trim_end_matches('Z').as_bytes()) {
        return Some(now.div_euclid(86_400_000) * 86_400_000 + ms);
    }
    let (sign, rest) = match t.as_bytes().first()? {
        b'-' => (-1, &t[1..]),
        b'+' => (1, &t[1..]),
        _ => return None,
    };
    let unit = match rest.as_bytes().last()? {
        b's' => 1_000,
        b'm' => 60_000,
        b'h' => 3_600_000,
        b'd' => 86_400_000,
        _ => return None,
    };
    let n: i64 = rest[..rest.len() - 1].parse().ok().filter(|n: &i64| *n >= 0 && *n < 1_000_000)?;
    Some(now + sign * n * unit)
}

/// `HH:MM:SS` of a time in ms, in the local time zone (as top's clock
/// shows it; `localtime_r` reads TZ and /etc/localtime), UTC when it cannot.
pub fn local_hms(ms: i64) -> String {
    let secs = ms.div_euclid(1000) as libc::time_t;
    // SAFETY: tm is plain old data; localtime_r fills it from `secs` and
    // returns null on failure, which is checked.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    match ok {
        true => format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec),
        false => stamp(ms).get(11..19).unwrap_or("").to_string(),
    }
}

/// An age as the title says it: `12s`, `4m`, `3h`, `2d`.
pub fn age(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// A time in ms as the recording's stamp.
pub fn stamp(ms: i64) -> String {
    let ms = ms.max(0);
    iso8601((ms / 1000) as u64, (ms % 1000) as u32)
}

/// ISO-8601 in UTC from Unix seconds (Howard Hinnant's civil-from-days).
pub fn iso8601(secs: u64, millis: u32) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_is_the_inverse_of_printing() {
        for (secs, ms) in [(0u64, 0u32), (951_782_400, 5), (1_795_862_632, 123), (4_102_444_799, 999)] {
            assert_eq!(parse_iso8601(&iso8601(secs, ms)), Some(secs as i64 * 1000 + i64::from(ms)));
        }
        assert_eq!(parse_iso8601("2026-11-28T03:12:05Z"), Some(parse_iso8601("2026-11-28T03:12:05.000Z").unwrap()));
        assert_eq!(parse_iso8601("2026-11-28T03:12"), Some(parse_iso8601("2026-11-28T03:12:00.000Z").unwrap()));
        for bad in ["", "2026-13-01T00:00Z", "2026-11-28", "2026-11-28T25:00", "2026-11-28T03:12:05.Z", "x026-11-28T03:12"] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_typed_to_travel() {
        let now = parse_iso8601("2026-11-28T10:43:52.123Z").unwrap();
        assert_eq!(parse_when("03:12", now), parse_iso8601("2026-11-28T03:12:00Z"));
        assert_eq!(parse_when("03:12:05", now), parse_iso8601("2026-11-28T03:12:05Z"));
        assert_eq!(parse_when("2026-11-27T23:59:59.5Z", now), parse_iso8601("2026-11-27T23:59:59.500Z"));
        assert_eq!(parse_when("-10m", now), Some(now - 600_000));
        assert_eq!(parse_when("+30s", now), Some(now + 30_000));
        assert_eq!(parse_when("-2h", now), Some(now - 7_200_000));
        for bad in ["", "10m", "-x", "-10y", "3:12", "24:00"] {
            assert_eq!(parse_when(bad, now), None, "{bad}");
        }
        assert_eq!(stamp(now), "2026-11-28T10:43:52.123Z");
    }

    #[test]
    fn ages_in_their_largest_unit() {
        for (secs, want) in [(0, "0s"), (59, "59s"), (60, "1m"), (3599, "59m"), (3600, "1h"), (86_399, "23h"), (86_400, "1d")] {
            assert_eq!(age(secs), want);
        }
    }

    #[test]
    fn known_instants() {
        assert_eq!(iso8601(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(iso8601(1_795_862_632, 123), "2026-11-28T10:43:52.123Z");
        assert_eq!(iso8601(4_102_444_799, 999), "2099-12-31T23:59:59.999Z");
    }
}
