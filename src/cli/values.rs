//! Flag values that need more than a word or a number: the refresh rate
//! (clamped with a warning) and the exporter's address.

use std::net::{Ipv4Addr, SocketAddr};

use super::{REFRESH_MAX, REFRESH_MIN};

/// `[HOST]:PORT` (or a bare port): a missing host is 127.0.0.1, never every
/// interface; `localhost` is 127.0.0.1; otherwise an IP address.
pub fn serve_addr(v: &str) -> Option<SocketAddr> {
    let v = v.trim();
    if let Ok(port) = v.trim_start_matches(':').parse::<u16>() {
        return Some(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    if let Some(port) = v.strip_prefix("localhost:") {
        return Some(SocketAddr::from((Ipv4Addr::LOCALHOST, port.parse().ok()?)));
    }
    v.parse().ok()
}
/// A rate outside the band is clamped into it (with a warning), as the
/// reference documents; something that is not a number is an error.
pub fn refresh_rate(v: &str) -> Result<(f64, Option<String>), String> {
    let hz: f64 = v
        .trim()
        .parse()
        .ok()
        .filter(|h: &f64| !h.is_nan())
        .ok_or("expected a number of Hz (0.5..10)")?;
    let clamped = hz.clamp(REFRESH_MIN, REFRESH_MAX);
    let warning = (clamped != hz).then(|| {
        format!(
            "--refresh-rate '{}' is outside {REFRESH_MIN}..{REFRESH_MAX} Hz; using {clamped}",
            crate::text::in_message(v)
        )
    });
    Ok((clamped, warning))
}

/// `--user NAME|UID`: the uid, and the name to show (the name given, or
/// the passwd entry's for a uid; a uid with no entry is shown as itself).
pub fn user(v: &str) -> Result<(u32, String), String> {
    if let Ok(uid) = v.parse::<u32>() {
        return Ok((uid, crate::source::path::user_name(uid).unwrap_or_else(|| uid.to_string())));
    }
    match crate::source::path::user_id(v) {
        Some(uid) => Ok((uid, v.to_string())),
        None => Err("no such user (a user name, or a uid)".into()),
    }
}

/// `-o/--columns LIST`: column names (headers as shown, or sort keys and
/// their aliases), comma-separated, in the order to print them.
pub fn columns(v: &str) -> Result<Vec<crate::model::column::Column>, String> {
    use crate::model::column::Column;
    let names = || Column::ALL.map(Column::header).join(", ");
    let picked: Result<Vec<Column>, String> = v
        .split(',')
        .map(str::trim)
        .map(|n| Column::from_name(n).ok_or_else(|| format!("no column '{}': expected names from {}", crate::text::in_message(n), names())))
        .collect();
    picked.and_then(|p| if p.is_empty() { Err(format!("expected names from {}", names())) } else { Ok(p) })
}
