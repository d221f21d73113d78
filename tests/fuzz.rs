//! Deterministic mutation fuzzing of the two parsers that see untrusted
//! bytes: the snapshot decoder and the key parser (termion behind its
//! guard). Every input is also read by an independent reference
//! (`util::reference`): what it reads the decoder must read to the same
//! snapshot, what it refuses the decoder must refuse. Every decoded
//! snapshot is also rendered in every output, which must stay free of raw
//! control bytes.
//!
//! `make test` runs a short pass; `make fuzz` a long one:
//!   FUZZ_CASES=N    cases per parser (default 4000)
//!   FUZZ_SEED=S     starting seed (default fixed, so runs repeat)
//! A failing input is written to target/fuzz-failure-*.bin.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use crate::util::Rng;
use crate::util::reference;
use openrtc_top::tui::app::App;
use openrtc_top::tui::frame;
use openrtc_top::decode::decode;
use openrtc_top::view::{Query, order};
use openrtc_top::output::{self, Plain};
use openrtc_top::text::Charset;
use openrtc_top::present::line::Paint;
use openrtc_top::tui::input as keys;

fn env_num(k: &str, default: u64) -> u64 {
    std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn save_failure(kind: &str, input: &[u8]) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("fuzz-failure-{kind}.bin"));
    let _ = std::fs::write(&path, input);
    path.display().to_string()
}

const JSON_TOKENS: &[&[u8]] = &[
    b"{", b"}", b"[", b"]", b"\"", b"\\", b",", b":", b" ", b"\n", b"\0", b"\xff", b"\xc3",
    b"null", b"true", b"NaN", b"Infinity", b"-Infinity", b"-", b"1e+", b"1e999", b"-0", b"99999999999999999999999",
    b"\\u", b"\\ud800", b"\\udc00", b"\\ud83d\\ude00", b"\\u001b", b"\\u009b", b"\\u0000",
    b"\"worker\": ", b"\"sessions\": ", b"\"session_id\": ", b"\"x\": [", b"\"y\": {", b"{\"a\": ",
    b"\"cpu_history\": [", b"\"system\": {", b"\"tenant\": null", b"\"mem_mb\": \"12\"",
    // Look-alikes and width traps: invisible, bidi, separators, tags,
    // variation selectors, regional indicators, unassigned, wide and
    // zero-width by one table and not another.
    b"\\u200b", b"\\u2028", b"\\u2029", b"\\u202e", b"\\u3000", b"\\u00a0", b"\\ufeff", b"\\udb40\\udc41",
    b"\\ufe0f", b"\\ud83c\\uddf2", b"\\u0378", b"\\ue000", b"\xe2\x80\x8b", b"\xf0\x96\xbf\xb0", b"\xe0\xaf\x8d",
    b"\xe1\x9f\x98", b"\xe3\x85\xa4", b"\xf0\x9f\x87\xa9", b"\\\\u{2d}", b"\"-\"", b"\"status\": NaN",
    b"\"session_id\": -Infinity", b"\"pinned\": \"yes\"",
];

const SEEDS: &[&[u8]] = &[
    include_bytes!("fixtures/snapshot-v020.jsonl"),
    include_bytes!("fixtures/snapshot-v020-empty.jsonl"),
    include_bytes!("fixtures/snapshot-v03-list.jsonl"),
    br#"{"worker": {"name": "w\u001b]0;x\u0007", "uptime_s": 1e+16, "failed": 123456789012345678901, "system": {"available": false, "cpu_pct": NaN, "load1": Infinity}, "cpu_history": [1, NaN, -Infinity, "2"]}, "sessions": [{"session_id": "caf\u00e9 \ud83d\ude00\t\u001b[2J", "agent_name": "\u4e2d\u6587", "tenant": "\ud800", "duration_s": -Infinity, "mem_mb": NaN, "peak_mb": 1e300, "cpu_pct": "7.5", "status": "slow", "pinned": 1, "future": {"a": [1, {"b": []}]}}]}"#,
    br#"[[], {}, 1, "x", null, {"session_id": ""}]"#,
    // Rows far smaller than real ones, past the row budget.
    TINY_ROWS,
    // A recorded sample of several workers (`--record`).
    br#"{"time": "2026-11-28T03:12:05.123Z", "workers": [{"label": "w\"1", "socket": "/s/1.sock", "worker": {"name": "a", "max_sessions": 4}, "error": null}, {"label": "b", "socket": "/s/2.sock", "worker": null, "error": "sent nothing"}], "sessions": [{"worker": "w\"1", "session_id": "x", "status": "slow"}, {"worker": "zz", "session_id": "y"}, {"worker": 5, "session_id": "z"}]}"#,
    br#"[{"session_id": "AJ_vic\u200btim", "agent_name": "\u0ba4\u0bae\u0bbf\u0bb4\u0bcd", "tenant": "\ud83c\uddf2\ud83c\uddfd", "status": "sl\u2028ow"}, {"session_id": "AJ_victim", "agent_name": "\u17d8\u17d8", "tenant": "\u3164\ufeff-"}]"#,
    // The edges of the tolerance rules, for the reference to tell apart:
    // duplicates of every type (the last wins, a wrong type unsets), the
    // zeros (the integer -0 is 0, -0.0 stays negative), numeric strings with
    // whitespace, words and look-alikes, surrogates half paired.
    br#"{"worker": {"name": "e", "name": 5, "uptime_s": " 3.5\t", "failed": -0, "started": -0.0, "saved_bytes": "-inf", "active_sessions": "1e999", "max_sessions": 1E-400, "draining": true, "draining": null, "system": {"available": true, "vcpus": "4", "load1": -0, "load5": "nan", "load15": "+Infinity", "net_rate_bps": "0x10", "cpu_pct": "1_0"}, "cpu_history": [-0, -0.0, " 1 ", "+INF", "1_0", 0.1e1, "5."]}, "sessions": [{"session_id": "a", "session_id": null, "duration_s": -0, "mem_mb": -0.0, "peak_mb": "-0", "cpu_pct": "\u00a07\u2028", "status": "idle", "pinned": true, "pinned": 0, "tenant": "t", "tenant": "\ud800\udbff\udfff\udc00"}, {"agent_name": "x", "agent_name": ["y"], "tenant": "u", "tenant": null, "status": 1, "status": "draining", "mem_mb": "-.5e-1", "cpu_pct": ".e1"}]}"#,
    // The last duplicate wins at the top too, whatever its type.
    br#"{"worker": {"name": "first"}, "sessions": [{"session_id": "first"}], "worker": {"name": "second"}, "sessions": {"a": 1}, "x": {"sessions": [1], "worker": {}}, "sessions": [{"session_id": "kept"}, 1], "worker": null, "worker": {"name": "last", "name": null}}"#,
];

/// The seeds, and three built here: exactly at the row budget (1,000 rows
/// in a small payload), nested exactly as deep as allowed (128: the array,
/// the row and 126 objects), a history exactly as long as kept (600).
fn seeds() -> Vec<Vec<u8>> {
    let at_budget = format!("[{}]", vec!["{}"; reference::MIN_ROWS].join(","));
    let k = reference::MAX_DEPTH - 2;
    let deep = format!(r#"[{{"session_id": "deep", "x": {}1{}}}]"#, r#"{"a": "#.repeat(k), "}".repeat(k));
    let history: Vec<String> = (0..reference::HISTORY).map(|i| (i % 10).to_string()).collect();
    let long_history = format!(r#"{{"worker": {{"name": "h", "cpu_history": [{}]}}, "sessions": []}}"#, history.join(", "));
    SEEDS.iter().map(|s| s.to_vec()).chain([at_budget, deep, long_history].map(String::into_bytes)).collect()
}

/// 1,200 `{}`, past the 1,000 rows any payload may hold however small.
const TINY_ROWS: &[u8] = const {
    const N: usize = 1200;
    const LEN: usize = 2 + N * 3 - 1;
    const BYTES: [u8; LEN] = {
        let mut b = [b','; LEN];
        b[0] = b'[';
        b[LEN - 1] = b']';
        let mut i = 0;
        while i < N {
            b[1 + i * 3] = b'{';
            b[2 + i * 3] = b'}';
            i += 1;
        }
        b
    };
    &BYTES
};

/// Valid values of every type, for swapping into a field (type confusion).
const VALUES: &[&[u8]] = &[
    b"null", b"true", b"0", b"-1.5e-3", b"NaN", b"-Infinity", b"1e+308", b"\"\"", b"\"x y\"",
    b"\"\\u001b[31m\"", b"\"\\ud83d\\ude00\"", b"\"\\ud800\"", b"\"12.5\"", b"[]", b"{}", b"[1, {\"a\": [null]}]",
    b"{\"session_id\": \"nested\"}", b"[{\"session_id\": \"r\", \"status\": \"slow\"}]",
];

/// The end of the JSON value starting at `i` (strings and brackets matched).
fn value_end(v: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    let mut in_str = false;
    while i < v.len() {
        let c = v[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => {
                    in_str = false;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth == 0 => return i,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                b',' if depth == 0 => return i,
                _ => {}
            }
        }
        i += 1;
    }
    v.len()
}

fn mutate(rng: &mut Rng, base: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(v.len() + 1);
        match rng.below(12) {
            8..=11 => {
                // Swap one field's value for a valid value of any type.
                let colons: Vec<usize> = v.windows(2).enumerate().filter(|(_, w)| w == b": ").map(|(i, _)| i + 2).collect();
                if let Some(&start) = colons.get(rng.below(colons.len())) {
                    let end = value_end(&v, start);
                    v.splice(start..end, VALUES[rng.below(VALUES.len())].iter().copied());
                }
            }
            0 => {
                let t = JSON_TOKENS[rng.below(JSON_TOKENS.len())];
                v.splice(at..at, t.iter().copied());
            }
            1 if at < v.len() => {
                let n = 1 + rng.below(8).min(v.len() - at - 1);
                v.drain(at..at + n);
            }
            2 => v.truncate(at),
            3 if at < v.len() => v[at] ^= 1 << rng.below(8),
            4 if at < v.len() => v[at] = rng.next() as u8,
            5 => {
                // Splice: a prefix of one input, the rest of another.
                let cut = rng.below(other.len() + 1);
                v.truncate(at);
                v.extend_from_slice(&other[cut..]);
            }
            6 => {
                let t = [b"[".as_slice(), b"{\"a\": ", b"[{\"x\": "][rng.below(3)];
                let n = 1 + rng.below(300);
                let rep: Vec<u8> = t.iter().copied().cycle().take(t.len() * n).collect();
                v.splice(at..at, rep);
            }
            _ => {
                // Duplicate a slice (repeated rows, keys, escapes).
                let end = (at + rng.below(64)).min(v.len());
                let chunk = v[at..end].to_vec();
                v.splice(end..end, chunk);
            }
        }
    }
    v
}

/// Characters that must never appear raw in any output: controls, and the
/// line and paragraph separators and bidi controls (a reader's idea of a
/// line, or of the order of what follows).
fn raw_unsafe(c: char, allowed: &[char]) -> bool {
    !allowed.contains(&c) && openrtc_top::text::is_unsafe(c)
}

/// Everything a decoded snapshot flows into, for a UTF-8 and an ASCII
/// reader, with the control-byte check (and ASCII-only for the latter).
fn render_everything(snap: openrtc_top::model::Snapshot) -> Result<(), String> {
    for charset in [Charset::Utf8, Charset::Ascii] {
        render_for(snap.clone(), charset)?;
    }
    Ok(())
}

fn render_for(snap: openrtc_top::model::Snapshot, charset: Charset) -> Result<(), String> {
    let pool = openrtc_top::model::Pool::single(snap.clone(), "w.sock".into());
    let ord = order(&pool, &Query::default(), &[]);
    let plain = Plain { header: true, stamp: Some("T"), charset, sample: false, columns: None };
    let ascii = charset == Charset::Ascii;
    let check = |what: &str, text: &str, allowed: &[char]| -> Result<(), String> {
        if let Some(c) = text.chars().find(|&c| raw_unsafe(c, allowed)) {
            return Err(format!("raw {c:?} in {what}: {text:?}"));
        }
        if ascii && !text.is_ascii() {
            return Err(format!("non-ASCII {what} for an ASCII reader: {text:?}"));
        }
        Ok(())
    };
    let mut buf = Vec::new();
    output::table(&mut buf, &pool, &ord, plain).unwrap();
    let table = String::from_utf8(buf).map_err(|e| format!("table not UTF-8: {e}"))?;
    check("table", &table, &['\n'])?;
    let mut buf = Vec::new();
    output::tsv(&mut buf, &pool, &ord, plain).unwrap();
    let tsv = String::from_utf8(buf).map_err(|e| format!("tsv not UTF-8: {e}"))?;
    check("tsv", &tsv, &['\n', '\t'])?;
    if tsv.lines().count() != ord.len() + 1 {
        return Err(format!("tsv is not one line per row: {tsv:?}"));
    }
    let mut buf = Vec::new();
    output::json(&mut buf, &pool, &ord, plain).unwrap();
    let json = String::from_utf8(buf).map_err(|e| format!("json not UTF-8: {e}"))?;
    check("json", &json, &['\n'])?;
    let again = decode(json.trim_end().as_bytes()).map_err(|e| format!("our json does not read back: {e}"))?;
    if again.sessions.len() != ord.len() {
        return Err("json lost rows".into());
    }
    let mut app = App::new(Query::default(), charset);
    app.set_snapshot(snap, std::time::Instant::now());
    // Every view of it: table, detail, groups, help.
    for keys in [&b""[..], b"\n", b"g", b"G", b"?", b"p/a"] {
        for &k in keys {
            app.key(termion::event::Key::Char(k as char));
        }
        for (w, h) in [(80, 24), (40, 10), (7, 3)] {
            app.settle();
            app.fit(frame::plan(&app, h).page);
            for line in frame::live_frame(&app, w, h, Paint::live(true, charset)) {
                frame_line_ok(&line, w)?;
                check("frame", &line, &['\x1b'])?;
            }
        }
        app.key(termion::event::Key::Esc);
        app.key(termion::event::Key::Esc);
    }
    Ok(())
}

/// A frame line: only our own CSI sequences (SGR `m`, and the CHA `G` and
/// ECH `X` of placed cells), no other controls, fits.
fn frame_line_ok(line: &str, w: usize) -> Result<(), String> {
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() != Some('[') {
                return Err(format!("foreign escape in frame: {line:?}"));
            }
            for c in chars.by_ref() {
                if matches!(c, 'm' | 'G' | 'X') {
                    break;
                }
                if !c.is_ascii_digit() && c != ';' {
                    return Err(format!("non-SGR escape in frame: {line:?}"));
                }
            }
        } else if c.is_control() {
            return Err(format!("raw control in frame: {line:?}"));
        }
    }
    if openrtc_top::tui::screen::visible_width(line) > w {
        return Err(format!("frame line wider than {w}: {line:?}"));
    }
    Ok(())
}

#[test]
fn fuzz_the_snapshot_decoder() {
    let cases = env_num("FUZZ_CASES", 4000);
    let mut rng = Rng(env_num("FUZZ_SEED", 0x0123_4567));
    let seeds = seeds();
    let start = Instant::now();
    let (mut decoded, mut refused, mut big) = (0u64, 0u64, 0u64);
    for n in 0..cases {
        let base = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, base, other);
        let t0 = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            // Every input is also read as a recorded sample (`--replay`).
            let _ = openrtc_top::source::sample::sample(&input);
            let got = decode(&input);
            agree(&reference::expect(&input), &got)?;
            match got {
                // The rows of the seeds at the row budget are empty objects:
                // rendering a thousand of them would add time, not cases.
                Ok(snap) if snap.sessions.len() > 100 => Ok(Some(false)),
                Ok(snap) => render_everything(snap).map(|()| Some(true)),
                Err(_) => Ok(None),
            }
        }));
        let took = t0.elapsed();
        match outcome {
            Ok(Ok(Some(rendered))) => {
                decoded += 1;
                big += u64::from(!rendered);
            }
            Ok(Ok(None)) => refused += 1,
            Ok(Err(why)) => panic!("case {n}: {why}\ninput saved to {}", save_failure("decode", &input)),
            Err(_) => panic!("case {n}: panic; input saved to {}", save_failure("decode", &input)),
        }
        assert!(took < Duration::from_secs(2), "case {n} took {took:?}; input saved to {}", save_failure("slow", &input));
    }
    println!(
        "decoder: {cases} cases ({decoded} read by the reference and decoded alike, then rendered but {big} of over 100 rows; {refused} refused by both) in {:.1?}",
        start.elapsed()
    );
    assert!(decoded >= cases / 10 && refused >= cases / 10, "mutations should hit both sides, each a tenth of the cases at least: {decoded}/{refused}");
}

/// The reference's verdict and the decoder's agree: both read the input,
/// to the same snapshot, or both refuse it.
fn agree(want: &Result<reference::Snapshot, String>, got: &Result<openrtc_top::model::Snapshot, openrtc_top::decode::DecodeError>) -> Result<(), String> {
    match (want, got) {
        (Ok(w), Ok(g)) => reference::compare(w, g).map_err(|d| format!("the decoder and the reference differ: {d}\nreference: {}\ndecoder: {}", brief(w), brief(g))),
        (Ok(w), Err(e)) => Err(format!("the decoder refused what the reference reads: {e}\nreference: {}", brief(w))),
        (Err(why), Ok(g)) => Err(format!("the decoder read what the reference refuses ({why})\ndecoder: {}", brief(g))),
        (Err(_), Err(_)) => Ok(()),
    }
}

/// A result's `Debug`, cut short (a payload may hold a thousand rows).
fn brief(v: &dyn std::fmt::Debug) -> String {
    let s = format!("{v:?}");
    match s.char_indices().nth(1500) {
        Some((i, _)) => format!("{}... ({} bytes)", &s[..i], s.len()),
        None => s,
    }
}

#[test]
fn fuzz_the_key_parser() {
    // Ctrl-Z (0x1a) is left out: it suspends, which the app reports and
    // the loop carries out; the paste markers' bytes are in.
    const ALPHABET: &[u8] = b"\x1b\x1b\x1b[[[O<M~;;0123456789ABCDHFZPmqsfr\x03\x7f\x00\xc3\xa9\xff\xe4\xb8/\r";
    const PIECES: &[&[u8]] = &[b"\x1b[200~", b"\x1b[201~", b"\x1b[20", b"1~"];
    let cases = env_num("FUZZ_CASES", 4000) * 4;
    let mut rng = Rng(env_num("FUZZ_SEED", 0x0123_4567) ^ 0xFEED);
    let snap = decode(include_bytes!("fixtures/snapshot-v020.jsonl").trim_ascii_end()).unwrap();
    let mut app = App::new(Query::default(), Charset::Utf8);
    app.set_snapshot(snap, std::time::Instant::now());
    let mut total_keys = 0usize;
    let start = Instant::now();
    for n in 0..cases {
        let len = 1 + rng.below(24);
        let mut input: Vec<u8> = Vec::new();
        while input.len() < len {
            match rng.below(10) {
                0 => input.extend_from_slice(PIECES[rng.below(PIECES.len())]),
                1..=2 => input.push(rng.next() as u8),
                _ => input.push(ALPHABET[rng.below(ALPHABET.len())]),
            }
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let ks = keys::parse(&input);
            let _ = keys::incomplete(&input);
            for k in &ks {
                app.key(*k);
                app.fit(7);
            }
            // The same bytes as reads (split anywhere), pastes included.
            let cut = rng.below(input.len() + 1);
            let mut reader = keys::Reader::default();
            let events: Vec<keys::Event> = reader.feed(&input[..cut]).into_iter().chain(reader.feed(&input[cut..])).collect();
            for e in &events {
                match e {
                    keys::Event::Key(k) => app.key(*k),
                    keys::Event::Paste(p) => app.paste(p),
                };
                app.settle();
                app.fit(7);
            }
            ks.len() + events.len()
        }));
        match outcome {
            Ok(k) => total_keys += k,
            Err(_) => panic!("case {n}: key parser panicked; input saved to {}", save_failure("keys", &input)),
        }
    }
    println!("keys: {cases} inputs, {total_keys} keys, in {:.1?}", start.elapsed());
}

#[test]
fn the_seeds_built_here_are_at_the_edges() {
    let built = &seeds()[SEEDS.len()..];
    assert_eq!(reference::expect(&built[0]).unwrap().rows.len(), reference::MIN_ROWS);
    let one_more = [&b"[{},"[..], &built[0][1..]].concat();
    assert!(reference::expect(&one_more).is_err() && reference::expect(TINY_ROWS).is_err());
    assert_eq!(reference::expect(&built[1]).expect("128 deep is read").rows[0].session_id, "deep");
    let deeper = String::from_utf8(built[1].clone()).unwrap().replace(": 1}", ": []}");
    assert!(reference::expect(deeper.as_bytes()).is_err(), "129 deep is refused");
    let h = reference::expect(&built[2]).unwrap().worker.unwrap().cpu_history;
    assert_eq!((h.len(), h[0], h[reference::HISTORY - 1]), (reference::HISTORY, 0.0, 9.0));
}

/// Inputs the mutations seldom make, through the same comparison: keys
/// written with escapes, whitespace around a document and inside numeric
/// strings, numbers at the ends of the range, duplicates of other types,
/// integers longer than any float.
#[test]
fn hand_picked_inputs_agree_with_the_reference() {
    let big_int = format!("[{{\"mem_mb\": 1{}}}]", "0".repeat(400));
    let long_int = format!("[{{\"mem_mb\": {}}}]", "7".repeat(5000));
    let probes: Vec<Vec<u8>> = [
        r#"{"sessi\u006fns": [{"session_id": "a"}]}"#,
        r#"[{"session\u005fid": "a", "st\u0061tus": "slow", "mem\u005fmb": 3, "t\u0065nant": "x", "pinne\u0064": true}]"#,
        r#"{"w\u006frker": {"n\u0061me": "n", "system": {"avail\u0061ble": true, "lo\u0061d1": 2}}}"#,
        r#"[{"session_id\ud800": "a"}]"#,
        r#"[{"session_id": "a"}]  "#,
        "\n [{\"session_id\": \"a\"}]\r\n",
        "\u{feff}[]",
        r#"[{"mem_mb": "\u001c12"}]"#,
        r#"[{"mem_mb": "\u008512\u1680"}]"#,
        r#"[{"mem_mb": "1.e5", "cpu_pct": "-0", "peak_mb": "007", "duration_s": "1e99999999999999999999"}]"#,
        r#"[{"mem_mb": 1e99999999999999999999, "cpu_pct": -1e-400, "peak_mb": -0E0, "duration_s": -0}]"#,
        r#"[{"mem_mb": "+-1", "cpu_pct": "1e+-5", "peak_mb": "e", "duration_s": "."}]"#,
        r#"[{"mem_mb": "  ", "cpu_pct": "", "peak_mb": "nAn", "duration_s": "-iNfInItY"}]"#,
        r#"{"worker": {"cpu_history": {"a": 1}}}"#,
        r#"{"worker": {"cpu_history": [1], "cpu_history": 5}}"#,
        r#"{"worker": {"system": {"available": true}, "system": {"vcpus": 2}}}"#,
        r#"{"worker": {}, "sessions": [], "sessions": [{}]}"#,
        r#"[{"status": "Active"}, {"status": "errored"}, {"status": "idle"}, {"status": "draining"}, {"status": "active "}]"#,
        r#"[{"session_id": "\u0000\u001f\u007f\u0080\u009f"}]"#,
        r#"{"": 1, "sessions": [{"": 2, "session_id": "a"}]}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .chain([big_int.into_bytes(), long_int.into_bytes()])
    .collect();
    for p in probes {
        if let Err(e) = agree(&reference::expect(&p), &decode(&p)) {
            panic!("{:?}: {e}", String::from_utf8_lossy(&p));
        }
    }
}
