//! Soak: the live view in a pseudo-terminal against a worker that restarts
//! every second and serves a changing pool. No crash, flat resident memory,
//! every restart recovered. Not part of `make test`; run `make soak`
//! (SOAK_SECONDS, default 600).


use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::util::pty::Live;
use crate::util::*;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
#[ignore = "ten minutes; run with make soak"]
fn soak_against_a_restarting_worker() {
    let secs: u64 = std::env::var("SOAK_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    let d = TempDir::new("soak");
    let path = d.join("top.sock");
    let mut worker = Command::new(DEMO)
        .args(["--socket", path.to_str().unwrap(), "--flap", "1", "--sessions", "200", "--max-sessions", "400", "--seed", "42"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let restarts = Arc::new(AtomicU64::new(0));
    let r = restarts.clone();
    let err = worker.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if line.contains(": restart ") {
                r.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let mut t = Live::start(BIN, &["--socket", path.to_str().unwrap(), "--refresh-rate", "10"], &[], 120, 40);
    t.wait_for("the first rows", Duration::from_secs(10), |s| s.iter().any(|l| l.starts_with("AJ_")));
    std::thread::sleep(Duration::from_secs(3)); // past start-up allocations
    let pid = t.child.id();
    let rss_start = rss_kib(pid);
    let (mut rss_max, mut samples) = (rss_start, vec![rss_start]);
    let (mut outages, mut recoveries) = (0u64, 0u64);
    let (mut stale_since, mut longest) = (None::<Instant>, Duration::ZERO);
    let restarts_before = restarts.load(Ordering::Relaxed);
    let start = Instant::now();
    let mut next_sample = start + Duration::from_secs(10);
    while start.elapsed() < Duration::from_secs(secs) {
        assert!(t.child.try_wait().unwrap().is_none(), "openrtc-top died");
        let stale = t.screen().iter().any(|l| l.contains(": retrying"));
        match (stale, stale_since) {
            (true, None) => {
                outages += 1;
                stale_since = Some(Instant::now());
            }
            (false, Some(since)) => {
                recoveries += 1;
                longest = longest.max(since.elapsed());
                stale_since = None;
            }
            (true, Some(since)) => assert!(since.elapsed() < Duration::from_secs(5), "not recovered after 5 s"),
            (false, None) => {}
        }
        if Instant::now() >= next_sample {
            let r = rss_kib(pid);
            rss_max = rss_max.max(r);
            samples.push(r);
            next_sample += Duration::from_secs(10);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let restarts = restarts.load(Ordering::Relaxed) - restarts_before;
    let recovered_at_end = t.wait_for("recovery at the end", Duration::from_secs(5), |s| !s.iter().any(|l| l.contains(": retrying")));
    assert!(recovered_at_end.iter().any(|l| l.starts_with("AJ_")));
    if stale_since.is_some() {
        recoveries += 1;
    }
    let rss_end = rss_kib(pid);
    t.send(b"q");
    assert_eq!(t.wait_exit(Duration::from_secs(5)).code(), Some(0));
    assert_eq!(t.pty.stty(), t.before, "terminal restored after the soak");
    let _ = worker.kill();
    let _ = worker.wait();
    println!(
        "soak: {secs} s, {restarts} worker restarts, {outages} outages seen on screen, {recoveries} recovered \
         (longest {:.2} s); RSS start {rss_start} KiB, end {rss_end} KiB, max {rss_max} KiB over {} samples",
        longest.as_secs_f64(),
        samples.len()
    );
    println!("soak: RSS every 10 s (KiB): {samples:?}");
    assert!(restarts >= secs / 2, "the worker restarted only {restarts} times");
    assert!(outages * 10 >= restarts * 9, "saw {outages} outages for {restarts} restarts");
    assert_eq!(outages, recoveries, "every outage recovered");
    // Flat: the end is within 512 KiB (or 10%) of the start.
    let slack = (rss_start / 10).max(512);
    assert!(rss_end <= rss_start + slack, "RSS grew from {rss_start} KiB to {rss_end} KiB");
}
