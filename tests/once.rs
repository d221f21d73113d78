//! `--once` end to end: the built binary against a real Unix socket server.


use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::*;

fn once(server: &Server, extra: &[&str]) -> std::process::Output {
    let sock = server.path.to_str().unwrap().to_string();
    let mut args = vec!["--once", "--socket", &sock];
    args.extend_from_slice(extra);
    run(&args)
}

fn ok_lines(out: &std::process::Output) -> Vec<String> {
    assert!(out.status.success(), "status {:?}, stderr {}", out.status, text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    text(&out.stdout).lines().map(String::from).collect()
}

#[test]
fn plain_table_header_and_rows() {
    let d = TempDir::new("table");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let lines = ok_lines(&once(&s, &[]));
    assert_eq!(lines.len(), 13);
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["session", "agent", "tenant", "dur(s)", "mem(MB)", "peak", "cpu%", "status", "pin"]);
    // All shares are equal (2.3), so the id breaks the tie.
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["AJ_0000_blocker", "booking", "-", "4", "2.3", "2.3", "21.5", "slow", "-"]
    );
    for l in &lines {
        assert_eq!(l.split_whitespace().count(), 9, "{l}");
        assert!(!l.contains('\x1b'));
    }
}

#[test]
fn awk_prints_the_slow_session_ids() {
    let d = TempDir::new("awk");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let sock = s.path.to_str().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("'{BIN}' --once --socket '{sock}' | awk 'NR>1 && $8==\"slow\" {{print $1}}'"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "AJ_0000_blocker\nAJ_0006_call\nAJ_0007_call\nAJ_0010_call\n");
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn grep_finds_a_full_session_id() {
    let d = TempDir::new("grep");
    let long = "AJ_a-very-long-session-identifier-that-a-live-view-would-truncate";
    let rows = vec![payload::session(long, "a", None, 1.0, 0.0, "active"), payload::session("other", "a", None, 1.0, 0.0, "active")];
    let s = Server::bytes(&d.join("top.sock"), payload::encode(None, rows));
    let lines = ok_lines(&once(&s, &[]));
    let hits: Vec<&String> = lines.iter().filter(|l| l.contains(long)).collect();
    assert_eq!(hits.len(), 1);
    assert!(hits[0].starts_with(long));
}

#[test]
fn no_header() {
    let d = TempDir::new("nohdr");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v03-list.jsonl"));
    let lines = ok_lines(&once(&s, &["--no-header"]));
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l.starts_with("job-")));
}

#[test]
fn legacy_bare_array_and_pins() {
    let d = TempDir::new("legacy");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v03-list.jsonl"));
    let lines = ok_lines(&once(&s, &["--sort", "peak_mb"]));
    let ids: Vec<&str> = lines[1..].iter().map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(ids, ["job-93e2aa", "job-c1d550", "job-7fa01b"]);
    assert!(lines[1].ends_with('*'));
    assert!(lines[2].ends_with('-'));
}

#[test]
fn filters() {
    let d = TempDir::new("filters");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let col = |args: &[&str], n: usize| -> Vec<String> {
        ok_lines(&once(&s, args))[1..].iter().map(|l| l.split_whitespace().nth(n).unwrap().to_string()).collect()
    };
    assert_eq!(col(&["--status", "slow"], 0), ["AJ_0000_blocker", "AJ_0006_call", "AJ_0007_call", "AJ_0010_call"]);
    assert_eq!(col(&["--status", "active"], 7).len(), 8);
    assert!(col(&["--status", "draining"], 0).is_empty());
    // Every share of memory is the same (2.3): CPU, then the id, breaks the tie.
    assert_eq!(col(&["--agent", "sales"], 0), ["AJ_0011_call", "AJ_0002_call", "AJ_0005_call", "AJ_0008_call"]);
    assert_eq!(col(&["--tenant", "acme-1"], 0), ["AJ_0007_call", "AJ_0010_call", "AJ_0001_call"]);
    assert_eq!(col(&["--tenant", "-"], 0), ["AJ_0000_blocker", "AJ_0004_call", "AJ_0008_call"]);
    assert_eq!(col(&["--agent", "booking", "--status", "slow"], 0), ["AJ_0000_blocker", "AJ_0006_call"]);
    assert!(col(&["--agent", "nobody"], 0).is_empty());
}

#[test]
fn sorts() {
    let d = TempDir::new("sorts");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v03-list.jsonl"));
    let ids = |args: &[&str]| -> Vec<String> {
        ok_lines(&once(&s, args))[1..].iter().map(|l| l.split_whitespace().next().unwrap().to_string()).collect()
    };
    assert_eq!(ids(&["--sort", "cpu_pct"]), ["job-c1d550", "job-93e2aa", "job-7fa01b"]);
    assert_eq!(ids(&["--sort", "duration_s"]), ["job-93e2aa", "job-c1d550", "job-7fa01b"]);
    assert_eq!(ids(&["--sort", "agent"]), ["job-7fa01b", "job-93e2aa", "job-c1d550"]);
    assert_eq!(ids(&["--sort", "agent_name"]), ["job-7fa01b", "job-93e2aa", "job-c1d550"]);
    assert_eq!(ids(&["--sort", "session_id"]), ["job-7fa01b", "job-93e2aa", "job-c1d550"]);
    assert_eq!(ids(&["--sort", "tenant"]), ["job-7fa01b", "job-c1d550", "job-93e2aa"]);
}

#[test]
fn empty_pool_prints_only_the_header() {
    let d = TempDir::new("empty");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020-empty.jsonl"));
    assert_eq!(ok_lines(&once(&s, &[])).len(), 1);
    assert!(ok_lines(&once(&s, &["--no-header"])).is_empty());
}

#[test]
fn no_pool_message_for_a_missing_socket() {
    let d = TempDir::new("nopool");
    let path = d.join("top.sock");
    let out = run(&["--once", "--socket", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    let err = text(&out.stderr);
    assert!(err.starts_with(&format!("openrtc-top: no running openrtc pool at {}", path.display())), "{err}");
    assert!(err.contains("'openrtc dev ./agents'") && err.contains("'openrtc start ./agents'"), "{err}");
    assert_eq!(err.lines().count(), 2);
}

#[test]
fn no_pool_message_for_a_stale_socket() {
    let d = TempDir::new("stale");
    let path = d.join("top.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let out = run(&["--once", "--socket", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert!(text(&out.stderr).contains("no running openrtc pool at"));
}

#[test]
fn undecodable_payload_has_its_own_message() {
    let d = TempDir::new("garbage");
    let s = Server::bytes(&d.join("top.sock"), b"this is not json\n".to_vec());
    let out = once(&s, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    let err = text(&out.stderr);
    assert!(err.contains("sent a snapshot that cannot be read: not JSON"), "{err}");
    assert!(!err.contains("no running openrtc pool"));
}

#[test]
fn a_closed_pipe_exits_quietly() {
    let d = TempDir::new("pipe");
    let s = Server::bytes(&d.join("top.sock"), payload::big(20_000));
    let mut child = Command::new(BIN)
        .args(["--once", "--socket", s.path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap(); // then dropped: `| head -1`
    assert!(first.starts_with("session"));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    for (args, needle) in [
        (&["--sort", "bogus"][..], "invalid value 'bogus' for '--sort'"),
        (&["--status", "idle"][..], "invalid value 'idle' for '--status'"),
        (&["--refresh-rate", "fast"][..], "invalid value 'fast' for '--refresh-rate'"),
        (&["--color", "pink"][..], "invalid value 'pink' for '--color'"),
        (&["--bogus"][..], "unknown option '--bogus'"),
        (&["--socket"][..], "missing value for '--socket'"),
        (&["extra"][..], "unexpected argument 'extra'"),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&out.stdout), "");
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("openrtc-top: ") && err.contains(needle), "{err}");
        assert!(err.trim_end().ends_with("try 'openrtc-top --help'"), "{err}");
    }
}

#[test]
fn help_and_version() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for flag in ["--once", "--refresh-rate", "--sort", "--status", "--socket", "--agent", "--tenant", "--no-header", "--color", "--format", "--iterations"] {
        assert!(help.contains(flag), "help lacks {flag}");
    }
    let out = run(&["-V"]);
    assert_eq!(text(&out.stdout), format!("openrtc-top {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn refresh_rate_out_of_band_warns_and_runs() {
    let d = TempDir::new("rate");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v03-list.jsonl"));
    let out = once(&s, &["--refresh-rate", "50"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stderr), "openrtc-top: --refresh-rate '50' is outside 0.5..10 Hz; using 10\n");
    assert_eq!(text(&out.stdout).lines().count(), 4);
}

#[test]
fn escape_sequences_in_payload_strings_never_reach_stdout() {
    let d = TempDir::new("esc");
    let row = payload::session("\x1b]0;owned\x07id", "\x1b[31mred", Some("\u{9b}2J\x7f"), 1.0, 0.0, "slow\r");
    let s = Server::bytes(&d.join("top.sock"), payload::encode(None, vec![row]));
    for extra in [&[][..], &["--color", "always"][..]] {
        let out = once(&s, extra);
        let t = text(&out.stdout);
        assert!(out.status.success());
        for c in t.chars() {
            assert!(!c.is_control() || c == '\n' || c == '\x1b', "raw {c:?} in {t:?}");
        }
        // With colour the only ESC bytes are our own SGR sequences.
        assert!(!t.contains("\x1b]") && !t.contains("\x1b[31mred") && !t.contains("\x1b[2J"));
        assert!(t.contains("\\u{1b}]0;owned\\u{7}id"), "{t}");
    }
}

#[test]
fn colour_always_draws_the_frame_and_never_does_not() {
    let d = TempDir::new("colour");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let out = run_with(
        &["--once", "--socket", s.path.to_str().unwrap(), "--color", "always"],
        &[("COLUMNS", "100")],
        Duration::from_secs(10),
    );
    let t = text(&out.stdout);
    assert!(t.starts_with("\x1b[1mopenrtc-top\x1b[m  sort mem_mb↓  status all  harness-worker"), "{t:?}");
    assert!(t.contains("\x1b[38;5;3m\x1b[1mslow"), "slow is yellow and bold");
    assert!(t.contains("\x1b[38;5;2mactive"), "active is green");
    assert!(t.contains("CPU") && t.contains("MEM") && t.contains("LOAD"));
    let plain = text(&once(&s, &["--color", "never"]).stdout);
    assert!(!plain.contains('\x1b'));
}

#[test]
fn default_socket_path_under_xdg_runtime_dir() {
    let d = TempDir::new("xdg");
    let uid = unsafe_uid();
    let dir = d.join(&format!("openrtc-{uid}"));
    std::fs::create_dir(&dir).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let _s = Server::bytes(&dir.join("top.sock"), fixture("snapshot-v03-list.jsonl"));
    let out = run_with(&["--once"], &[("XDG_RUNTIME_DIR", d.path().to_str().unwrap())], Duration::from_secs(10));
    assert_eq!(ok_lines(&out).len(), 4);
}

fn unsafe_uid() -> u32 {
    let out = Command::new("id").arg("-u").output().unwrap();
    text(&out.stdout).trim().parse().unwrap()
}

#[test]
fn ten_thousand_sessions() {
    let d = TempDir::new("big");
    let s = Server::bytes(&d.join("top.sock"), payload::big(10_000));
    let lines = ok_lines(&once(&s, &["--sort", "session"]));
    assert_eq!(lines.len(), 10_001);
    assert!(lines[1].starts_with("AJ_000000 "));
    assert!(lines[10_000].starts_with("AJ_009999 "));
}

#[test]
fn format_json_is_one_line_in_view_order() {
    let d = TempDir::new("fmt-json");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    let out = once(&s, &["--format", "json", "--status", "slow", "--sort", "cpu_pct"]);
    let lines = ok_lines(&out);
    assert_eq!(lines.len(), 1);
    let l = &lines[0];
    // The worker's pid and state first (the fake worker is this process).
    let pid = format!("{{\"pid\": {}, \"state\": \"answered\", ", std::process::id());
    assert!(l.starts_with(&format!(r#"{pid}"worker": {{"name": "harness-worker", "uptime_s": 4.027744909000035, "active_sessions": 12"#)), "{l}");
    assert!(l.contains(r#""system": {"available": true, "cpu_pct": 29.1, "vcpus": 2, "mem_used_bytes": 412729344"#));
    assert!(l.contains(r#""net_rate_bps": null}, "cpu_history": [29.1]}"#));
    // Filters and sort apply; what we print reads back as the same rows.
    let back = openrtc_top::decode::decode(l.as_bytes()).unwrap();
    let ids: Vec<&str> = back.sessions.iter().map(|r| &*r.session_id).collect();
    assert_eq!(ids, ["AJ_0000_blocker", "AJ_0006_call", "AJ_0007_call", "AJ_0010_call"]);
    assert!(l.contains(r#"{"session_id": "AJ_0000_blocker", "agent_name": "booking", "tenant": null, "duration_s": 4, "mem_mb": 2.3, "peak_mb": 2.3, "cpu_pct": 21.5, "status": "slow", "pinned": false}"#));
}

#[test]
fn format_json_legacy_has_a_null_worker() {
    let d = TempDir::new("fmt-json-legacy");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v03-list.jsonl"));
    let lines = ok_lines(&once(&s, &["--format", "json"]));
    let pid = format!("{{\"pid\": {}, \"state\": \"answered\", ", std::process::id());
    assert!(lines[0].starts_with(&format!(r#"{pid}"worker": null, "sessions": [{{"session_id": "job-c1d550""#)), "{}", lines[0]);
}

#[test]
fn format_tsv_exact_and_escaped() {
    let d = TempDir::new("fmt-tsv");
    let payload = r#"[{"session_id": "a\tb", "agent_name": "x\\y", "tenant": null, "duration_s": 312.45, "mem_mb": 182.55, "peak_mb": 1e+300, "cpu_pct": NaN, "status": "slow\u001b", "pinned": true}]"#;
    let s = Server::bytes(&d.join("top.sock"), payload.as_bytes().to_vec());
    let lines = ok_lines(&once(&s, &["--format", "tsv"]));
    assert_eq!(lines[0], "session\tagent\ttenant\tdur(s)\tmem(MB)\tpeak\tcpu%\tstatus\tpin");
    assert_eq!(lines[1], "a\\tb\tx\\\\y\t\t312.45\t182.55\t1e300\tnan\tslow\\x1b\t*");
    let no_header = ok_lines(&once(&s, &["--format", "tsv", "--no-header"]));
    assert_eq!(no_header.len(), 1);
    // awk -F'\t' sees exactly nine fields.
    assert_eq!(lines[1].split('\t').count(), 9);
}

#[test]
fn formats_are_plain_even_on_request_for_colour() {
    let d = TempDir::new("fmt-colour");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v020.jsonl"));
    for f in ["json", "tsv"] {
        let out = once(&s, &["--format", f, "--color", "always"]);
        assert!(!text(&out.stdout).contains('\x1b'), "{f}");
    }
}

#[test]
fn look_alike_ids_print_differently_and_awk_picks_the_right_one() {
    let d = TempDir::new("lookalike");
    let rows = vec![
        payload::session("AJ_0000 blocker", "a", None, 4.0, 0.0, "slow"),
        payload::session("AJ_0000\u{3000}blocker", "a", None, 3.0, 0.0, "active"),
        payload::session("AJ_victim", "a", None, 2.0, 0.0, "slow"),
        payload::session("AJ_vic\u{200b}tim", "a", None, 1.0, 0.0, "active"),
    ];
    let s = Server::bytes(&d.join("top.sock"), payload::encode(None, rows));
    let sock = s.path.to_str().unwrap();
    let lines = ok_lines(&run_with(&["--once", "--socket", sock, "--no-header"], &[("LANG", "C.UTF-8")], Duration::from_secs(10)));
    let ids: Vec<&str> = lines.iter().map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(ids, ["AJ_0000\\u{20}blocker", "AJ_0000\\u{3000}blocker", "AJ_victim", "AJ_vic\\u{200b}tim"]);
    // The README's recipe: the slow sessions' ids, and only theirs.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("LANG=C.UTF-8 '{BIN}' --once --socket '{sock}' | awk 'NR>1 && $8==\"slow\" {{print $1}}'"))
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "AJ_0000\\u{20}blocker\nAJ_victim\n");
}

#[test]
fn an_ascii_locale_gets_ascii_in_every_format() {
    let d = TempDir::new("ascii");
    let rows = vec![payload::session("AJ_\u{db}\u{9b}x", "m\u{fc}nchen", Some("\u{4e2d}\u{6587}"), 1.0, 0.0, "active")];
    let s = Server::bytes(&d.join("top.sock"), payload::encode(Some(payload::worker("w\u{e9}", 1, 2)), rows));
    let sock = s.path.to_str().unwrap();
    for (format, extra) in [("table", ""), ("tsv", ""), ("json", ""), ("table", "always")] {
        let mut args = vec!["--once", "--socket", sock, "--format", format];
        if !extra.is_empty() {
            args.extend(["--color", extra]);
        }
        for env in [&[("LANG", "C")][..], &[("LANG", "")], &[("LC_ALL", "POSIX"), ("LANG", "C.UTF-8")]] {
            let out = run_with(&args, env, Duration::from_secs(10));
            assert!(out.status.success(), "{format} {env:?}: {}", text(&out.stderr));
            assert!(out.stdout.is_ascii(), "{format} {env:?}: {:?}", text(&out.stdout));
            assert!(!out.stdout.contains(&0x9b), "{format}");
        }
        let utf8 = run_with(&args, &[("LANG", "C.UTF-8")], Duration::from_secs(10));
        assert!(text(&utf8.stdout).contains("m\u{fc}nchen") || format == "json" && text(&utf8.stdout).contains("münchen"), "{format}");
    }
    let json = run_with(&["--once", "--socket", sock, "--format", "json"], &[("LANG", "C")], Duration::from_secs(10));
    let back = openrtc_top::decode::decode(text(&json.stdout).trim_end().as_bytes()).unwrap();
    assert_eq!(&*back.sessions[0].agent_name, "m\u{fc}nchen", "the same strings, escaped");
}

#[test]
fn the_refresh_rate_warning_shows_its_argument_sanitized() {
    let d = TempDir::new("rate-warn");
    let s = Server::bytes(&d.join("top.sock"), fixture("snapshot-v03-list.jsonl"));
    let out = once(&s, &["--refresh-rate", "50\u{b}\u{2028}"]);
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err, "openrtc-top: --refresh-rate '50\\u{b}\\u{2028}' is outside 0.5..10 Hz; using 10\n");
}

/// `-o LIST` pins a script's fields: the columns named, in that order,
/// whether one worker or several answer, in table and TSV; headers as
/// shown and sort keys both name them; anything else is a usage error.
#[test]
fn columns_pin_the_fields_for_scripts() {
    let d = TempDir::new("columns");
    let rows = |ids: &[(&str, &str)]| payload::encode(None, ids.iter().map(|(id, st)| payload::session(id, "ag", None, 5.0, 1.5, st)).collect());
    let a = Server::bytes(&d.join("a.sock"), rows(&[("s-1", "slow"), ("s-2", "active")]));
    let b = Server::bytes(&d.join("b.sock"), rows(&[("s-3", "slow")]));
    let (sa, sb) = (a.path.to_str().unwrap(), b.path.to_str().unwrap());
    // The same awk line over one worker and over two: $2 is the status.
    for args in [vec!["--socket", sa], vec!["--socket", sa, "--socket", sb]] {
        let mut all = vec!["--once", "-o", "session_id,status,cpu%"];
        all.extend(&args);
        let out = run(&all);
        let got: Vec<Vec<String>> = text(&out.stdout).lines().map(|l| l.split_whitespace().map(String::from).collect()).collect();
        assert_eq!(got[0], ["session", "status", "cpu%"], "{args:?}");
        let slow: Vec<&str> = got[1..].iter().filter(|r| r[1] == "slow").map(|r| r[0].as_str()).collect();
        assert_eq!(slow, if args.len() == 2 { vec!["s-1"] } else { vec!["s-1", "s-3"] });
    }
    let tsv = run(&["--once", "--format", "tsv", "--columns", "worker,mem_mb", "--socket", sa]);
    assert_eq!((tsv.status.code(), text(&tsv.stdout)), (Some(0), "worker\tmem(MB)\na\t5\na\t5\n".to_string()));
    let bad = run(&["--once", "-o", "session,nope", "--socket", sa]);
    assert_eq!((bad.status.code(), text(&bad.stdout)), (Some(2), String::new()));
    assert_eq!(text(&bad.stderr), "openrtc-top: invalid value 'session,nope' for '--columns': no column 'nope': expected names from worker, session, agent, tenant, dur(s), mem(MB), peak, cpu%, status, pin; try 'openrtc-top --help'\n");
    let json = run(&["--once", "-o", "session", "--format", "json", "--socket", sa]);
    assert_eq!(json.status.code(), Some(2));
}

/// The config file serves the person at the terminal: the live view reads
/// it, `--once` to a pipe never does (a script's output does not change),
/// `--config FILE` reads it in any mode, and a bad line is a usage error
/// naming the file and the line.
#[test]
fn a_config_file_is_read_for_the_terminal_and_never_for_a_pipe() {
    let d = TempDir::new("config");
    let rows = vec![payload::session("big-mem", "a", None, 90.0, 1.0, "active"), payload::session("big-cpu", "a", None, 10.0, 80.0, "active")];
    let s = Server::bytes(&d.join("top.sock"), payload::encode(None, rows));
    let conf = d.join("config");
    std::fs::write(&conf, "# sort by CPU\n--sort cpu_pct\n").unwrap();
    let env = [("OPENRTC_TOP_CONFIG", conf.to_str().unwrap())];
    let sock = s.path.to_str().unwrap();
    let first = |out: &std::process::Output| text(&out.stdout).lines().nth(1).unwrap_or("").split_whitespace().next().unwrap_or("").to_string();
    let piped = run_with(&["--once", "--socket", sock], &env, Duration::from_secs(10));
    assert_eq!((piped.status.code(), first(&piped)), (Some(0), "big-mem".to_string()));
    let asked = run_with(&["--once", "--socket", sock, "--config", conf.to_str().unwrap()], &[], Duration::from_secs(10));
    assert_eq!((asked.status.code(), first(&asked)), (Some(0), "big-cpu".to_string()));
    let mut t = crate::util::pty::Live::start(BIN, &["--socket", sock], &env, 120, 20);
    t.wait_for("the config's sort", Duration::from_secs(20), |s| s.iter().any(|l| l.contains("sort cpu_pct")));
    t.send(b"q");
    assert_eq!(t.wait_exit(Duration::from_secs(10)).code(), Some(0));
    std::fs::write(&conf, "--sort cpu_pct\n--refresh-rate fast\n").unwrap();
    let bad = run_with(&["--once", "--socket", sock, "--config", conf.to_str().unwrap()], &[], Duration::from_secs(10));
    assert_eq!((bad.status.code(), text(&bad.stdout)), (Some(2), String::new()));
    assert_eq!(text(&bad.stderr), format!("openrtc-top: config file {} line 2: invalid value 'fast' for '--refresh-rate': expected a number of Hz (0.5..10); try 'openrtc-top --help'\n", conf.display()));
}
