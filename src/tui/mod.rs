//! The live view: state (`app`, with `panel` for the cursor and `trends`
//! for the detail pane), the key table (`keys`), input bytes to keys (`input`),
//! frame text (`render`, `workers` for the lines of several workers,
//! `frame`), what is on screen (`screen`), the
//! terminal itself (`term`) and the loop that wires them (`live`).

pub mod app;
pub mod frame;
pub mod input;
pub mod keys;
pub mod live;
pub mod panel;

pub mod screen;
pub mod term;
pub mod trends;

