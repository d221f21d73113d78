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
