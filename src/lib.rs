//! openrtc-top: a live inspector for openrtc coroutine-mode workers.
//!
//! Data flows one way: `cli` (args -> Config) -> `socket` (bytes) ->
//! `snapshot` (decode, guarded by `json_guard`) -> `view` (filter, sort) ->
//! `render`/`output` (text) -> `term` (the terminal). `live` and `once` are
//! the two loops that wire them.

pub mod cli;
pub mod clock;
pub mod column;
pub mod number;
pub mod decode;
pub mod once;
pub mod output;
pub mod snapshot;
pub mod socket;
pub mod source;
pub mod text;
pub mod view;
pub mod tui;
