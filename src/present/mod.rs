//! Presentation: frame pieces as pure text, for the live view and for
//! `--once`'s framed output alike. Every function takes data, a width and
//! a `Paint` and returns lines that fit it, with SGR escapes for style; no
//! terminal access.

pub mod cells;
