//! The exporter (`--serve`) and the metrics formats of `--once`, against
//! real sockets and real TCP clients: what it answers, and what a bad
//! client or a hung worker can cost the next scrape.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

fn worker_payload(name: &str, ids: &[&str]) -> Vec<u8> {
    let rows = ids.iter().map(|id| payload::session(id, "support", Some("acme"), 10.0, 1.0, "slow")).collect();
    payload::encode(Some(payload::worker(name, ids.len(), 8)), rows)
}

/// The exporter on a free port, killed on drop.
struct Exporter {
    child: Child,
    port: u16,
}

impl Exporter {
    fn start(args: &[&str]) -> Exporter {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(BIN)
            .arg("--serve")
            .arg(port.to_string())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), format!("openrtc-top: serving metrics at http://127.0.0.1:{port}/metrics"), "no host means 127.0.0.1");
        Exporter { child, port }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        s
    }

    /// Send `request` as is; the whole answer.
    fn ask(&self, request: &[u8]) -> String {
        let mut s = self.connect();
        s.write_all(request).unwrap();
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    }

    fn get(&self, path: &str) -> String {
        self.ask(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn answers_metrics_and_its_index_and_refuses_everything_else() {
    let d = TempDir::new("exp-basic");
    let _w = Server::bytes(&d.join("w-1.sock"), worker_payload("one", &["s1", "s2"]));
    let e = Exporter::start(&["--socket", d.path().to_str().unwrap()]);
    let m = e.get("/metrics");
    assert!(m.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), "{m}");
    assert!(m.contains("Connection: close\r\n"), "{m}");
    assert!(m.contains("\nopenrtc_up{worker=\"one\"} 1\n") && m.contains("openrtc_sessions{worker=\"one\",agent=\"support\",tenant=\"acme\",status=\"slow\"} 2\n"), "{m}");
    assert!(!m.contains("# EOF"));
    let om = e.ask(b"GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n\r\n");
    assert!(om.contains("Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n") && om.ends_with("# EOF\n"), "{om}");
    let index = e.get("/");
    assert!(index.starts_with("HTTP/1.1 200 OK") && index.contains(d.path().to_str().unwrap()), "{index}");
    for path in ["/nope", "/../etc/passwd", "/metrics/../..", "//metrics"] {
        assert!(e.get(path).starts_with("HTTP/1.1 404 Not Found"), "{path}");
    }
    let post = e.ask(b"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    assert!(post.starts_with("HTTP/1.1 405 Method Not Allowed") && post.contains("Allow: GET, HEAD\r\n"), "{post}");
    let head = e.ask(b"HEAD /metrics HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200 OK") && head.ends_with("\r\n\r\n"), "no body: {head}");
    assert!(e.ask(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n").starts_with("HTTP/1.1 400 Bad Request"));
}

#[test]
fn bad_clients_hold_the_next_scrape_up_by_at_most_their_timeout() {
    let d = TempDir::new("exp-slow-client");
    let _w = Server::bytes(&d.join("w.sock"), worker_payload("one", &["s1"]));
    let e = Exporter::start(&["--socket", d.path().to_str().unwrap()]);
    // Connects and sends nothing.
    let silent = e.connect();
    // Sends a byte every 300 ms (never finishing its head).
    let mut drip = e.connect();
    let t0 = Instant::now();
    let dripper = std::thread::spawn(move || {
        for b in b"GET /metrics HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaa" {
            if drip.write_all(&[*b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        let mut answer = String::new();
        let _ = drip.read_to_string(&mut answer);
        answer
    });
    let m = e.get("/metrics");
    let took = t0.elapsed();
    assert!(m.starts_with("HTTP/1.1 200 OK"), "{m}");
    // Each bad client costs at most its 2 s; the two are served in turn.
    assert!(took < Duration::from_millis(4800), "{took:?}");
    let dripped = dripper.join().unwrap();
    assert!(dripped.is_empty() || dripped.starts_with("HTTP/1.1 408"), "{dripped}");
    drop(silent);
    // A megabyte of headers: refused at 8 KiB, without reading the rest.
    let mut big = e.connect();
    let _ = big.write_all(b"GET /metrics HTTP/1.1\r\n");
    let filler = format!("X-Filler: {}\r\n", "a".repeat(1000));
    let mut sent = 0;
    while sent < 1_000_000 {
        if big.write_all(filler.as_bytes()).is_err() {
            break;
        }
        sent += filler.len();
    }
    let mut answer = Vec::new();
    let _ = big.read_to_end(&mut answer);
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 431"), "{}", String::from_utf8_lossy(&answer));
    assert!(e.get("/metrics").starts_with("HTTP/1.1 200 OK"), "still serving");
}

#[test]
fn a_worker_hung_during_a_scrape_is_down_and_the_scrape_answers_in_time() {
    let d = TempDir::new("exp-hung");
    let _ok = Server::bytes(&d.join("ok.sock"), worker_payload("ok", &["s1"]));
    let _hung = Server::hung(&d.join("hung.sock"), Duration::from_secs(10));
    let e = Exporter::start(&["--socket", d.path().to_str().unwrap()]);
    let t0 = Instant::now();
    let m = e.get("/metrics");
    assert!(t0.elapsed() < Duration::from_millis(3000), "{:?}", t0.elapsed());
    assert!(m.contains("\nopenrtc_up{worker=\"hung\"} 0\n") && m.contains("\nopenrtc_up{worker=\"ok\"} 1\n"), "{m}");
    assert!(!m.contains("worker=\"hung\",agent"), "no sessions for a worker that did not answer: {m}");
}

#[test]
fn stop_signals_end_it_with_status_0_and_a_port_in_use_is_status_1() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        let d = TempDir::new("exp-stop");
        let mut e = Exporter::start(&["--socket", d.join("none.sock").to_str().unwrap()]);
        assert!(e.get("/metrics").contains("openrtc_up{worker=\"none\"} 0"));
        // SAFETY: signalling our own child.
        unsafe { libc::kill(e.child.id() as i32, sig) };
        let t0 = Instant::now();
        let status = loop {
            if let Some(s) = e.child.try_wait().unwrap() {
                break s;
            }
            assert!(t0.elapsed() < Duration::from_secs(5), "still running after signal {sig}");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(0), "signal {sig}");
        // The port is in use while it runs.
        if sig == libc::SIGTERM {
            let busy = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = busy.local_addr().unwrap().port();
            let out = run_with(&["--serve", &format!("127.0.0.1:{port}")], &[], Duration::from_secs(5));
            assert_eq!(out.status.code(), Some(1));
            assert_eq!(text(&out.stderr).lines().count(), 1, "{}", text(&out.stderr));
            assert!(text(&out.stderr).starts_with(&format!("openrtc-top: cannot listen on 127.0.0.1:{port}: ")), "{}", text(&out.stderr));
        }
    }
    let out = run(&["--serve", "nowhere:1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("invalid value 'nowhere:1' for '--serve'"), "{}", text(&out.stderr));
}

#[test]
fn once_prints_an_exposition_with_the_exit_status_of_once() {
    let d = TempDir::new("exp-once");
    let _ok = Server::bytes(&d.join("ok.sock"), worker_payload("ok", &["s1"]));
    drop(std::os::unix::net::UnixListener::bind(d.join("dead.sock")).unwrap());
    let out = run(&["--once", "--format", "openmetrics", "--per-session", "1", "--socket", d.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let m = text(&out.stdout);
    assert!(m.ends_with("# EOF\n") && m.contains("openrtc_up{worker=\"dead\"} 0\n") && m.contains("openrtc_busiest_session_cpu_share_percent{worker=\"ok\",session=\"s1\""), "{m}");
    assert!(text(&out.stderr).contains("dead.sock (nothing is listening"), "{}", text(&out.stderr));
}

/// What needs Debian's `prometheus` package (`make test` skips the module,
/// saying so, where it is missing).
mod real_prometheus {
    use super::*;

    fn promtool(args: &[&str]) -> std::process::Output {
        Command::new("promtool").args(args).output().expect("promtool (Debian: apt install prometheus)")
    }

    #[test]
    #[ignore = "needs Debian's prometheus for promtool (make test runs it where it is installed)"]
    fn the_readme_scrape_job_and_alert_rules_pass_promtool() {
        let d = TempDir::new("exp-readme");
        let rules = d.join("openrtc-rules.yml");
        std::fs::write(&rules, readme_block("openrtc-rules.yml")).unwrap();
        let out = promtool(&["check", "rules", rules.to_str().unwrap()]);
        assert!(out.status.success() && text(&out.stdout).contains("SUCCESS: 3 rules found"), "{}{}", text(&out.stdout), text(&out.stderr));
        let config = d.join("prometheus.yml");
        std::fs::write(&config, format!("{}rule_files: ['{}']\n", readme_block("prometheus.yml"), rules.display())).unwrap();
        let out = promtool(&["check", "config", config.to_str().unwrap()]);
        assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    }
}

/// One scrape's whole answer, and how long it took.
fn timed_get(e: &Exporter, request: &str) -> (String, Duration) {
    let t0 = Instant::now();
    let a = e.ask(request.as_bytes());
    (a, t0.elapsed())
}

#[test]
fn many_idle_clients_and_a_slow_reader_cost_a_scrape_nothing() {
    let d = TempDir::new("exp-many");
    let ids: Vec<String> = (0..20_000).map(|k| format!("session-{k:05}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let _w = Server::bytes(&d.join("w.sock"), worker_payload("one", &ids));
    let e = Exporter::start(&["--socket", d.path().to_str().unwrap(), "--per-session", "20000"]);
    let (_, quiet) = timed_get(&e, "GET /metrics HTTP/1.1\r\n\r\n");
    // 200 clients that connect and say nothing (more than the exporter
    // keeps open: the oldest go), and one that takes a large answer 4 KB at
    // a time.
    let idle: Vec<TcpStream> = (0..200).map(|_| e.connect()).collect();
    let mut slow = e.connect();
    slow.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").unwrap();
    let mut got = [0u8; 4096];
    slow.read_exact(&mut got).unwrap();
    assert!(got.starts_with(b"HTTP/1.1 200 OK"));
    let (m, busy) = timed_get(&e, "GET /metrics HTTP/1.1\r\n\r\n");
    assert!(m.starts_with("HTTP/1.1 200 OK") && m.contains("openrtc_up{worker=\"one\"} 1"), "{}", &m[..m.len().min(300)]);
    // Not 2 s per idle client, nor the slow reader's pace: about one scrape.
    assert!(busy < quiet * 4 + Duration::from_millis(500), "quiet {quiet:?}, with 200 idle and a slow reader {busy:?}");
    drop(idle);
    let _ = slow.read_exact(&mut got);
}

#[test]
fn the_scrapers_timeout_is_kept_and_a_blocked_worker_costs_no_scrape() {
    let d = TempDir::new("exp-timeout");
    let _ok = Server::bytes(&d.join("ok.sock"), worker_payload("ok", &["s1"]));
    let hung = Server::hung(&d.join("hung.sock"), Duration::from_secs(30));
    let e = Exporter::start(&["--socket", d.path().to_str().unwrap()]);
    let scrape = "GET /metrics HTTP/1.1\r\nX-Prometheus-Scrape-Timeout-Seconds: 0.5\r\n\r\n";
    let mut blocked_for: Vec<f64> = Vec::new();
    let t0 = Instant::now();
    // Scrapes every 100 ms until the worker counts as blocked (1 s before
    // its first answer), and twice more.
    while blocked_for.iter().filter(|&&b| b > 0.0).count() < 3 {
        assert!(t0.elapsed() < Duration::from_secs(10), "never blocked: {blocked_for:?}");
        let (m, took) = timed_get(&e, scrape);
        assert!(took < Duration::from_millis(500), "a scrape took {took:?}");
        // The good worker's data, every time; the hung one not up.
        assert!(m.contains("\nopenrtc_up{worker=\"ok\"} 1\n") && m.contains("\nopenrtc_up{worker=\"hung\"} 0\n"), "{m}");
        assert!(m.contains("openrtc_sessions{worker=\"ok\""), "{m}");
        let line = m.lines().find(|l| l.starts_with("openrtc_loop_blocked_seconds{worker=\"hung\"} ")).unwrap();
        blocked_for.push(line.rsplit(' ').next().unwrap().parse::<f64>().unwrap());
        assert!(m.contains("openrtc_loop_blocked_seconds{worker=\"ok\"} 0\n"), "{m}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Its one fetch waits on from scrape to scrape: one connection, a block
    // counted once, the gauge rising.
    assert_eq!(hung.count(), 1, "the blocked worker was connected to again");
    let rising: Vec<f64> = blocked_for.iter().copied().filter(|&b| b > 0.0).collect();
    assert!(rising.windows(2).all(|w| w[1] > w[0]), "a gauge that does not rise at each scrape: {blocked_for:?}");
    let (m, _) = timed_get(&e, scrape);
    assert!(m.contains("openrtc_loop_blocks_total{worker=\"hung\"} 1\n") && m.contains("openrtc_loop_blocks_total{worker=\"ok\"} 0\n"), "{m}");
}

#[test]
fn accept_q_0_and_an_absolute_url_are_honoured() {
    let d = TempDir::new("exp-accept");
    let _w = Server::bytes(&d.join("w.sock"), worker_payload("one", &["s1"]));
    let e = Exporter::start(&["--socket", d.path().to_str().unwrap()]);
    let text = e.ask(b"GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text;q=0, text/plain\r\n\r\n");
    assert!(text.contains("Content-Type: text/plain; version=0.0.4") && !text.contains("# EOF"), "{text}");
    let abs = e.ask(b"GET http://localhost:9100/metrics HTTP/1.1\r\n\r\n");
    assert!(abs.starts_with("HTTP/1.1 200 OK") && abs.contains("openrtc_up{worker=\"one\"} 1"), "{abs}");
}
