//! openrtc-top: a live inspector for openrtc coroutine-mode workers.
//!
//! Data flows one way, and the modules are listed in that order:
//! arguments -> `cli` (a `Config`) -> `source` (where snapshots come from:
//! the sockets given or found, all fetched at once on one thread) -> `decode` (bytes to a
//! `snapshot`, a `Pool` of workers) -> `view` (filter, sort, groups; `column`
//! is the one table of columns; `summary` sums the pool by worker) -> text: `output` (plain table, TSV, JSON for pipes), `metrics`
//! (OpenMetrics and Prometheus text) or `tui`
//! (the live view's frame, and the terminal). `once`, `serve` (the exporter) and
//! `tui::live` are the loops that wire them; nothing downstream imports a loop. `number`,
//! `text`, `clock` and `signal` are leaf helpers used along the way.

pub mod cli;
pub mod source;
pub mod decode;
pub mod model;
pub mod view;
pub mod summary;
pub mod present;
pub mod output;
pub mod metrics;
pub mod tui;
pub mod run;
pub mod record;

pub mod number;
pub mod sort;
pub mod text;
pub mod clock;
pub mod words;
pub mod signal;
pub mod poll;
