//! The only module that touches the terminal: raw mode and the alternate
//! screen (always restored), signals, the panic hook, key input, size.
//!
//! Restoring must work from four places: `Drop` on a normal exit, the panic
//! hook (before the message prints, so it lands on the main screen), the
//! exit taken after a signal, and the SIGABRT handler (an allocation
//! failure aborts without unwinding). So the saved modes live in a static
//! and restoring is idempotent. Job control: Ctrl-Z and SIGTSTP give the
//! terminal back and stop; SIGCONT takes it again, but only in the
//! foreground (a job continued in the background draws nothing). Input is read with poll(2) then one read(2) on
//! the same thread; stdin is never made O_NONBLOCK (that flag is shared with
//! the shell that runs after us).

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Once;
use std::time::Duration;

use termion::{clear, cursor, screen, style};

use crate::signal::{self, handle};
use crate::tui::input;

/// Is stdout a terminal?
pub fn stdout_is_tty() -> bool {
    termion::is_tty(&std::io::stdout())
}

/// Why the terminal cannot take the live view, if it cannot: a `TERM` that
/// is unset, empty, `dumb` or `unknown` names no cursor addressing (Emacs'
/// shell, some CI logs), where the view would print escapes as text.
pub fn cannot_address(term: Option<&str>) -> Option<String> {
    match term {
        None => Some("TERM is not set".into()),
        Some("") => Some("TERM is empty".into()),
        Some(t @ ("dumb" | "unknown")) => Some(format!("TERM={t} cannot place the cursor")),
        Some(_) => None,
    }
}

pub use crate::present::MAX_SIDE;

/// Columns and rows of the terminal on stdout, when there is one (each
/// clamped to `MAX_SIDE`).
pub fn size() -> Option<(u16, u16)> {
    termion::terminal_size().ok().filter(|&(w, h)| w > 0 && h > 0).map(|(w, h)| (w.min(MAX_SIDE), h.min(MAX_SIDE)))
}

// ---------------------------------------------------------------------------
// Signals.

static RESIZED: AtomicBool = AtomicBool::new(false);
static STOP: AtomicBool = AtomicBool::new(false);
static CONTINUED: AtomicBool = AtomicBool::new(false);

/// Every signal whose default action ends the process and that can come
/// from outside (kill, the terminal, a timer): the terminal is restored
/// first, then the process ends by that same signal (so the shell reports
/// it). SIGSEGV and the like are left to std (its stack-overflow report
/// ends in abort, which is caught below).
const TERMINATING: [libc::c_int; 15] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGPIPE,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGIO,
    libc::SIGPWR,
    libc::SIGSTKFLT,
];

extern "C" fn on_signal(sig: libc::c_int) {
    match sig {
        libc::SIGWINCH => RESIZED.store(true, Ordering::SeqCst),
        libc::SIGTSTP => STOP.store(true, Ordering::SeqCst),
        libc::SIGCONT => CONTINUED.store(true, Ordering::SeqCst),
        // The first terminating signal wins.
        _ => signal::note(sig),
    }
}

/// An abort (an allocation failure, a failed assertion in a library) gives
/// no chance to unwind: restore the terminal here, with async-signal-safe
/// calls only (write, tcsetattr), and let the abort go on.
extern "C" fn on_abort(_: libc::c_int) {
    if ACTIVE.load(Ordering::SeqCst) {
        restore_in_handler();
        // What std printed went to the alternate screen, now gone.
        const SAY: &[u8] = b"openrtc-top: aborted (SIGABRT: out of memory, or a failed check in a library); the terminal was restored\n";
        // SAFETY: write(2) is async-signal-safe; SAY is a static buffer.
        unsafe { libc::write(libc::STDERR_FILENO, SAY.as_ptr().cast(), SAY.len()) };
    }
}

/// Catch every terminating signal (to restore the terminal before leaving),
/// SIGWINCH (to re-lay out at once), SIGTSTP and SIGCONT (job control),
/// and SIGABRT (to restore on an abort).
pub fn catch_signals() {
    let realtime = libc::SIGRTMIN()..=libc::SIGRTMAX();
    for sig in TERMINATING.into_iter().chain(realtime).chain([libc::SIGWINCH, libc::SIGTSTP, libc::SIGCONT]) {
        handle(sig, on_signal);
    }
    handle(libc::SIGABRT, on_abort);
}

/// A terminating signal that has arrived, if any.
pub fn pending_signal() -> Option<i32> {
    signal::pending()
}

/// Whether the terminal was resized since the last call.
pub fn take_resized() -> bool {
    RESIZED.swap(false, Ordering::SeqCst)
}

/// Whether SIGTSTP arrived (from `kill -TSTP`) since the last call.
pub fn take_stop() -> bool {
    STOP.swap(false, Ordering::SeqCst)
}

/// Whether SIGCONT arrived since the last call.
pub fn take_continued() -> bool {
    CONTINUED.swap(false, Ordering::SeqCst)
}

/// Anything the loop must act on before it waits or fetches any longer.
pub fn interrupted() -> bool {
    pending_signal().is_some() || STOP.load(Ordering::SeqCst)
}

/// End the process by `sig` itself (default action), so the parent sees how
/// it ended; the terminal must already be restored.
pub fn die_by(sig: i32) -> ! {
    // SAFETY: resetting a disposition, unblocking and raising are plain
    // libc calls.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
    }
    std::process::exit(128 + sig)
}

// ---------------------------------------------------------------------------
// Raw mode, alternate screen, restore.

/// The input terminal and its modes before we changed them. Written by the
/// one thread before `SAVED_FD` says they are there, read by `restore`
/// (from the loop, the panic hook or the SIGABRT handler, all on that
/// thread): a plain static, so the handler takes no lock.
static mut SAVED_MODES: Option<libc::termios> = None;
static SAVED_FD: AtomicI32 = AtomicI32::new(-1);
/// Whether the screen is ours (alternate screen, hidden cursor, raw mode).
static ACTIVE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// DECAWM: with autowrap off, text that reaches the last column stays on its
/// row (a terminal that measures a character wider than we do cannot push a
/// row onto the next one).
const AUTOWRAP_OFF: &str = "\x1b[?7l";
const AUTOWRAP_ON: &str = "\x1b[?7h";
/// Bracketed paste: a paste arrives as one event, not as typed keys.
const PASTE_ON: &str = "\x1b[?2004h";
const PASTE_OFF: &str = "\x1b[?2004l";

/// What puts the terminal back: attributes, cursor, autowrap, paste mode,
/// main screen.
fn leave_sequence() -> String {
    format!("{}{}{AUTOWRAP_ON}{PASTE_OFF}{}{}", style::Reset, cursor::Show, screen::ToMainScreen, cursor::Show)
}

/// Put everything back: cursor shown, attributes reset, main screen, the
/// original terminal modes. Safe to call any number of times, from anywhere.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = write_fd(libc::STDOUT_FILENO, leave_sequence().as_bytes());
    }
    restore_modes();
}

/// `restore`, inside a signal handler: no allocation, no lock.
fn restore_in_handler() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        const LEAVE: &[u8] = b"\x1b[m\x1b[?25h\x1b[?7h\x1b[?2004l\x1b[?1049l\x1b[?25h";
        // SAFETY: write(2) is async-signal-safe; LEAVE is a static buffer.
        unsafe { libc::write(libc::STDOUT_FILENO, LEAVE.as_ptr().cast(), LEAVE.len()) };
    }
    restore_modes();
}

fn restore_modes() {
    let fd = SAVED_FD.load(Ordering::SeqCst);
    if fd < 0 {
        return;
    }
    // SAFETY: SAVED_MODES was written before SAVED_FD was set, on this
    // thread, and is only read after; tcsetattr is async-signal-safe.
    unsafe {
        if let Some(modes) = &*std::ptr::addr_of!(SAVED_MODES) {
            libc::tcsetattr(fd, libc::TCSANOW, modes);
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
    reader: input::Reader,
}

impl Terminal {
    /// Take the terminal: save its modes, raw mode, the alternate screen.
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
        let mut t = Terminal { input, reader: input::Reader::default() };
        t.take()?;
        Ok(t)
    }

    /// Save the modes (as they are now: the user may have changed them while
    /// we were stopped), then raw mode and our screen.
    fn take(&mut self) -> io::Result<()> {
        if let Some(inp) = &self.input {
            // SAFETY: termios is plain old data filled by tcgetattr.
            let mut modes: libc::termios = unsafe { std::mem::zeroed() };
            if unsafe { libc::tcgetattr(inp.fd, &mut modes) } != 0 {
                return Err(io::Error::last_os_error());
            }
            SAVED_FD.store(-1, Ordering::SeqCst);
            // SAFETY: one thread; SAVED_FD says "not there" while it is written.
            unsafe { *std::ptr::addr_of_mut!(SAVED_MODES) = Some(modes) };
            SAVED_FD.store(inp.fd, Ordering::SeqCst);
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
        let seq = format!(
            "{}{}{AUTOWRAP_OFF}{PASTE_ON}{}{}",
            screen::ToAlternateScreen,
            cursor::Hide,
            style::Reset,
            clear::All
        );
        write_fd(libc::STDOUT_FILENO, seq.as_bytes())
    }

    /// Whether the screen is ours now (not stopped, not in the background).
    pub fn active(&self) -> bool {
        ACTIVE.load(Ordering::SeqCst)
    }

    /// Whether this process group owns the terminal (a process continued in
    /// the background must not draw over the shell, nor touch its modes).
    pub fn foreground(&self) -> bool {
        let fd = self.input.as_ref().map_or(libc::STDOUT_FILENO, |i| i.fd);
        // SAFETY: plain queries of the process group and the terminal's.
        unsafe { libc::tcgetpgrp(fd) == libc::getpgrp() }
    }

    /// Ctrl-Z or SIGTSTP: give the terminal back (cooked mode, cursor, main
    /// screen) and stop, as the shell expects; when continued, come back
    /// (`resume`) if in the foreground.
    pub fn suspend(&mut self) -> io::Result<bool> {
        restore();
        // SAFETY: the default action of SIGTSTP stops the process; the
        // handler is put back when it continues.
        unsafe {
            libc::signal(libc::SIGTSTP, libc::SIG_DFL);
            libc::raise(libc::SIGTSTP);
        }
        handle(libc::SIGTSTP, on_signal);
        self.resume()
    }

    /// Take the terminal again, if in the foreground and not already.
    /// True when the screen was (re)taken: all of it must be redrawn.
    pub fn resume(&mut self) -> io::Result<bool> {
        if self.active() || !self.foreground() {
            return Ok(false);
        }
        self.take()?;
        Ok(true)
    }

    /// One frame's bytes, in one write when the kernel takes them whole;
    /// nothing while the screen is not ours.
    pub fn write(&mut self, s: &str) -> io::Result<()> {
        if !self.active() {
            return Ok(());
        }
        write_fd(libc::STDOUT_FILENO, s.as_bytes())
    }

    /// The terminal's descriptor to wait on for input: none while the screen
    /// is not ours (a read from the background stops us) or after its end.
    pub fn input_fd(&self) -> Option<RawFd> {
        let active = self.active();
        self.input.as_ref().filter(|i| !i.closed && active).map(|i| i.fd)
    }

    /// Wait up to `timeout` for input (or a signal, which returns early):
    /// keys and pastes, a read's worth at a time. While the screen is not
    /// ours the terminal is not read (a read from the background stops us).
    pub fn events(&mut self, timeout: Duration) -> io::Result<Vec<input::Event>> {
        let active = self.active();
        let Some(inp) = self.input.as_mut().filter(|i| !i.closed && active) else {
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
        Ok(self.reader.feed(&buf))
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

/// One read(2) of up to 64 KiB (a paste arrives in few reads); false (and
/// the input marked closed) at end of input.
fn read_some(inp: &mut Input, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut chunk = vec![0u8; 64 * 1024];
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
