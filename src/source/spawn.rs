//! A child process on libc's posix_spawn, for py-spy: stdin from
//! /dev/null, stdout and stderr to one descriptor, reaped without blocking.
//! std's `Command` does this too, but its machinery (environment maps,
//! the fork path, its pipes) is 35 KB of a binary that must stay under
//! 1 MiB (991,184 bytes with it, 955,776 without it: measured with py-spy
//! left unrun), for the one command we run.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

unsafe extern "C" {
    static environ: *const *const libc::c_char;
}

/// A running child; killed and reaped when dropped before it ends.
#[derive(Debug)]
pub struct Child {
    pid: libc::pid_t,
    reaped: bool,
}

fn c_string(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in an argument"))
}

/// Run `exe` with `args`, its stdout and stderr to `out`.
pub fn spawn(exe: &Path, args: &[&str], out: RawFd) -> io::Result<Child> {
    let exe = c_string(exe.as_os_str())?;
    let owned: Vec<CString> = args.iter().map(|a| c_string(OsStr::new(a))).collect::<io::Result<_>>()?;
    let mut argv: Vec<*mut libc::c_char> = std::iter::once(&exe).chain(&owned).map(|a| a.as_ptr().cast_mut()).collect();
    argv.push(std::ptr::null_mut());
    let null = c"/dev/null";
    let mut pid: libc::pid_t = 0;
    // SAFETY: the file actions are initialised before use and destroyed
    // after; every pointer passed (path, argv, environ) stays alive and
    // NUL-terminated for the call.
    let rc = unsafe {
        let mut fa: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        libc::posix_spawn_file_actions_init(&mut fa);
        libc::posix_spawn_file_actions_addopen(&mut fa, 0, null.as_ptr(), libc::O_RDONLY, 0);
        libc::posix_spawn_file_actions_adddup2(&mut fa, out, 1);
        libc::posix_spawn_file_actions_adddup2(&mut fa, out, 2);
        let rc = libc::posix_spawn(&mut pid, exe.as_ptr(), &fa, std::ptr::null(), argv.as_ptr(), environ.cast());
        libc::posix_spawn_file_actions_destroy(&mut fa);
        rc
    };
    match rc {
        0 => Ok(Child { pid, reaped: false }),
        e => Err(io::Error::from_raw_os_error(e)),
    }
}

impl Child {
    /// Whether it has ended, and then whether it succeeded (exit status 0).
    pub fn try_wait(&mut self) -> Option<bool> {
        if self.reaped {
            return Some(false);
        }
        let mut status = 0;
        // SAFETY: waitpid on our own child, WNOHANG: never blocks.
        match unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) } {
            0 => None,
            _ => {
                self.reaped = true;
                Some(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0)
            }
        }
    }

    /// Kill it and reap it.
    pub fn kill(&mut self) {
        if !self.reaped {
            // SAFETY: our own child, not yet reaped (so its pid is still ours).
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            }
            self.reaped = true;
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.try_wait().is_none() {
            self.kill();
        }
    }
}
