//! Beyond the reference: selection, pins, search, filters, details, group
//! views and help through a real pseudo-terminal; batch mode per format.


use std::time::Duration;

use crate::util::pty::Live;
use crate::util::*;

/// alpha..echo: memory 50..10, distinct CPU, every status.
fn pool(without: &[&str]) -> Vec<u8> {
    let rows: Vec<_> = [
        payload::session("s-alpha", "support", Some("acme"), 50.0, 5.0, "active"),
        payload::session("s-bravo", "booking", Some("globex"), 40.0, 30.0, "slow"),
        payload::session("s-charlie", "sales", Some("acme"), 30.0, 10.0, "active"),
        payload::session("s-delta", "support", None, 20.0, 1.0, "draining"),
        payload::session("s-echo", "booking", Some("initech"), 10.0, 20.0, "errored"),
    ]
    .into_iter()
    .filter(|r| !without.contains(&&*r.session_id))
    .collect();
    payload::encode(Some(payload::worker("w", rows.len(), 8)), rows)
}

fn start(path: &std::path::Path, hz: &str) -> Live {
    Live::start(BIN, &["--socket", path.to_str().unwrap(), "--refresh-rate", hz], &[], 110, 30)
}

fn ids(screen: &[String]) -> Vec<String> {
    screen.iter().filter(|l| l.starts_with("s-")).map(|l| l.split_whitespace().next().unwrap().to_string()).collect()
}

fn selected(t: &Live) -> Option<String> {
    t.inverse_lines().into_iter().find(|l| l.starts_with("s-")).map(|l| l.split_whitespace().next().unwrap().to_string())
}

fn wait_selected(t: &Live, id: &str) {
    let start = std::time::Instant::now();
    while selected(t).as_deref() != Some(id) {
        assert!(start.elapsed() < Duration::from_secs(10), "selection is {:?}, not {id}; screen:\n{}", selected(t), t.screen().join("\n"));
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn selection_follows_its_session_through_resorts_and_its_end() {
    let d = TempDir::new("sel");
    let (s, payload) = Server::swappable(&d.join("top.sock"), pool(&[]));
    let mut t = start(&s.path, "5");
    t.wait_text("rows 1-5 of 5");
    wait_selected(&t, "s-alpha"); // the cursor starts on the top row
    t.send(b"\x1b[B");
    wait_selected(&t, "s-bravo");
    t.send(b"s"); // cpu_pct: bravo moves to the top, the cursor with it
    t.wait_text("sort cpu_pct");
    wait_selected(&t, "s-bravo");
    assert_eq!(ids(&t.screen()), ["s-bravo", "s-echo", "s-charlie", "s-alpha", "s-delta"]);
    t.send(b"\x1b[B\x1b[B"); // charlie
    wait_selected(&t, "s-charlie");
    t.send(b"s"); // duration_s: all equal, so by CPU (bravo, echo, charlie, alpha, delta)
    t.wait_text("sort duration_s");
    wait_selected(&t, "s-charlie");
    assert_eq!(ids(&t.screen()), ["s-bravo", "s-echo", "s-charlie", "s-alpha", "s-delta"]);
    // charlie ends: the cursor takes the row nearest to where it was.
    *payload.lock().unwrap() = pool(&["s-charlie"]);
    t.wait_text("rows 1-4 of 4");
    wait_selected(&t, "s-alpha");
}

#[test]
fn pins_stay_on_top_whatever_the_sort_and_survive_refreshes() {
    let d = TempDir::new("pin");
    let s = Server::bytes(&d.join("top.sock"), pool(&[]));
    let mut t = start(&s.path, "5");
    t.wait_text("rows 1-5 of 5");
    t.send(b"\x1b[F"); // End: echo
    wait_selected(&t, "s-echo");
    t.send(b"p");
    t.wait_for("echo pinned on top", Duration::from_secs(5), |s| ids(s).first().map(String::as_str) == Some("s-echo"));
    let echo = t.screen().into_iter().find(|l| l.starts_with("s-echo")).unwrap();
    assert!(echo.trim_end().ends_with('*'), "{echo}");
    t.send(b"\x1b[F"); // End: delta (last by memory, echo being pinned on top)
    wait_selected(&t, "s-delta");
    t.send(b"p");
    t.wait_for("delta pinned second", Duration::from_secs(5), |s| ids(s)[..2] == ["s-echo", "s-delta"]);
    for (key, title) in [(&b"s"[..], "sort cpu_pct↓"), (b"s", "sort duration_s↓"), (b"S", "sort duration_s↑")] {
        t.send(key);
        let screen = t.wait_text(title);
        assert_eq!(ids(&screen)[..2], ["s-echo", "s-delta"], "after {key:?}");
    }
    // The frame of a refresh is drawn before the next fetch starts: once a
    // fourth fetch has begun, three refreshed frames are on screen.
    let before = s.count();
    s.wait_count(before + 4, Duration::from_secs(10));
    assert_eq!(ids(&t.screen())[..2], ["s-echo", "s-delta"], "pins survive refreshes");
    t.send(b"p"); // the cursor is on delta: unpin it
    t.wait_for("delta unpinned", Duration::from_secs(5), |s| ids(s)[1] != "s-delta");
}

#[test]
fn search_is_incremental_enter_keeps_it_esc_clears_it() {
    let d = TempDir::new("search");
    let s = Server::bytes(&d.join("top.sock"), pool(&[]));
    let mut t = start(&s.path, "2");
    t.wait_text("rows 1-5 of 5");
    t.send(b"/");
    t.wait_for("the prompt", Duration::from_secs(5), |s| s.last().is_some_and(|l| l.starts_with("/")));
    t.send(b"ac");
    let screen = t.wait_text("rows 1-2 of 2"); // tenants acme: alpha, charlie
    assert_eq!(ids(&screen), ["s-alpha", "s-charlie"]);
    assert!(screen.last().unwrap().starts_with("/ac"));
    t.send(b"\x7f\x7fBOOK"); // backspace twice, then any case
    let screen = t.wait_text("search \"BOOK\"");
    assert_eq!(ids(&screen), ["s-bravo", "s-echo"]);
    t.send(b"\r"); // Enter keeps it as a filter
    let screen = t.wait_for("the hints again", Duration::from_secs(5), |s| s.last().is_some_and(|l| l.starts_with("q quit")));
    assert_eq!(ids(&screen), ["s-bravo", "s-echo"]);
    assert!(screen[0].contains("search \"BOOK\""));
    t.send(b"\x1b"); // Esc clears it
    let screen = t.wait_text("rows 1-5 of 5");
    assert!(!screen[0].contains("search"));
}

#[test]
fn a_and_t_cycle_agent_and_tenant_filters_and_shift_s_reverses() {
    let d = TempDir::new("cycle");
    let s = Server::bytes(&d.join("top.sock"), pool(&[]));
    let mut t = start(&s.path, "2");
    t.wait_text("rows 1-5 of 5");
    t.send(b"a");
    let screen = t.wait_text("agent booking");
    assert_eq!(ids(&screen), ["s-bravo", "s-echo"]);
    t.send(b"a");
    assert_eq!(ids(&t.wait_text("agent sales")), ["s-charlie"]);
    t.send(b"aa"); // support, then all
    t.wait_text("agent all");
    t.send(b"t"); // tenants present, sorted: -, acme, globex, initech
    assert_eq!(ids(&t.wait_text("tenant -")), ["s-delta"]);
    t.send(b"t");
    assert_eq!(ids(&t.wait_text("tenant acme")), ["s-alpha", "s-charlie"]);
    t.send(b"ttt");
    t.wait_text("tenant all");
    t.send(b"S");
    let screen = t.wait_text("sort mem_mb↑");
    assert_eq!(ids(&screen), ["s-echo", "s-delta", "s-charlie", "s-bravo", "s-alpha"]);
}

#[test]
fn enter_opens_the_detail_pane_and_closes_it() {
    let d = TempDir::new("detail");
    let long = format!("s-{}", "x".repeat(130));
    let mut body = String::from_utf8(pool(&[])).unwrap();
    body = body.replace("s-alpha", &long);
    let s = Server::bytes(&d.join("top.sock"), body.into_bytes());
    let mut t = start(&s.path, "5");
    t.wait_text("rows 1-5 of 5");
    t.send(b"\r");
    let screen = t.wait_text("session details");
    let text = screen.join("\n");
    let xs: usize = screen.iter().filter(|l| l.contains("xxxx")).map(|l| l.matches('x').count()).sum();
    assert_eq!(xs, 130, "the full id, wrapped:\n{text}");
    for needle in ["agent     support", "tenant    acme", "status    active", "memory    50.0 MB now, peak 50.0 MB", "cpu       5.0 %", "CPU% last 60 s", "MEM last 60 s"] {
        assert!(text.contains(needle), "{needle}:\n{text}");
    }
    t.send(b"\x1b[B"); // the pane follows the selection
    t.wait_text("agent     booking");
    let closed = |s: &[String]| !s.join("\n").contains("session details") && s.iter().any(|l| l.starts_with("session "));
    t.send(b"\r");
    t.wait_for("the pane closed by Enter", Duration::from_secs(5), closed);
    t.send(b"\r");
    t.wait_text("session details");
    t.send(b"\x1b");
    t.wait_for("the pane closed by Esc", Duration::from_secs(5), closed);
}

#[test]
fn g_and_capital_g_group_by_agent_and_tenant() {
    let d = TempDir::new("group");
    let s = Server::bytes(&d.join("top.sock"), pool(&[]));
    let mut t = start(&s.path, "2");
    t.wait_text("rows 1-5 of 5");
    t.send(b"g");
    let screen = t.wait_text("groups 1-3 of 3");
    assert!(screen[0].contains("by agent"));
    let rows: Vec<Vec<&str>> = screen.iter().map(|l| l.split_whitespace().collect()).filter(|r: &Vec<&str>| r.len() == 5 && r[1].parse::<u32>().is_ok()).collect();
    assert_eq!(rows, [["support", "2", "0", "70.0", "3.0"], ["booking", "2", "1", "50.0", "25.0"], ["sales", "1", "0", "30.0", "10.0"]]);
    t.send(b"s"); // sorted the same way: by mean CPU, booking (25) first
    let first_group = |s: &[String]| s.iter().find(|l| ["support", "booking", "sales"].iter().any(|g| l.starts_with(g))).cloned();
    t.wait_for("groups by cpu", Duration::from_secs(5), |s| s[0].contains("sort cpu_pct") && first_group(s).is_some_and(|l| l.starts_with("booking")));
    t.send(b"\x1b[B"); // sales (10)
    t.wait_for("sales selected", Duration::from_secs(5), |_| t.inverse_lines().iter().any(|l| l.starts_with("sales")));
    t.send(b"\r"); // Enter shows that group's sessions
    let screen = t.wait_text("agent sales");
    assert_eq!(ids(&screen), ["s-charlie"]);
    t.send(b"\x1b"); // Esc goes back to the group view, on that group
    t.wait_text("groups 1-3 of 3");
    t.wait_for("sales still selected", Duration::from_secs(5), |_| t.inverse_lines().iter().any(|l| l.starts_with("sales")));
    t.send(b"\r");
    t.wait_text("agent sales");
    t.send(b"aa"); // sales -> support -> all
    t.wait_text("agent all");
    t.send(b"G");
    let screen = t.wait_text("groups 1-4 of 4");
    assert!(screen[0].contains("by tenant"));
    assert!(screen.iter().any(|l| l.split_whitespace().next() == Some("acme") && l.contains(" 2 ")));
    t.send(b"G");
    t.wait_text("rows 1-5 of 5");
}

#[test]
fn help_overlay_lists_every_key_and_any_key_closes_it() {
    let d = TempDir::new("help");
    let s = Server::bytes(&d.join("top.sock"), pool(&[]));
    // Tall enough for every binding at once.
    let mut t = Live::start(BIN, &["--socket", s.path.to_str().unwrap(), "--refresh-rate", "2"], &[], 110, 50);
    t.wait_text("rows 1-5 of 5");
    t.send(b"?");
    // Waited for whole: the overlay's first line can be on screen before
    // its last has been read from the terminal.
    const KEYS: [&str; 14] = ["q, Ctrl-C", "r ", "s ", "S ", "f ", "a ", "t ", "p ", "/ ", "Enter", "g ", "G ", "?, h", "PgUp/PgDn"];
    let has_all = |s: &[String]| {
        let text = s.join("\n");
        text.contains("openrtc-top keys") && KEYS.iter().all(|k| text.contains(k))
    };
    t.wait_for("the help overlay listing every key", Duration::from_secs(10), has_all);
    t.send(b"x");
    t.wait_text("rows 1-5 of 5");
    t.send(b"h");
    t.wait_text("openrtc-top keys");
    t.send(b"q"); // any key closes the overlay, q too, and does nothing else
    t.wait_text("rows 1-5 of 5");
    assert!(t.child.try_wait().unwrap().is_none(), "q in the overlay only closed it");
    t.send(b"q");
    assert_eq!(t.wait_exit(Duration::from_secs(5)).code(), Some(0));
}

/// At 80x24 the overlay does not hold every key: it says how many more are
/// below, j and PgDn scroll to the last (Backspace), k back up; the live
/// view lists no replay-only key.
#[test]
fn help_overlay_pages_at_80x24_and_shows_the_modes_keys() {
    let d = TempDir::new("help-page");
    let s = Server::bytes(&d.join("top.sock"), pool(&[]));
    let mut t = Live::start(BIN, &["--socket", s.path.to_str().unwrap()], &[], 80, 24);
    t.wait_text("rows 1-5 of 5");
    t.send(b"?");
    let first = t.wait_for("the more marker", Duration::from_secs(10), |s| s.iter().any(|l| l.contains("more below: j or PgDn")));
    assert!(first.iter().all(|l| !l.contains("Backspace")), "{}", first.join("\n"));
    for _ in 0..4 {
        t.send(b"\x1b[6~");
    }
    let end = t.wait_for("the last keys", Duration::from_secs(10), |s| s.iter().any(|l| l.contains("Backspace")));
    let text = end.join("\n");
    assert!(text.contains("more above") && !text.contains("more below"), "{text}");
    // A replay's keys are not the live view's.
    for k in ["StepBack", "one sample back", "while typing a time"] {
        assert!(!text.contains(k) && !first.join("\n").contains(k), "{k} in {text}");
    }
    t.send(b"k");
    t.wait_for("one line back up", Duration::from_secs(10), |s| s.iter().any(|l| l.contains("more below")));
    t.send(b"x");
    t.wait_text("rows 1-5 of 5");
    t.send(b"q");
    assert_eq!(t.wait_exit(Duration::from_secs(5)).code(), Some(0));
}

// ---------------------------------------------------------------------------
// Batch mode.

fn batch(format: &str, extra: &[&str]) -> String {
    let d = TempDir::new("batch");
    let s = Server::bytes(&d.join("top.sock"), pool(&[]));
    let sock = s.path.to_str().unwrap().to_string();
    let mut args = vec!["-n", "3", "--refresh-rate", "10", "--socket", &sock, "--format", format];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    assert_eq!(s.count(), 3, "one snapshot per iteration");
    text(&out.stdout)
}

fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 24 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':' && b[19] == b'.' && s.ends_with('Z')
}

#[test]
fn batch_table_is_blocks_each_under_a_timestamp() {
    let out = batch("table", &["--once"]);
    let blocks: Vec<&str> = out.split("\n\n").collect();
    assert_eq!(blocks.len(), 3, "{out}");
    let mut stamps = Vec::new();
    for b in blocks {
        let lines: Vec<&str> = b.trim_end().lines().collect();
        assert!(is_timestamp(lines[0]), "{}", lines[0]);
        stamps.push(lines[0].to_string());
        assert!(lines[1].starts_with("session "));
        assert_eq!(lines.len(), 7);
    }
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
}

#[test]
fn batch_json_is_one_object_per_line_with_time() {
    let out = batch("json", &["--once"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    for l in lines {
        assert!(l.starts_with("{\"time\": \""), "{l}");
        assert!(is_timestamp(&l[10..34]), "{l}");
        assert!(l[34..].starts_with(&format!("\", \"pid\": {}, \"state\": \"answered\", \"worker\": {{\"name\": \"w\"", std::process::id())), "{l}");
        assert_eq!(openrtc_top::decode::decode(l.as_bytes()).unwrap().sessions.len(), 5);
    }
}

#[test]
fn batch_tsv_has_one_header_and_a_leading_time_column() {
    let out = batch("tsv", &[]); // no --once, no terminal: batch as well
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "time\tsession\tagent\ttenant\tdur(s)\tmem(MB)\tpeak\tcpu%\tstatus\tpin");
    assert_eq!(lines.len(), 1 + 3 * 5);
    for l in &lines[1..] {
        let cells: Vec<&str> = l.split('\t').collect();
        assert_eq!(cells.len(), 10, "{l}");
        assert!(is_timestamp(cells[0]));
    }
}

#[test]
fn batch_stops_at_the_first_failure_with_its_message() {
    let d = TempDir::new("batch-fail");
    let path = d.join("top.sock");
    let out = run(&["-n", "2", "--once", "--socket", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert!(text(&out.stderr).contains("no running openrtc pool at"));
}
