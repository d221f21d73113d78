//! The live view: state and keys (`app`), input bytes to keys (`input`),
//! frame text (`render`, `frame`), what is on screen (`screen`), the
//! terminal itself (`term`) and the loop that wires them (`live`).

pub mod app;
pub mod frame;
pub mod input;
pub mod live;
pub mod render;
pub mod screen;
pub mod term;
