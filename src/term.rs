//! The only module that touches the terminal.

/// Is stdout a terminal?
pub fn stdout_is_tty() -> bool {
    termion::is_tty(&std::io::stdout())
}

/// Columns and rows of the terminal on stdout, when there is one.
pub fn size() -> Option<(u16, u16)> {
    termion::terminal_size().ok().filter(|&(w, h)| w > 0 && h > 0)
}
