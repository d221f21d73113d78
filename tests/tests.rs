//! The integration tests, one crate (ripgrep's layout): a module per area,
//! one `util` with the shared helpers and the payload builder. They run the
//! built binaries against real Unix sockets and a real pseudo-terminal.
//!
//! Ignored tests say what they need: `compat::` needs the Python venv that
//! `make test` creates; `as_root` tests need root to act as another user;
//! two `docs::` tests need fish and zsh; `package::deb::` needs dpkg-dev
//! and lintian; `bench::` and `soak::` are `make bench` and `make soak`.
//! `make test` runs everything but the last two (and says so when it skips
//! the root, shell or package ones).

mod util;

mod bench;
mod compat;
mod corpus;
mod docs;
mod exporter;
mod blocked;
mod faults;
mod fuzz;
mod interactive;
mod live;
mod once;
mod package;
mod record;
mod replay;
mod soak;
mod workers;
