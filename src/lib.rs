//! openrtc-top: a live inspector for openrtc coroutine-mode workers.
//!
//! Data flows one way, and the modules are listed in that order: arguments
//! -> `cli` (a `Config`) -> `source` (the sockets given or found, or a
//! recording; all fetched at once on one thread, waiting in `poll`) ->
//! `decode` (the one reader of the wire) -> `model` (snapshots, the pool of
//! workers, the column and field tables) -> `view` (filter, sort, groups;
//! `summary` sums the pool by worker) -> `present` (frame pieces as pure
//! text) -> the terminal (`tui`), or the plain writers (`output`: table,
//! TSV, JSON; `metrics`: OpenMetrics and Prometheus text; `record`: the
//! recording). `run` and `tui::live` are the loops that wire them; nothing
//! downstream imports a loop, and nothing outside `tui` imports it.
//! `number`, `sort`, `text`, `clock`, `signal` and `words` are leaf helpers.

pub mod cli;
pub mod source;
pub mod poll;
pub mod decode;
pub mod model;
pub mod view;
pub mod summary;
pub mod events;
pub mod present;
pub mod output;
pub mod metrics;
pub mod record;
pub mod tui;
pub mod run;
pub mod number;
pub mod sort;
pub mod text;
pub mod clock;
pub mod words;
pub mod signal;
