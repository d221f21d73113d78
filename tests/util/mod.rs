//! Shared helpers for the integration tests: temporary directories, a real
//! Unix socket server with scripted behaviour, running the built binary,
//! waiting for events, one seeded RNG, and (in `payload`) the one payload
//! builder.
#![allow(dead_code)]

pub mod payload;
pub mod reference;
pub mod pty;

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_openrtc-top");
pub const DEMO: &str = env!("CARGO_BIN_EXE_openrtc-demo-worker");

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)).unwrap()
}

/// A directory removed on drop (0700, like the worker's own).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::os::unix::fs::PermissionsExt;
        static N: AtomicUsize = AtomicUsize::new(0);
        let d = std::env::temp_dir().join(format!(
            "ortop-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        TempDir(d)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the server does with each accepted connection.
pub type Behaviour = Arc<dyn Fn(UnixStream) + Send + Sync>;

/// A real UnixListener on its own thread; stops (and unlinks) on drop.
pub struct Server {
    pub path: PathBuf,
    stop: Arc<AtomicBool>,
    pub connections: Arc<AtomicUsize>,
    /// When each connection was accepted.
    pub times: Arc<std::sync::Mutex<Vec<Instant>>>,
    handle: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start(path: &Path, behaviour: Behaviour) -> Server {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let times = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (s, c, t) = (stop.clone(), connections.clone(), times.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        t.lock().unwrap().push(Instant::now());
                        c.fetch_add(1, Ordering::Relaxed);
                        stream.set_nonblocking(false).unwrap();
                        let b = behaviour.clone();
                        std::thread::spawn(move || b(stream));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Server { path: path.to_path_buf(), stop, connections, times, handle: Some(handle) }
    }

    /// Serve these bytes, then close.
    pub fn bytes(path: &Path, payload: Vec<u8>) -> Server {
        Server::start(path, Arc::new(move |mut s: UnixStream| {
            let _ = s.write_all(&payload);
        }))
    }

    /// Serve whatever the returned cell holds at each connection.
    pub fn swappable(path: &Path, first: Vec<u8>) -> (Server, Arc<std::sync::Mutex<Vec<u8>>>) {
        let cell = Arc::new(std::sync::Mutex::new(first));
        let c = cell.clone();
        let s = Server::start(path, Arc::new(move |mut s: UnixStream| {
            let bytes = c.lock().unwrap().clone();
            let _ = s.write_all(&bytes);
        }));
        (s, cell)
    }

    /// A server that accepts and never answers (a hung worker): each
    /// connection is held for `hold`, then closed.
    pub fn hung(path: &Path, hold: Duration) -> Server {
        Server::start(path, Arc::new(move |s: UnixStream| {
            std::thread::sleep(hold);
            drop(s);
        }))
    }

    pub fn count(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Wait until the server has accepted at least `n` connections.
    pub fn wait_count(&self, n: usize, timeout: Duration) {
        wait_until(&format!("{n} connections (have {})", self.count()), timeout, || self.count() >= n);
    }
}

/// Poll `cond` until it holds, or fail saying what was awaited.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Run the binary with `args` (and a clean colour environment) to completion,
/// killing it if it outlives `limit`.
pub fn run_with(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Output {
    run_program(BIN, args, env, limit)
}

/// `run_with` for another program (`sh -c` around the binary, say).
pub fn run_program(program: &str, args: &[&str], env: &[(&str, &str)], limit: Duration) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args).env_remove("NO_COLOR").env_remove("COLUMNS");
    utf8_locale(&mut cmd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).unwrap();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("openrtc-top {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output { status, stdout: t_out.join().unwrap(), stderr: t_err.join().unwrap() }
}

/// A UTF-8 locale whatever the machine's (tests that need another say so).
pub fn utf8_locale(cmd: &mut Command) {
    cmd.env_remove("LC_ALL").env_remove("LC_CTYPE").env("LANG", "C.UTF-8");
}

pub fn run(args: &[&str]) -> Output {
    run_with(args, &[], Duration::from_secs(20))
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("output is UTF-8")
}

/// The tests' one random source: splitmix64, seeded, so runs repeat.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The uid tests act as when they need another user (they run as root).
pub const NOBODY: u32 = 65534;

/// The demo worker running as `NOBODY`, serving a socket under `d` (made
/// reachable for that user); its process and socket path. Needs root.
pub fn demo_as_nobody(d: &TempDir) -> (std::process::Child, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let open: PathBuf = d.join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let sock = open.join("top.sock");
    (demo_as_nobody_at(d, &sock, &[]), sock)
}

/// The demo worker running as `NOBODY` on `sock` (whose directory that
/// user can write), with `extra` flags; returns once the socket is there.
pub fn demo_as_nobody_at(d: &TempDir, sock: &Path, extra: &[&str]) -> std::process::Child {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    // The checkout may be private (CI clones into a 0700 directory): run a
    // copy of the worker that the other user can reach.
    let demo = d.join("openrtc-demo-worker");
    std::fs::copy(DEMO, &demo).unwrap();
    std::fs::set_permissions(&demo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let worker = Command::new(&demo)
        .args(["--socket", sock.to_str().unwrap(), "--exit-after", "60"])
        .args(extra)
        .uid(NOBODY)
        .gid(NOBODY)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the worker running as nobody", Duration::from_secs(5), || sock.exists());
    worker
}

/// A Python stand-in for a worker (system python3, no openrtc): it serves
/// one session on `sock` and, `after` seconds in, blocks its one thread in
/// `time.sleep` for `lasts` seconds (so py-spy finds a Python stack and
/// /proc a sleeping main thread). Its socket is world-connectable, for the
/// tests that look at it as another user. Ready when it returns.
pub fn python_worker(sock: &Path, after: f64, lasts: f64) -> std::process::Child {
    const SCRIPT: &str = r#"
import json, os, socket, sys, time
path, after, lasts = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_UNIX)
s.bind(path)
os.chmod(path, 0o666)
s.listen(64)
s.settimeout(0.05)
body = json.dumps({"worker": {"name": "py"}, "sessions": [{"session_id": "py-1", "agent_name": "a", "status": "active"}]}).encode() + b"\n"
def block_the_loop():
    time.sleep(lasts)
t0, done = time.monotonic(), False
print("READY", flush=True)
while True:
    if not done and time.monotonic() - t0 >= after:
        done = True
        block_the_loop()
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    c.sendall(body)
    c.close()
"#;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT, sock.to_str().unwrap(), &after.to_string(), &lasts.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 (the tests need it: Debian/Ubuntu 'apt install python3')");
    let mut line = [0u8; 6];
    child.stdout.take().unwrap().read_exact(&mut line).unwrap();
    assert_eq!(&line, b"READY\n");
    child
}

/// The README's ```yaml block whose first line is `# NAME`.
pub fn readme_block(name: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find(&format!("```yaml\n# {name}\n")).unwrap_or_else(|| panic!("README has no {name} block"));
    let body = &readme[start + "```yaml\n".len()..];
    body[..body.find("```").unwrap()].to_string()
}

/// Our effective uid (the per-user socket directory is named by it).
pub fn uid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}
