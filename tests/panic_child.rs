//! Not a test and not shipped: the program `live::a_panic_restores_first_
//! then_prints_on_the_main_screen` runs in a pseudo-terminal. It takes the
//! terminal exactly as the live view does (raw mode, alternate screen,
//! hidden cursor, the panic hook), draws, and panics, so the test can check
//! that the hook restores the terminal before the message prints, with no
//! hook for it in the release binary.

fn main() {
    let mut t = openrtc_top::tui::term::Terminal::enter().expect("a terminal");
    t.write("\x1b[Ha frame of the live view").expect("a frame");
    panic!("a panic while the live view holds the terminal");
}
