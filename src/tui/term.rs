//! The only module that touches the terminal: raw mode and the alternate
//! screen (always restored), signals, the panic hook, key input, size.
//!
//! Restoring must work from three places: `Drop` on a normal exit, the panic
//! hook (before the message prints, so it lands on the main screen), and
//! the exit taken after a signal. So the saved modes live in a static and
//! restoring is idempotent. Input is read with poll(2) then one read(2) on
//! the same thread; stdin is never made O_NONBLOCK (that flag is shared with
//! the shell that runs after us).

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

use termion::event::Key;
use termion::{clear, cursor, screen, style};

use crate::tui::input;

/// Is stdout a terminal?
pub fn stdout_is_tty() -> bool {
    termion::is_tty(&std::io::stdout())
}

/// The most columns or rows a frame is built for, whatever the terminal
/// or `COLUMNS` claims: frame memory is bounded by this, not by a claim.
pub const MAX_SIDE: u16 = 4096;

/// Columns and rows of the terminal on stdout, when there is one (each
/// clamped to `MAX_SIDE`).
pub fn size() -> Option<(u16, u16)> {
    termion::terminal_size().ok().filter(|&(w, h)| w > 0 && h > 0).map(|(w, h)| (w.min(MAX_SIDE), h.min(MAX_SIDE)))
}

// ---------------------------------------------------------------------------
// Signals.

static SIGNAL: AtomicI32 = AtomicI32::new(0);
static RESIZED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    if sig == libc::SIGWINCH {
        RESIZED.store(true, Ordering::SeqCst);
    } else {
        SIGNAL.store(sig, Ordering::SeqCst);
    }
}

/// Catch SIGTERM, SIGHUP, SIGINT (to restore the terminal before leaving)
/// and SIGWINCH (to re-lay out at once). Without SA_RESTART, so a blocking
/// poll, connect or read returns EINTR and the loop sees the signal.
pub fn catch_signals() {
    for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT, libc::SIGWINCH] {
        // SAFETY: the handler only stores to atomics (async-signal-safe).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            sa.sa_flags = 0;
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// A terminating signal that has arrived, if any.
pub fn pending_signal() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Whether the terminal was resized since the last call.
pub fn take_resized() -> bool {
    RESIZED.swap(false, Ordering::SeqCst)
}

/// End the process by `sig` itself (default action), so the parent sees how
/// it ended; the terminal must already be restored.
pub fn die_by(sig: i32) -> ! {
    // SAFETY: resetting a disposition and raising are plain libc calls.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
    std::process::exit(128 + sig)
}

// ---------------------------------------------------------------------------
// Raw mode, alternate screen, restore.

/// DECAWM: with autowrap off, text that reaches the last column stays on its
/// row (a terminal that measures a character wider than we do cannot push a
/// row onto the next one).
const AUTOWRAP_OFF: &str = "\x1b[?7l";
const AUTOWRAP_ON: &str = "\x1b[?7h";

/// The input terminal and its modes before we changed them.
static SAVED: Mutex<Option<(RawFd, libc::termios)>> = Mutex::new(None);
/// Whether the screen is ours (alternate screen, hidden cursor).
static ACTIVE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// Put everything back: cursor shown, attributes reset, main screen, the
/// original terminal modes. Safe to call any number of times, from anywhere.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let seq = format!("{}{}{AUTOWRAP_ON}{}{}", style::Reset, cursor::Show, screen::ToMainScreen, cursor::Show);
        let _ = write_fd(libc::STDOUT_FILENO, seq.as_bytes());
    }
    // try_lock: a panic while the lock is held must not deadlock the hook.
    if let Ok(mut saved) = SAVED.try_lock() {
        if let Some((fd, modes)) = saved.take() {
            // SAFETY: fd is the terminal we configured; modes came from tcgetattr on it.
            unsafe { libc::tcsetattr(fd, libc::TCSANOW, &modes) };
        }
    }
}

/// write(2) until done; retried on EINTR.
fn write_fd(fd: RawFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        // SAFETY: bytes is a valid buffer of its length.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        bytes = &bytes[n as usize..];
    }
    Ok(())
}

/// Where keys come from: stdin when it is a terminal, else the controlling
/// terminal (`openrtc-top < /dev/null` still answers `q`).
struct Input {
    fd: RawFd,
    _owned: Option<File>,
    closed: bool,
}

/// The live view's hold on the terminal; dropping it restores everything.
pub struct Terminal {
    input: Option<Input>,
}

impl Terminal {
    pub fn enter() -> io::Result<Terminal> {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        let input = if termion::is_tty(&io::stdin()) {
            Some(Input { fd: libc::STDIN_FILENO, _owned: None, closed: false })
        } else {
            File::open("/dev/tty").ok().map(|f| Input { fd: f.as_raw_fd(), _owned: Some(f), closed: false })
        };
        if let Some(inp) = &input {
            // SAFETY: termios is plain old data filled by tcgetattr.
            let mut modes: libc::termios = unsafe { std::mem::zeroed() };
            if unsafe { libc::tcgetattr(inp.fd, &mut modes) } != 0 {
                return Err(io::Error::last_os_error());
            }
            *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some((inp.fd, modes));
            let mut raw = modes;
            // SAFETY: cfmakeraw edits the struct; tcsetattr applies it to our fd.
            unsafe {
                libc::cfmakeraw(&mut raw);
                if libc::tcsetattr(inp.fd, libc::TCSANOW, &raw) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
        }
        ACTIVE.store(true, Ordering::SeqCst);
        let t = Terminal { input };
        let seq = format!("{}{}{AUTOWRAP_OFF}{}{}", screen::ToAlternateScreen, cursor::Hide, style::Reset, clear::All);
        write_fd(libc::STDOUT_FILENO, seq.as_bytes())?;
        Ok(t)
    }

    /// One frame's bytes, in one write when the kernel takes them whole.
    pub fn write(&mut self, s: &str) -> io::Result<()> {
        write_fd(libc::STDOUT_FILENO, s.as_bytes())
    }

    /// Wait up to `timeout` for keys (or a signal, which returns early).
    pub fn keys(&mut self, timeout: Duration) -> io::Result<Vec<Key>> {
        let Some(inp) = self.input.as_mut().filter(|i| !i.closed) else {
            poll(None, timeout)?;
            return Ok(Vec::new());
        };
        if !poll(Some(inp.fd), timeout)? {
            return Ok(Vec::new());
        }
        let mut buf = Vec::new();
        if !read_some(inp, &mut buf)? {
            return Ok(Vec::new());
        }
        // A sequence split across reads: give its tail a moment to arrive.
        if input::incomplete(&buf) && poll(Some(inp.fd), Duration::from_millis(30))? {
            read_some(inp, &mut buf)?;
        }
        Ok(input::parse(&buf))
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        restore();
    }
}

/// poll(2) on `fd` (or just sleep, interruptibly); true when it is readable.
fn poll(fd: Option<RawFd>, timeout: Duration) -> io::Result<bool> {
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    let mut pfd = libc::pollfd { fd: fd.unwrap_or(-1), events: libc::POLLIN, revents: 0 };
    // SAFETY: one pollfd; a negative fd is ignored by poll.
    let n = unsafe { libc::poll(&mut pfd, 1, ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted { Ok(false) } else { Err(e) };
    }
    Ok(n > 0 && pfd.revents != 0)
}

/// One read(2); false (and the input marked closed) at end of input.
fn read_some(inp: &mut Input, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut chunk = [0u8; 1024];
    // SAFETY: chunk is a valid buffer of its length.
    let n = unsafe { libc::read(inp.fd, chunk.as_mut_ptr().cast(), chunk.len()) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => Ok(false),
            _ => {
                inp.closed = true;
                Ok(false)
            }
        };
    }
    if n == 0 {
        // End of input (a hung-up terminal): stop polling it, or poll would
        // report it readable forever and the loop would spin.
        inp.closed = true;
        return Ok(false);
    }
    buf.extend_from_slice(&chunk[..n as usize]);
    Ok(true)
}
