//! A real pseudo-terminal for driving the live view, and a small VT model of
//! the screen it draws on (cursor addressing, erase, alternate screen,
//! cursor visibility, wide characters; SGR is ignored).
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Pty {
    pub master: File,
    pub slave: OwnedFd,
    pub slave_path: PathBuf,
}

impl Pty {
    pub fn open(w: u16, h: u16) -> Pty {
        let (mut m, mut s): (RawFd, RawFd) = (-1, -1);
        let ws = libc::winsize { ws_row: h, ws_col: w, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: out-parameters for two fds; winsize is initialised.
        let rc = unsafe { libc::openpty(&mut m, &mut s, std::ptr::null_mut(), std::ptr::null(), &ws) };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        let mut name = [0 as libc::c_char; 128];
        // SAFETY: name is large enough for a pty path.
        unsafe { libc::ttyname_r(s, name.as_mut_ptr(), name.len()) };
        let slave_path = PathBuf::from(unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned());
        // SAFETY: both fds are fresh and ours.
        unsafe { Pty { master: File::from_raw_fd(m), slave: OwnedFd::from_raw_fd(s), slave_path } }
    }

    pub fn resize(&self, w: u16, h: u16) {
        let ws = libc::winsize { ws_row: h, ws_col: w, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCSWINSZ with a valid winsize; the kernel signals the foreground group.
        unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    }

    /// `stty -g` of the terminal: its modes, as a string.
    pub fn stty(&self) -> String {
        let tty = File::open(&self.slave_path).unwrap();
        let out = Command::new("stty").arg("-g").stdin(tty).output().unwrap();
        assert!(out.status.success(), "stty: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }
}

/// openrtc-top running on a pty, with its screen modelled as it draws.
pub struct Live {
    pub pty: Pty,
    /// `stty -g` before openrtc-top started.
    pub before: String,
    pub child: Child,
    pub vt: Arc<Mutex<Vt>>,
    pub raw: Arc<Mutex<Vec<u8>>>,
    /// Held by the reader from a read to the end of feeding what it read:
    /// whoever holds it sees no bytes half taken (see `drained`).
    reading: Arc<Mutex<bool>>,
}

/// `poll` for input on `fd`: its `revents` (0 when nothing came in
/// `timeout_ms`). A pty's poll first pushes what the other side wrote
/// through to where a read finds it.
fn poll_in(fd: RawFd, timeout_ms: i32) -> i16 {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    if n > 0 { p.revents } else { 0 }
}

impl Live {
    /// Screen lines drawn in inverse video.
    pub fn inverse_lines(&self) -> Vec<String> {
        let vt = self.vt.lock().unwrap();
        let lines = vt.lines();
        vt.inverse_lines().into_iter().map(|i| lines[i].clone()).collect()
    }

    pub fn start(bin: &str, args: &[&str], env: &[(&str, &str)], w: u16, h: u16) -> Live {
        let pty = Pty::open(w, h);
        let before = pty.stty();
        let mut cmd = Command::new(bin);
        cmd.args(args).env("TERM", "xterm-256color").env_remove("NO_COLOR");
        super::utf8_locale(&mut cmd);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let fd = pty.slave.as_raw_fd();
        let io = || Stdio::from(pty.slave.try_clone().unwrap());
        cmd.stdin(io()).stdout(io()).stderr(io());
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                libc::setsid();
                libc::ioctl(fd, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        let vt = Arc::new(Mutex::new(Vt::new(w, h)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let mut master = pty.master.try_clone().unwrap();
        let reading = Arc::new(Mutex::new(true));
        let (v, r, busy) = (vt.clone(), raw.clone(), reading.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            loop {
                // Read only what is there, so that the lock is never held
                // waiting.
                let ev = poll_in(master.as_raw_fd(), -1);
                let mut going = busy.lock().unwrap();
                if ev & libc::POLLIN == 0 {
                    if ev != 0 {
                        *going = false; // hung up or broken, nothing left
                        break;
                    }
                    continue;
                }
                match master.read(&mut buf) {
                    Ok(n) if n > 0 => {
                        r.lock().unwrap().extend_from_slice(&buf[..n]);
                        v.lock().unwrap().feed(&buf[..n]);
                    }
                    _ => {
                        *going = false;
                        break;
                    }
                }
            }
        });
        Live { pty, before, child, vt, raw, reading }
    }

    /// `script` run by bash with job control on (`set -m`), as an
    /// interactive shell would run a command: in its own process group,
    /// given the terminal, stopped by Ctrl-Z, continued by `fg`.
    pub fn shell(script: &str, env: &[(&str, &str)], w: u16, h: u16) -> Live {
        Live::start("bash", &["--norc", "--noprofile", "-c", &format!("set -m\n{script}")], env, w, h)
    }

    /// The pid of the process running `bin` under this one (the shell's job).
    pub fn job_pid(&self) -> Option<i32> {
        let me = self.child.id().to_string();
        std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let after = &stat[stat.rfind(')')? + 2..];
            let ppid = after.split_whitespace().nth(1)?;
            (ppid == me).then(|| e.file_name().to_string_lossy().parse().ok()).flatten()
        })
    }

    /// Wait until the raw output holds `needle`.
    pub fn wait_raw(&self, needle: &str, timeout: Duration) {
        let start = Instant::now();
        while !String::from_utf8_lossy(&self.raw.lock().unwrap()).contains(needle) {
            assert!(start.elapsed() < timeout, "timed out waiting for {needle:?} in the output; screen:\n{}", self.screen().join("\n"));
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.pty.master.write_all(bytes).unwrap();
    }

    pub fn resize(&mut self, w: u16, h: u16) {
        self.vt.lock().unwrap().resize(w, h);
        self.pty.resize(w, h);
    }

    pub fn screen(&self) -> Vec<String> {
        self.vt.lock().unwrap().lines()
    }

    /// Wait until `cond` holds for the screen, or fail with the screen shown.
    pub fn wait_for(&self, what: &str, timeout: Duration, cond: impl Fn(&[String]) -> bool) -> Vec<String> {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if cond(&s) {
                return s;
            }
            if start.elapsed() > timeout {
                panic!("timed out waiting for {what}; screen:\n{}", s.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_text(&self, needle: &str) -> Vec<String> {
        self.wait_for(needle, Duration::from_secs(10), |s| s.iter().any(|l| l.contains(needle)))
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                // What it wrote last is read and on the screen before
                // anyone looks.
                super::wait_until("the last output read", Duration::from_secs(5), || self.drained());
                return s;
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!("openrtc-top did not exit; screen:\n{}", self.screen().join("\n"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    pub fn threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.child.id())).unwrap().count()
    }

    pub fn raw_len(&self) -> usize {
        self.raw.lock().unwrap().len()
    }

    /// Everything written to the terminal so far is read and fed to the
    /// screen: nothing left to read while the reader is between reads (or
    /// it has stopped).
    pub fn drained(&self) -> bool {
        let going = self.reading.lock().unwrap();
        !*going || poll_in(self.pty.master.as_raw_fd(), 0) & libc::POLLIN == 0
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Columns a terminal gives `c`: glibc's `wcwidth` in a UTF-8 locale, a
/// reference independent of the code under test (so that a width our
/// `text` module gets wrong shows up as a misaligned screen). Code points
/// glibc does not know (-1) take one column, as terminals draw them.
pub fn term_width(c: char) -> usize {
    unsafe extern "C" {
        fn wcwidth(c: libc::wchar_t) -> libc::c_int;
    }
    static LOCALE: std::sync::Once = std::sync::Once::new();
    LOCALE.call_once(|| {
        // SAFETY: setlocale with a valid NUL-terminated name, once, before
        // any wcwidth call in this process.
        let ok = unsafe { !libc::setlocale(libc::LC_CTYPE, c"C.UTF-8".as_ptr()).is_null() };
        assert!(ok, "the C.UTF-8 locale is needed for the terminal model's widths");
    });
    // SAFETY: wcwidth reads its argument only.
    match unsafe { wcwidth(c as libc::wchar_t) } {
        w if w < 0 => 1,
        w => w as usize,
    }
}

/// The subset of a VT100/xterm this program uses.
pub struct Vt {
    pub w: usize,
    pub h: usize,
    main: Vec<Vec<char>>,
    alt: Vec<Vec<char>>,
    /// Which cells were drawn in inverse video (alternate screen only).
    inverse: Vec<Vec<bool>>,
    pen_inverse: bool,
    pub in_alt: bool,
    pub cursor_visible: bool,
    /// DECAWM: off, a character at the last column overwrites it.
    pub autowrap: bool,
    row: usize,
    col: usize,
    pending: Vec<u8>,
}

impl Vt {
    pub fn new(w: u16, h: u16) -> Vt {
        let (w, h) = (usize::from(w), usize::from(h));
        Vt {
            w,
            h,
            main: vec![vec![' '; w]; h],
            alt: vec![vec![' '; w]; h],
            inverse: vec![vec![false; w]; h],
            pen_inverse: false,
            in_alt: false,
            cursor_visible: true,
            autowrap: true,
            row: 0,
            col: 0,
            pending: Vec::new(),
        }
    }

    fn grid(&mut self) -> &mut Vec<Vec<char>> {
        if self.in_alt { &mut self.alt } else { &mut self.main }
    }

    pub fn resize(&mut self, w: u16, h: u16) {
        let (w, h) = (usize::from(w), usize::from(h));
        for g in [&mut self.main, &mut self.alt] {
            g.resize(h, vec![' '; w]);
            for l in g.iter_mut() {
                l.resize(w, ' ');
            }
        }
        self.inverse.resize(h, vec![false; w]);
        for l in self.inverse.iter_mut() {
            l.resize(w, false);
        }
        self.w = w;
        self.h = h;
        self.row = self.row.min(h - 1);
        self.col = self.col.min(w - 1);
    }

    /// Lines (by index) that start in inverse video: the selection, headers.
    pub fn inverse_lines(&self) -> Vec<usize> {
        (0..self.h).filter(|&r| self.inverse[r].first() == Some(&true)).collect()
    }

    /// The `n` cells from column `at` of the screen row whose text is
    /// `line` (as `lines` gives it), read off the grid itself.
    pub fn cells_of(&self, line: &str, at: usize, n: usize) -> String {
        let g = if self.in_alt { &self.alt } else { &self.main };
        let text = self.lines();
        let row = text.iter().position(|l| l == line).expect("the row is on screen");
        g[row][at..(at + n).min(self.w)].iter().map(|&c| if c == '\0' { ' ' } else { c }).collect()
    }

    pub fn lines(&self) -> Vec<String> {
        let g = if self.in_alt { &self.alt } else { &self.main };
        g.iter().map(|l| l.iter().filter(|&&c| c != '\0').collect::<String>().trim_end().to_string()).collect()
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        let data = std::mem::take(&mut self.pending);
        let mut i = 0;
        while i < data.len() {
            match self.step(&data[i..]) {
                Some(n) => i += n,
                None => {
                    self.pending = data[i..].to_vec();
                    return;
                }
            }
        }
    }

    /// Apply one unit at the start of `b`; `None` when it is incomplete.
    fn step(&mut self, b: &[u8]) -> Option<usize> {
        match b[0] {
            0x1b => {
                let next = *b.get(1)?;
                if next == b'[' {
                    let end = b[2..].iter().position(|c| (0x40..=0x7e).contains(c))? + 2;
                    self.csi(&b[2..end], b[end]);
                    Some(end + 1)
                } else if next == b'(' || next == b')' {
                    b.get(2).map(|_| 3)
                } else {
                    Some(2)
                }
            }
            b'\r' => {
                self.col = 0;
                Some(1)
            }
            b'\n' => {
                self.newline();
                Some(1)
            }
            0x08 => {
                self.col = self.col.saturating_sub(1);
                Some(1)
            }
            c if c < 0x20 || c == 0x7f => Some(1),
            _ => {
                let n = match b[0] {
                    0xc0..=0xdf => 2,
                    0xe0..=0xef => 3,
                    0xf0..=0xf7 => 4,
                    _ => 1,
                };
                let s = std::str::from_utf8(b.get(..n)?).unwrap_or("\u{fffd}");
                let c = s.chars().next().unwrap_or('\u{fffd}');
                self.put(c);
                Some(n)
            }
        }
    }

    fn newline(&mut self) {
        if self.row + 1 >= self.h {
            let w = self.w;
            let g = self.grid();
            g.remove(0);
            g.push(vec![' '; w]);
        } else {
            self.row += 1;
        }
    }

    fn put(&mut self, c: char) {
        let cw = term_width(c);
        if cw == 0 {
            return;
        }
        if self.col + cw > self.w {
            if self.autowrap {
                self.col = 0;
                self.newline();
            } else {
                self.col = self.w - cw.min(self.w);
            }
        }
        let (r, col) = (self.row, self.col);
        if self.in_alt {
            self.inverse[r][col] = self.pen_inverse;
        }
        let g = self.grid();
        g[r][col] = c;
        if cw == 2 && col + 1 < g[r].len() {
            g[r][col + 1] = '\0';
        }
        self.col += cw;
    }

    fn csi(&mut self, params: &[u8], fin: u8) {
        let p = String::from_utf8_lossy(params).to_string();
        let private = p.starts_with('?');
        let nums: Vec<usize> = p.trim_start_matches('?').split(';').map(|n| n.parse().unwrap_or(0)).collect();
        let n = |i: usize, d: usize| nums.get(i).copied().filter(|&v| v > 0).unwrap_or(d);
        let (w, h) = (self.w, self.h);
        match (private, fin) {
            (false, b'H' | b'f') => {
                self.row = n(0, 1).min(h) - 1;
                self.col = n(1, 1).min(w) - 1;
            }
            (false, b'J') => {
                let (row, col) = (self.row, self.col);
                let all = nums.first() == Some(&2);
                let g = self.grid();
                for (r, line) in g.iter_mut().enumerate() {
                    for (c, cell) in line.iter_mut().enumerate() {
                        if all || r > row || (r == row && c >= col) {
                            *cell = ' ';
                        }
                    }
                }
            }
            (false, b'K') => {
                let (row, col) = (self.row, self.col);
                for cell in self.grid()[row][col..].iter_mut() {
                    *cell = ' ';
                }
            }
            // CHA: to a column of this row.
            (false, b'G') => self.col = n(0, 1).min(w) - 1,
            // ECH: erase characters from the cursor, without moving it.
            (false, b'X') => {
                let (row, col) = (self.row, self.col);
                let end = (col + n(0, 1)).min(w);
                for cell in self.grid()[row][col..end].iter_mut() {
                    *cell = ' ';
                }
            }
            (false, b'm') => {
                if params.is_empty() {
                    self.pen_inverse = false;
                }
                for v in &nums {
                    match v {
                        0 | 27 => self.pen_inverse = false,
                        7 => self.pen_inverse = true,
                        _ => {}
                    }
                }
            }
            (true, b'h' | b'l') => {
                let on = fin == b'h';
                for v in &nums {
                    match v {
                        1049 => {
                            if on && !self.in_alt {
                                self.alt = vec![vec![' '; w]; h];
                            }
                            self.in_alt = on;
                        }
                        25 => self.cursor_visible = on,
                        7 => self.autowrap = on,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}
