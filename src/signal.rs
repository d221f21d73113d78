//! Signals as flags for the one-thread loops (the live view and the
//! exporter): a handler only stores which signal came, and none is
//! installed with SA_RESTART, so a blocking poll, accept, connect or read
//! returns EINTR and the loop looks at the flag.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static SIGNAL: AtomicI32 = AtomicI32::new(0);
static HUP: AtomicBool = AtomicBool::new(false);

/// Install `handler` for `sig`, without SA_RESTART.
pub fn handle(sig: libc::c_int, handler: extern "C" fn(libc::c_int)) {
    // SAFETY: the handlers only touch atomics and make async-signal-safe
    // calls; the struct is zeroed then filled as sigaction(2) expects.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        sa.sa_flags = 0;
        libc::sigaction(sig, &sa, std::ptr::null_mut());
    }
}

/// Note that `sig` came (the first one wins). Async-signal-safe.
pub fn note(sig: libc::c_int) {
    let _ = SIGNAL.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
}

/// A handler that only notes the signal.
pub extern "C" fn on_signal(sig: libc::c_int) {
    note(sig);
}

/// The signal that has arrived, if any.
pub fn pending() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The recorder's SIGHUP: not a stop but logrotate's "reopen the file".
pub extern "C" fn on_hup(_: libc::c_int) {
    HUP.store(true, Ordering::SeqCst);
}

/// Whether SIGHUP came since the last look.
pub fn take_hup() -> bool {
    HUP.swap(false, Ordering::SeqCst)
}
