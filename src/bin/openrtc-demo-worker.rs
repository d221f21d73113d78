//! openrtc-demo-worker: a simulated openrtc coroutine-mode worker serving the
//! introspection socket, for `make demo`, the tests and the benchmarks.
//!
//! std only. It speaks the current payload shape exactly as openrtc 0.20.1's
//! `json.dumps` writes it (`", "`/`": "` separators, non-ASCII as `\uXXXX`).
//! Sessions start and end over time across a few agents and tenants, CPU and
//! memory shares drift, one session turns `slow` now and then, and the worker
//! vitals come from /proc when it is there. Like the real worker, it samples
//! once per connection, on one thread (the accept loop is nonblocking so
//! that `--run` can also watch its child), and a block of that thread
//! (`--block`) leaves connections waiting in the backlog, as a session that
//! blocks openrtc's asyncio loop does. With `--workers N` it is N worker
//! processes on N sockets in one directory, as a host runs them: different
//! loads, one whose loop blocks by sleeping, one by spinning, one that
//! restarts.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const HELP: &str = "\
openrtc-demo-worker: a simulated openrtc worker serving the introspection socket

Usage: openrtc-demo-worker [OPTIONS] [--run CMD [ARGS...]]

Options:
  --socket PATH      where to serve [default: a new private temporary directory]
                     (with --workers: the directory to serve in)
  --workers N        N worker processes, each on its own socket (worker-1.sock
                     ...) in one directory: different loads; the second blocks
                     its loop by sleeping, the third by spinning on the CPU,
                     the fourth (of 4 or more) restarts every 30 s
  --block HOW        every 20 s, block the loop for 5 s: 'sleep' (in the
                     kernel, as time.sleep does) or 'spin' (on the CPU, as a
                     CPU-bound call does); a session is slow after it
  --block-after SECS the first block this long after the start [default: 8,
                     for spin 14]
  --block-for SECS   how long each block lasts [default: 5]
  --name NAME        the worker's name in its payload [default: demo-worker]
  --sessions N       pool size to hover around [default: 40]
  --max-sessions N   the worker's max_sessions [default: 64]
  --seed N           random seed [default: from the clock]
  --payload FILE     serve FILE's bytes verbatim on every connection
  --dump             print one payload to stdout and exit
  --flap SECS        go away for 0.3 s every SECS seconds and come back with a
                     new pool (a worker that keeps restarting)
  --exit-after SECS  stop serving after SECS seconds
  --run CMD ARGS...  run CMD with '--socket PATH' appended while serving; exit
                     with its status and remove the socket when it ends
                     (with --workers, PATH is the directory)
";

/// How a worker blocks its loop.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Block {
    Sleep,
    Spin,
}

impl Block {
    fn name(self) -> &'static str {
        match self {
            Block::Sleep => "sleep",
            Block::Spin => "spin",
        }
    }
}

/// Every this long the loop blocks, for this long; a spinning worker's
/// blocks come half a period after a sleeping one's.
const BLOCK_EVERY: f64 = 20.0;
const BLOCK_LASTS: f64 = 5.0;

struct Opts {
    socket: Option<PathBuf>,
    sessions: usize,
    max_sessions: usize,
    seed: u64,
    payload: Option<Vec<u8>>,
    dump: bool,
    flap: Option<f64>,
    exit_after: Option<f64>,
    workers: Option<usize>,
    block: Option<Block>,
    block_after: Option<f64>,
    block_for: f64,
    name: String,
    /// Started by `--workers`: end with the parent.
    child: bool,
    run: Vec<String>,
}

fn parse_opts() -> Result<Opts, String> {
    let mut o = Opts {
        socket: None,
        sessions: 40,
        max_sessions: 64,
        seed: SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1,
        payload: None,
        dump: false,
        flap: None,
        exit_after: None,
        workers: None,
        block: None,
        block_after: None,
        block_for: BLOCK_LASTS,
        name: "demo-worker".into(),
        child: false,
        run: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or(format!("missing value for '{name}'"));
        match a.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                std::process::exit(0);
            }
            "--socket" => o.socket = Some(PathBuf::from(val("--socket")?)),
            "--sessions" => o.sessions = num(&val("--sessions")?, "--sessions")?,
            "--max-sessions" => o.max_sessions = num(&val("--max-sessions")?, "--max-sessions")?,
            "--seed" => o.seed = num::<u64>(&val("--seed")?, "--seed")? | 1,
            "--payload" => {
                let f = val("--payload")?;
                o.payload = Some(std::fs::read(&f).map_err(|e| format!("cannot read '{f}': {e}"))?);
            }
            "--dump" => o.dump = true,
            "--flap" => o.flap = Some(num(&val("--flap")?, "--flap")?),
            "--exit-after" => o.exit_after = Some(num(&val("--exit-after")?, "--exit-after")?),
            "--workers" => match num::<usize>(&val("--workers")?, "--workers")? {
                n @ 1..=256 => o.workers = Some(n),
                n => return Err(format!("invalid value '{n}' for '--workers': expected 1 to 256")),
            },
            "--block" => match val("--block")?.as_str() {
                "sleep" => o.block = Some(Block::Sleep),
                "spin" => o.block = Some(Block::Spin),
                v => return Err(format!("invalid value '{v}' for '--block': expected 'sleep' or 'spin'")),
            },
            "--block-after" => o.block_after = Some(num(&val("--block-after")?, "--block-after")?),
            "--block-for" => o.block_for = num(&val("--block-for")?, "--block-for")?,
            "--name" => o.name = val("--name")?,
            "--child" => o.child = true,
            "--run" => {
                o.run = args.collect();
                if o.run.is_empty() {
                    return Err("missing command for '--run'".into());
                }
                break;
            }
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    Ok(o)
}

fn num<T: std::str::FromStr>(v: &str, flag: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("invalid value '{v}' for '{flag}'"))
}

/// A signal asking us to stop (SIGTERM, SIGINT, SIGHUP when the terminal
/// closes): the socket and its directory are removed first.
static STOP: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn on_stop(sig: libc::c_int) {
    STOP.store(sig, std::sync::atomic::Ordering::SeqCst);
}

fn catch_stop_signals() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_stop as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

fn stop_signal() -> Option<i32> {
    match STOP.load(std::sync::atomic::Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

fn main() -> ExitCode {
    let o = match parse_opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("openrtc-demo-worker: {e}");
            return ExitCode::from(2);
        }
    };
    if o.child {
        // SAFETY: prctl(2) with an integer argument: SIGTERM when the
        // parent (the --workers supervisor) dies, however it dies.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) };
    }
    let mut sim = Sim::new(o.seed, o.sessions, o.max_sessions, &o.name);
    if o.dump {
        let mut out = io::stdout().lock();
        return match out.write_all(&sim.payload()).and_then(|()| out.flush()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    let (path, private_dir) = match &o.socket {
        Some(p) => (p.clone(), None),
        None => match private_dir() {
            Ok(d) if o.workers.is_some() => (d.clone(), Some(d)),
            Ok(d) => (d.join("top.sock"), Some(d)),
            Err(e) => {
                eprintln!("openrtc-demo-worker: cannot create a private directory: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    catch_stop_signals();
    let done = match o.workers {
        Some(n) => supervise(&o, n, &path),
        None => {
            let mut w = Served { path: path.clone(), listener: None, sim, block: o.block, flap: o.flap };
            let code = serve(&o, &mut w, &path);
            let _ = std::fs::remove_file(&w.path);
            code
        }
    };
    let code = done.unwrap_or_else(|e| {
        eprintln!("openrtc-demo-worker: {}: {e}", path.display());
        ExitCode::FAILURE
    });
    if let Some(d) = private_dir {
        let _ = std::fs::remove_dir(d);
    }
    if let Some(sig) = stop_signal() {
        // Cleaned up: now end as the signal asked, so the shell knows.
        // SAFETY: back to the default action, then raise it.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }
    code
}

fn private_dir() -> io::Result<PathBuf> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let d = std::env::temp_dir().join(format!("openrtc-demo-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&d)?;
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700))?;
    Ok(d)
}

fn bind(path: &Path) -> io::Result<UnixListener> {
    let _ = std::fs::remove_file(path);
    let l = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// `--workers N`: one process per worker (so that one blocking its loop
/// blocks only itself, with a pid of its own), the viewer run on the
/// directory once every socket is there; all stopped together.
fn supervise(o: &Opts, n: usize, dir: &Path) -> io::Result<ExitCode> {
    let exe = std::env::current_exe()?;
    let mut workers: Vec<Child> = Vec::new();
    let stop_all = |workers: &mut Vec<Child>| {
        for c in workers.iter_mut() {
            // SAFETY: kill(2) on our own child.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        }
        for c in workers.iter_mut() {
            let _ = c.wait();
        }
    };
    for k in 0..n {
        // Loads from a third of --sessions to twice it.
        let target = (o.sessions * (k + 1) * 2 / n).max(o.sessions / 3).max(1);
        let mut cmd = Command::new(&exe);
        cmd.arg("--child").arg("--socket").arg(dir.join(format!("worker-{}.sock", k + 1)));
        cmd.args(["--name", &format!("demo-{}", k + 1), "--sessions", &target.to_string()]);
        cmd.args(["--max-sessions", &o.max_sessions.max(target * 5 / 4).to_string()]);
        cmd.args(["--seed", &o.seed.wrapping_add(k as u64 * 7919).to_string()]);
        match k {
            1 => cmd.args(["--block", "sleep"]),
            2 => cmd.args(["--block", "spin"]),
            _ if n >= 4 && k == n - 1 => cmd.args(["--flap", "30"]),
            _ => &mut cmd,
        };
        if let Some(s) = o.exit_after {
            cmd.args(["--exit-after", &s.to_string()]);
        }
        match cmd.spawn() {
            Ok(c) => workers.push(c),
            Err(e) => {
                stop_all(&mut workers);
                return Err(e);
            }
        }
    }
    // Every socket bound before the viewer looks (a few ms each).
    let until = Instant::now() + Duration::from_secs(5);
    while (1..=n).any(|k| !dir.join(format!("worker-{k}.sock")).exists()) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut viewer = match o.run.split_first() {
        Some((cmd, args)) => Some(Command::new(cmd).args(args).arg("--socket").arg(dir).spawn()?),
        None => None,
    };
    let code = loop {
        if let Some(sig) = stop_signal() {
            if let Some(v) = viewer.as_mut() {
                stop_viewer(v, sig)?;
            }
            break ExitCode::FAILURE;
        }
        if let Some(status) = viewer.as_mut().map(Child::try_wait).transpose()?.flatten() {
            break ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8);
        }
        if workers.iter_mut().all(|c| c.try_wait().ok().flatten().is_some()) {
            break ExitCode::SUCCESS;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    stop_all(&mut workers);
    Ok(code)
}

/// The viewer gets the signal we got (it restores its terminal and ends);
/// wait for it briefly so that it does so before we go.
fn stop_viewer(c: &mut Child, sig: i32) -> io::Result<()> {
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(c.id() as i32, sig) };
    let until = Instant::now() + Duration::from_secs(2);
    while c.try_wait()?.is_none() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// One simulated worker: its socket, its pool, and how it misbehaves.
struct Served {
    path: PathBuf,
    listener: Option<UnixListener>,
    sim: Sim,
    /// Block the loop now and then (connections wait in the backlog).
    block: Option<Block>,
    /// Every so many seconds, go away for 0.3 s and come back with a new pool.
    flap: Option<f64>,
}

/// Hold this thread as a session blocking the loop would: in the kernel
/// (`sleep`) or on the CPU (`spin`).
fn block_for(how: Block, secs: f64) {
    let until = Instant::now() + Duration::from_secs_f64(secs);
    match how {
        Block::Sleep => std::thread::sleep(Duration::from_secs_f64(secs)),
        Block::Spin => {
            let mut x = 0u64;
            while Instant::now() < until {
                for i in 0..10_000u64 {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                }
            }
        }
    }
}

/// Serve one worker on this thread; `shown` is what `--run` is given.
fn serve(o: &Opts, w: &mut Served, shown: &Path) -> io::Result<ExitCode> {
    w.listener = Some(bind(&w.path)?);
    let how = w.block.map_or(String::new(), |b| format!(" (its loop blocks by {} for {} s every {BLOCK_EVERY} s)", b.name(), o.block_for));
    eprintln!("openrtc-demo-worker: pid {} serving {} sessions on {}{how}", std::process::id(), w.sim.sessions.len(), w.path.display());
    let mut child: Option<Child> = None;
    if let Some((cmd, args)) = o.run.split_first() {
        child = Some(Command::new(cmd).args(args).arg("--socket").arg(shown).spawn()?);
    }
    let start = Instant::now();
    let mut flap_at = w.flap.map(|s| start + Duration::from_secs_f64(s));
    // The first block a few seconds in (a spinning worker's later).
    let first = |b: Block| o.block_after.unwrap_or(if b == Block::Sleep { 8.0 } else { 14.0 });
    let mut block_at = w.block.map(|b| start + Duration::from_secs_f64(first(b)));
    let mut restarts = 0u64;
    loop {
        if let Some(sig) = stop_signal() {
            if let Some(c) = child.as_mut() {
                stop_viewer(c, sig)?;
            }
            return Ok(ExitCode::FAILURE);
        }
        if let Some(c) = child.as_mut() {
            if let Some(status) = c.try_wait()? {
                return Ok(ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8));
            }
        }
        if o.exit_after.is_some_and(|s| start.elapsed().as_secs_f64() >= s) {
            return Ok(ExitCode::SUCCESS);
        }
        if let (Some(when), Some(secs)) = (flap_at, w.flap) {
            if Instant::now() >= when {
                // A restart: the socket disappears, then a new pool binds it.
                drop(w.listener.take());
                let _ = std::fs::remove_file(&w.path);
                std::thread::sleep(Duration::from_millis(300));
                w.sim = Sim::new(w.sim.rng.next() | 1, w.sim.target, w.sim.max_sessions, &w.sim.name.clone());
                w.listener = Some(bind(&w.path)?);
                restarts += 1;
                eprintln!("openrtc-demo-worker: restart {restarts}");
                flap_at = Some(Instant::now() + Duration::from_secs_f64(secs));
            }
        }
        if let (Some(when), Some(how)) = (block_at, w.block) {
            if Instant::now() >= when {
                block_for(how, o.block_for);
                // As openrtc: the answer built right after the block does
                // not yet show its culprit slow; the next one does.
                w.sim.blame(1);
                block_at = Some(when + Duration::from_secs_f64(BLOCK_EVERY.max(o.block_for + 1.0)));
            }
        }
        let Some(l) = w.listener.as_ref() else { continue };
        match l.accept() {
            // A fixed payload is written from where it is (it can be tens of
            // megabytes), not copied per connection.
            Ok((stream, _)) => {
                let _ = match &o.payload {
                    Some(p) => send(stream, p),
                    None => send(stream, &w.sim.payload()),
                };
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(e),
        }
    }
}

fn send(mut stream: UnixStream, bytes: &[u8]) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(bytes)
}

// ---------------------------------------------------------------------------
// The simulated pool.

const AGENTS: [&str; 4] = ["support", "booking", "sales", "triage"];
const TENANTS: [Option<&str>; 6] =
    [Some("acme"), Some("globex"), Some("initech"), Some("umbrella"), Some("m\u{fc}nchen-gmbh"), None];
const MEAN_LIFE_S: f64 = 90.0;
/// The simulated worker has been up this long when the demo starts (its
/// sessions are minutes old; an uptime of 0 beside them would be a lie).
const UPTIME_AT_START_S: f64 = 3.0 * 3600.0 + 25.0 * 60.0;

struct SimSession {
    id: String,
    agent: &'static str,
    tenant: Option<&'static str>,
    started: f64,
    cpu: f64,
    peak: f64,
    slow_until: f64,
}

struct Sim {
    name: String,
    rng: Rng,
    t0: Instant,
    last: f64,
    target: usize,
    max_sessions: usize,
    sessions: Vec<SimSession>,
    started: u64,
    failed: u64,
    next_slow: f64,
    history: VecDeque<f64>,
    host: Host,
    /// A session just blocked the loop: this many answers later it shows
    /// `slow` (for 5 s).
    culprit: Option<u8>,
}

impl Sim {
    fn new(seed: u64, target: usize, max_sessions: usize, name: &str) -> Sim {
        let mut sim = Sim {
            name: name.to_string(),
            rng: Rng(seed),
            t0: Instant::now(),
            last: 0.0,
            target,
            max_sessions: max_sessions.max(target),
            sessions: Vec::new(),
            started: 0,
            failed: 0,
            next_slow: 2.0,
            history: VecDeque::new(),
            host: Host::default(),
            culprit: None,
        };
        for _ in 0..target {
            // A pool that has been running a while: sessions of mixed ages.
            let age = sim.rng.unit() * MEAN_LIFE_S * 2.0;
            sim.spawn(-age);
        }
        sim
    }

    /// A session blocked the loop: `after` answers from now, it is slow.
    fn blame(&mut self, after: u8) {
        self.culprit = Some(after);
    }

    fn spawn(&mut self, at: f64) {
        let id: String = (0..12).map(|_| BASE62[(self.rng.next() % 62) as usize] as char).collect();
        let agent = AGENTS[(self.rng.next() % AGENTS.len() as u64) as usize];
        let tenant = TENANTS[(self.rng.next() % TENANTS.len() as u64) as usize];
        let cpu = self.rng.unit() * 8.0;
        self.sessions.push(SimSession { id: format!("AJ_{id}"), agent, tenant, started: at, cpu, peak: 0.0, slow_until: 0.0 });
        self.started += 1;
    }

    fn advance(&mut self) {
        let now = self.t0.elapsed().as_secs_f64();
        let dt = (now - self.last).clamp(0.0, 10.0);
        self.last = now;
        // Sessions end at random; new ones arrive to keep the pool near target.
        let p_end = dt / MEAN_LIFE_S * if self.sessions.len() > self.target { 1.6 } else { 1.0 };
        let before = self.sessions.len();
        let rng = &mut self.rng;
        self.sessions.retain(|_| rng.unit() >= p_end);
        let ended = before - self.sessions.len();
        let mut arrivals = ended;
        // The pool breathes between about 75% and 125% of its target size.
        let goal = (self.target as f64 * (1.0 + 0.25 * (now / 40.0).sin())).round() as usize;
        if self.sessions.len() < goal && self.rng.unit() < dt {
            arrivals += 1;
        }
        for _ in 0..arrivals {
            if self.sessions.len() < self.max_sessions {
                if self.rng.unit() < 0.03 {
                    self.failed += 1;
                } else {
                    self.spawn(now);
                }
            }
        }
        for s in &mut self.sessions {
            let drift = (self.rng.unit() - 0.5) * 6.0 * dt.sqrt().max(0.3);
            s.cpu = (s.cpu + drift).clamp(0.0, 35.0);
        }
        // The session that blocked the loop, as openrtc's detector sees it.
        match self.culprit {
            Some(0) if !self.sessions.is_empty() => {
                let i = (self.rng.next() % self.sessions.len() as u64) as usize;
                self.sessions[i].slow_until = now + 5.0;
                self.culprit = None;
            }
            Some(n) => self.culprit = Some(n.saturating_sub(1)),
            None => {}
        }
        // Now and then one session blocks the loop and is `slow` for ~5 s.
        if now >= self.next_slow && !self.sessions.is_empty() {
            let i = (self.rng.next() % self.sessions.len() as u64) as usize;
            self.sessions[i].slow_until = now + 5.0;
            self.next_slow = now + 8.0 + self.rng.unit() * 10.0;
        }
        self.host.sample();
        self.history.push_back(self.host.cpu_pct.unwrap_or_else(|| 20.0 + self.rng.unit() * 30.0));
        if self.history.len() > 60 {
            self.history.pop_front();
        }
    }

    fn payload(&mut self) -> Vec<u8> {
        self.advance();
        let now = self.last;
        let n = self.sessions.len().max(1) as f64;
        // Equal-share memory, as openrtc computes it: process RSS / sessions.
        let rss_mb = 180.0 + 6.5 * n + self.rng.unit() * 12.0;
        let share = round1(rss_mb / n);
        let mut b = String::with_capacity(256 + 200 * self.sessions.len());
        b.push_str("{\"worker\": {\"name\": ");
        pystr(&mut b, &self.name);
        b.push_str(", \"uptime_s\": ");
        b.push_str(&pyfloat(UPTIME_AT_START_S + now));
        b.push_str(&format!(
            ", \"active_sessions\": {}, \"max_sessions\": {}, \"started\": {}, \"failed\": {}, \"draining\": false, \"system\": ",
            self.sessions.len(),
            self.max_sessions,
            self.started,
            self.failed
        ));
        self.host.write_json(&mut b, self.history.back().copied());
        b.push_str(", \"cpu_history\": [");
        for (i, v) in self.history.iter().enumerate() {
            if i > 0 {
                b.push_str(", ");
            }
            b.push_str(&pyfloat(round1(*v)));
        }
        b.push_str("]}, \"sessions\": [");
        // Shares of one process's CPU time: together at most 100%.
        let cpu_of = |s: &SimSession| if s.slow_until > now { (s.cpu + 40.0).min(95.0) } else { s.cpu };
        let total: f64 = self.sessions.iter().map(cpu_of).sum();
        let scale = if total > 90.0 { 90.0 / total } else { 1.0 };
        for (i, s) in self.sessions.iter_mut().enumerate() {
            s.peak = s.peak.max(share);
            let slow = s.slow_until > now;
            let cpu = cpu_of(s) * scale;
            if i > 0 {
                b.push_str(", ");
            }
            b.push_str("{\"session_id\": ");
            pystr(&mut b, &s.id);
            b.push_str(", \"agent_name\": ");
            pystr(&mut b, s.agent);
            b.push_str(", \"tenant\": ");
            match s.tenant {
                Some(t) => pystr(&mut b, t),
                None => b.push_str("null"),
            }
            b.push_str(&format!(
                ", \"duration_s\": {}, \"mem_mb\": {}, \"peak_mb\": {}, \"cpu_pct\": {}, \"status\": \"{}\", \"pinned\": false}}",
                pyfloat(round1(now - s.started)),
                pyfloat(share),
                pyfloat(s.peak),
                pyfloat(round1(cpu)),
                if slow { "slow" } else { "active" }
            ));
        }
        b.push_str("]}\n");
        b.into_bytes()
    }
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Python's float repr for ordinary values: always a decimal point.
fn pyfloat(v: f64) -> String {
    format!("{v:?}")
}

/// Python's `json.dumps` string: ASCII only, `\uXXXX` (surrogate pairs
/// outside the BMP).
fn pystr(b: &mut String, s: &str) {
    b.push('"');
    for c in s.chars() {
        match c {
            '"' => b.push_str("\\\""),
            '\\' => b.push_str("\\\\"),
            '\n' => b.push_str("\\n"),
            '\r' => b.push_str("\\r"),
            '\t' => b.push_str("\\t"),
            c if (c as u32) < 0x20 || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    b.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => b.push(c),
        }
    }
    b.push('"');
}

/// xorshift64*: small, deterministic for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Host vitals read from /proc when available (all null otherwise, as a
/// worker without psutil reports them).
#[derive(Default)]
struct Host {
    available: bool,
    prev_cpu: Option<(u64, u64)>,
    prev_net: Option<(u64, Instant)>,
    cpu_pct: Option<f64>,
    mem_used: Option<u64>,
    mem_total: Option<u64>,
    swap_used: Option<u64>,
    swap_total: Option<u64>,
    load: Option<(f64, f64, f64)>,
    net_rate: Option<f64>,
}

impl Host {
    fn sample(&mut self) {
        let read = |p: &str| std::fs::read_to_string(p).ok();
        self.available = read("/proc/stat").is_some();
        if let Some(stat) = read("/proc/stat") {
            let f: Vec<u64> = stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
            let total: u64 = f.iter().sum();
            let idle = f.get(3).copied().unwrap_or(0) + f.get(4).copied().unwrap_or(0);
            match self.prev_cpu {
                // Connects a few jiffies apart would read as 0% or 100%: keep
                // the last figure until enough ticks have passed.
                Some((pt, pi)) if total.saturating_sub(pt) >= 20 => {
                    let (dt, di) = (total - pt, idle.saturating_sub(pi));
                    self.cpu_pct = Some(round1(100.0 * (dt - di.min(dt)) as f64 / dt as f64));
                    self.prev_cpu = Some((total, idle));
                }
                Some(_) => {}
                None => self.prev_cpu = Some((total, idle)),
            }
        }
        if let Some(mem) = read("/proc/meminfo") {
            let kb = |key: &str| {
                mem.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<u64>().ok()).map(|v| v * 1024)
            };
            self.mem_total = kb("MemTotal:");
            self.mem_used = match (self.mem_total, kb("MemAvailable:")) {
                (Some(t), Some(a)) => Some(t.saturating_sub(a)),
                _ => None,
            };
            self.swap_total = kb("SwapTotal:");
            self.swap_used = match (self.swap_total, kb("SwapFree:")) {
                (Some(t), Some(f)) => Some(t.saturating_sub(f)),
                _ => None,
            };
        }
        if let Some(l) = read("/proc/loadavg") {
            let v: Vec<f64> = l.split_whitespace().take(3).filter_map(|x| x.parse().ok()).collect();
            self.load = (v.len() == 3).then(|| (v[0], v[1], v[2]));
        }
        if let Some(dev) = read("/proc/net/dev") {
            let total: u64 = dev
                .lines()
                .skip(2)
                .filter_map(|l| {
                    let f: Vec<u64> = l.split(':').nth(1)?.split_whitespace().filter_map(|x| x.parse().ok()).collect();
                    Some(f.first()? + f.get(8)?)
                })
                .sum();
            let now = Instant::now();
            self.net_rate = self.prev_net.and_then(|(prev, at)| {
                let secs = now.duration_since(at).as_secs_f64();
                (secs > 0.0).then(|| total.saturating_sub(prev) as f64 / secs)
            });
            self.prev_net = Some((total, now));
        }
    }

    fn write_json(&self, b: &mut String, cpu: Option<f64>) {
        let opt_u = |v: Option<u64>| v.map_or("null".to_string(), |v| v.to_string());
        let opt_f = |v: Option<f64>| v.map_or("null".to_string(), pyfloat);
        if !self.available {
            b.push_str("{\"available\": false, \"cpu_pct\": null, \"vcpus\": null, \"mem_used_bytes\": null, \"mem_total_bytes\": null, \"swap_used_bytes\": null, \"swap_total_bytes\": null, \"load1\": null, \"load5\": null, \"load15\": null, \"net_rate_bps\": null}");
            return;
        }
        let vcpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (l1, l5, l15) = match self.load {
            Some((a, b, c)) => (Some(a), Some(b), Some(c)),
            None => (None, None, None),
        };
        b.push_str(&format!(
            "{{\"available\": true, \"cpu_pct\": {}, \"vcpus\": {vcpus}, \"mem_used_bytes\": {}, \"mem_total_bytes\": {}, \"swap_used_bytes\": {}, \"swap_total_bytes\": {}, \"load1\": {}, \"load5\": {}, \"load15\": {}, \"net_rate_bps\": {}}}",
            opt_f(cpu),
            opt_u(self.mem_used),
            opt_u(self.mem_total),
            opt_u(self.swap_used),
            opt_u(self.swap_total),
            opt_f(l1),
            opt_f(l5),
            opt_f(l15),
            opt_f(self.net_rate.map(round1)),
        ));
    }
}
