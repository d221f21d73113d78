//! The small formatters every piece of the frame shares: uptimes, bytes,
//! rates, optional figures, flags, bars and sparklines.

use super::line::Paint;

/// `Hh MMm` under a day, `Dd Hh` above, as the reference prints uptimes.
pub fn fmt_uptime(secs: f64) -> String {
    let t = if secs.is_finite() { secs.max(0.0) as u64 } else { 0 };
    let (d, h, m) = (t / 86400, t % 86400 / 3600, t % 3600 / 60);
    if d > 0 { format!("{d}d {h}h") } else { format!("{h}h {m:02}m") }
}

/// A session's length in its two largest units, as people say it:
/// `42s`, `2m 02s`, `1h 02m`, `1d 1h`.
pub fn fmt_duration(secs: f64) -> String {
    let t = if secs.is_finite() { secs.max(0.0) as u64 } else { 0 };
    match t {
        0..60 => format!("{t}s"),
        60..3600 => format!("{}m {:02}s", t / 60, t % 60),
        _ => fmt_uptime(secs),
    }
}

/// Bytes as decimal gigabytes with one decimal, as the reference does.
pub fn fmt_gb(bytes: Option<f64>) -> String {
    match bytes {
        Some(b) if b.is_finite() => format!("{:.1}G", b / 1e9),
        _ => "n/a".into(),
    }
}

/// A figure with `decimals` decimals and its unit, or `n/a` when there is
/// none or it is not a number.
pub fn fmt_opt(v: Option<f64>, decimals: usize, unit: &str) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.decimals$}{unit}"),
        _ => "n/a".into(),
    }
}

/// Bytes per second in the nearest binary unit.
pub fn fmt_rate(bps: Option<f64>) -> String {
    let Some(mut v) = bps.filter(|v| v.is_finite()) else { return "n/a".into() };
    let mut unit = "B/s";
    for bigger in ["KiB/s", "MiB/s", "GiB/s"] {
        if v.abs() < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = bigger;
    }
    format!("{v:.1} {unit}")
}

/// A horizontal bar of `width` cells for `frac` in 0..=1.
pub fn bar(frac: f64, width: usize, paint: Paint) -> String {
    let f = if frac.is_finite() { frac.clamp(0.0, 1.0) } else { 0.0 };
    let filled = (f * width as f64).round() as usize;
    let (full, empty) = if paint.unicode() { ("█", "░") } else { ("#", ".") };
    full.repeat(filled) + &empty.repeat(width - filled)
}

/// Nine levels of a cell, empty to full, for sparklines.
pub fn levels(paint: Paint) -> [char; 9] {
    if paint.unicode() {
        [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█']
    } else {
        [' ', '.', '.', '-', '-', '=', '=', '#', '#']
    }
}

/// The most recent `width` values as a `height`-row area chart scaled to
/// `max` (top row first).
pub fn spark(values: &[f64], width: usize, height: usize, max: f64, paint: Paint) -> Vec<String> {
    let eighths = levels(paint);
    let recent = &values[values.len().saturating_sub(width)..];
    (0..height)
        .map(|row| {
            let from_bottom = (height - 1 - row) as f64;
            recent
                .iter()
                .map(|&v| {
                    let v = if v.is_finite() && max > 0.0 { (v / max).clamp(0.0, 1.0) } else { 0.0 };
                    let cell = v * height as f64 - from_bottom;
                    let level = (cell * 8.0).round().clamp(0.0, 8.0) as usize;
                    // Any load at all shows on the bottom row, however small.
                    if level == 0 && from_bottom == 0.0 && v > 0.0 { eighths[1] } else { eighths[level] }
                })
                .collect()
        })
        .collect()
}

/// A count as a whole number, or `n/a` when it is not a number.
pub fn fmt_count(v: f64) -> String {
    if v.is_finite() { format!("{v:.0}") } else { "n/a".into() }
}

/// A flag as the worker lines say it: `yes`, `no`, or `n/a` when unknown.
pub fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "n/a",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::testing::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_uptime(4.02), "0h 00m");
        assert_eq!(fmt_uptime(3725.0), "1h 02m");
        assert_eq!(fmt_uptime(90000.0), "1d 1h");
        for (secs, want) in [(0.0, "0s"), (42.9, "42s"), (122.0, "2m 02s"), (3599.0, "59m 59s"), (3725.0, "1h 02m"), (90000.0, "1d 1h"), (f64::NAN, "0s")] {
            assert_eq!(fmt_duration(secs), want, "{secs}");
        }
        assert_eq!(fmt_gb(Some(25276059648.0)), "25.3G");
        assert_eq!(fmt_gb(None), "n/a");
        assert_eq!(fmt_rate(Some(1536.0)), "1.5 KiB/s");
        assert_eq!(bar(0.5, 4, PLAIN), "██░░");
        assert_eq!(bar(0.5, 4, ASCII), "##..");
        assert_eq!(spark(&[0.0, 50.0, 100.0], 10, 1, 100.0, PLAIN), vec![" ▄█"]);
        assert_eq!(spark(&[0.0, 2.0], 10, 2, 100.0, PLAIN), vec!["  ", " ▁"]);
        assert_eq!(spark(&[100.0, 50.0], 2, 2, 100.0, PLAIN), vec!["█ ", "██"]);
        assert_eq!(spark(&[100.0, 25.0], 1, 2, 100.0, PLAIN), vec![" ", "▄"]);
        assert_eq!(spark(&[0.0, 50.0, 100.0], 10, 1, 100.0, ASCII), vec![" -#"]);
    }
}
