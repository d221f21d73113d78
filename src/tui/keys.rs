//! Every key of the live view, as data (htop's action table): one row per
//! binding, giving the keys, where they apply, the action, the help line and
//! the footer hint. The key handling (`App::key`), the `?` overlay, the key
//! list in `--help` and the footer hints are all read from `BINDINGS`; a
//! test checks that every action has a binding and a help line and that the
//! README's key table lists the same keys.

use termion::event::Key;

use crate::model::column::Column;
use crate::view::StatusFilter;

/// What a key asks for. `App::act` carries each one out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Refresh,
    SortNext,
    SortReverse,
    StatusNext,
    AgentNext,
    TenantNext,
    WorkerNext,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Pin,
    Search,
    /// Details of the selected session.
    Open,
    /// In a group view: that group's sessions.
    ShowGroup,
    /// Close the detail pane.
    Close,
    GroupByAgent,
    GroupByTenant,
    GroupByWorker,
    /// Leave a group view, or clear the search.
    Back,
    Help,
    /// While searching: keep the search as a filter.
    SearchKeep,
    /// While searching: clear it.
    SearchClear,
    /// While searching: delete the last character.
    SearchErase,
    /// Give the terminal back and stop until the shell continues us.
    Suspend,
    /// The events pane, open or closed.
    Events,
    /// The Python stack of the selected session's worker (py-spy).
    Stack,
    // Replay: travel in the recording.
    StepBack,
    StepForward,
    MinuteBack,
    MinuteForward,
    PlayPause,
    Faster,
    Slower,
    /// Ask for a time to go to.
    GoTo,
    /// While typing a time: go there.
    GotoKeep,
    /// While typing a time: never mind.
    GotoCancel,
    /// While typing a time: delete the last character.
    GotoErase,
}

impl Action {
    /// Moves through a recording: only a replay has them (the keys do
    /// nothing live, and their hints are not shown).
    pub fn travels(self) -> bool {
        matches!(
            self,
            Action::StepBack | Action::StepForward | Action::MinuteBack | Action::MinuteForward | Action::PlayPause | Action::Faster | Action::Slower | Action::GoTo
        )
    }
}

/// Where a binding applies: the view the key is pressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// The session table.
    Table,
    /// A group view (per agent or per tenant).
    Groups,
    /// The detail pane.
    Detail,
    /// Typing a search (other printable keys are text).
    Search,
    /// Typing a time to go to in a replay (other printable keys are text).
    Goto,
    /// The events pane.
    Events,
    /// The stack pane.
    Stack,
    /// The help overlay (`?`): its keys scroll it, any other closes it.
    Help,
}

/// One binding: keys and the action each asks for, where they apply, how
/// they are described. Keys that do the two halves of one thing (Up/Down)
/// share a row, so the help reads as one line.
#[derive(Debug)]
pub struct Binding {
    pub keys: &'static [(Key, Action)],
    /// The keys as the help and the README write them.
    pub label: &'static str,
    pub contexts: &'static [Context],
    pub help: &'static str,
    /// Shown in the footer of each of its contexts, in table order ("" for none).
    pub hint: &'static str,
}

use Action as A;
use Context::{Detail, Events, Goto, Groups, Help, Search, Stack, Table};

const VIEWS: &[Context] = &[Table, Groups];
const ALL: &[Context] = &[Table, Groups, Detail, Events, Stack];
const MOVING: &[Context] = &[Table, Groups, Search];
const PANES: &[Context] = &[Events, Stack];
const EVERYWHERE: &[Context] = &[Table, Groups, Detail, Search, Goto, Events, Stack];

const fn one(key: Key, action: Action) -> [(Key, Action); 1] {
    [(key, action)]
}

/// The live view's keys. Ctrl-C quits and Ctrl-Z suspends from anywhere
/// (typing a search or reading the help included); while searching,
/// printable characters are text whatever they are bound to here; while
/// the help overlay is open any other key closes it.
pub const BINDINGS: &[Binding] = &[
    Binding { keys: &[(Key::Char('q'), A::Quit), (Key::Ctrl('c'), A::Quit)], label: "q, Ctrl-C", contexts: ALL, help: "quit", hint: "q quit" },
    Binding { keys: &[(Key::Char('?'), A::Help), (Key::Char('h'), A::Help)], label: "?, h", contexts: VIEWS, help: "this help (any key closes it)", hint: "? help" },
    Binding { keys: &one(Key::Char('/'), A::Search), label: "/", contexts: VIEWS, help: "search id, agent, tenant (Enter keeps it, Esc clears it)", hint: "/ search" },
    Binding { keys: &[(Key::Char(','), A::StepBack), (Key::Char('.'), A::StepForward)], label: ",/.", contexts: ALL, help: "replay: one sample back, one forward", hint: ",/. step" },
    Binding { keys: &[(Key::Char('<'), A::MinuteBack), (Key::Char('>'), A::MinuteForward)], label: "</>", contexts: ALL, help: "replay: a minute back, a minute forward", hint: "</> minute" },
    Binding { keys: &one(Key::Char(' '), A::PlayPause), label: "space", contexts: ALL, help: "replay: play at recorded speed, or pause", hint: "space play" },
    Binding { keys: &[(Key::Char('+'), A::Faster), (Key::Char('-'), A::Slower)], label: "+/-", contexts: ALL, help: "replay: play twice as fast, half as fast (1/8x to 64x)", hint: "" },
    Binding { keys: &one(Key::Char('T'), A::GoTo), label: "T", contexts: ALL, help: "replay: go to a time (03:12, 2026-11-28T03:12:05Z, a copied stamp, -10m)", hint: "T time" },
    Binding { keys: &one(Key::Ctrl('z'), A::Suspend), label: "Ctrl-Z", contexts: EVERYWHERE, help: "suspend (the shell's fg resumes)", hint: "" },
    Binding { keys: &one(Key::Char('e'), A::Events), label: "e", contexts: &[Table, Groups, Detail, Events, Stack], help: "events, newest first: blocked loops, slow sessions, workers gone and back, failures (e again closes)", hint: "e events" },
    Binding { keys: &one(Key::Char('y'), A::Stack), label: "y", contexts: &[Table, Groups, Detail, Stack], help: "the Python stack of the selected session's worker, taken now with py-spy (y again: a new one)", hint: "y stack" },
    Binding { keys: &one(Key::Char('r'), A::Refresh), label: "r", contexts: ALL, help: "refresh now", hint: "" },
    Binding { keys: &one(Key::Char('s'), A::SortNext), label: "s", contexts: VIEWS, help: "cycle the sort column ({sort cycle})", hint: "s/S sort" },
    Binding { keys: &one(Key::Char('S'), A::SortReverse), label: "S", contexts: VIEWS, help: "reverse the sort direction", hint: "" },
    Binding { keys: &one(Key::Char('f'), A::StatusNext), label: "f", contexts: VIEWS, help: "cycle the status filter ({status cycle})", hint: "f status" },
    Binding { keys: &one(Key::Char('a'), A::AgentNext), label: "a", contexts: VIEWS, help: "cycle the agent filter through the agents present", hint: "a/t agent/tenant" },
    Binding { keys: &one(Key::Char('t'), A::TenantNext), label: "t", contexts: VIEWS, help: "cycle the tenant filter through the tenants present", hint: "" },
    Binding { keys: &one(Key::Char('w'), A::WorkerNext), label: "w", contexts: VIEWS, help: "cycle the worker filter through the workers (several sockets)", hint: "" },
    Binding { keys: &one(Key::Char('p'), A::Pin), label: "p", contexts: &[Table], help: "pin or unpin the selected session (kept at the top)", hint: "p pin" },
    Binding { keys: &one(Key::Char('g'), A::GroupByAgent), label: "g", contexts: VIEWS, help: "per-agent view on or off", hint: "g/G group" },
    Binding { keys: &one(Key::Char('G'), A::GroupByTenant), label: "G", contexts: VIEWS, help: "per-tenant view on or off", hint: "" },
    Binding { keys: &one(Key::Char('W'), A::GroupByWorker), label: "W", contexts: VIEWS, help: "per-worker view on or off", hint: "" },
    Binding { keys: &one(Key::Char('\n'), A::Open), label: "Enter", contexts: &[Table], help: "details of the selected session", hint: "Enter details" },
    Binding { keys: &one(Key::Char('\n'), A::ShowGroup), label: "Enter", contexts: &[Groups], help: "in a group view: show that group's sessions", hint: "Enter show group" },
    Binding { keys: &[(Key::Char('\n'), A::Close), (Key::Esc, A::Close)], label: "Enter, Esc", contexts: &[Detail], help: "in the detail pane: close it", hint: "Enter/Esc close" },
    Binding { keys: &one(Key::Esc, A::Close), label: "Esc", contexts: PANES, help: "in the events or stack pane: close it", hint: "Esc close" },
    Binding { keys: &one(Key::Esc, A::Back), label: "Esc", contexts: VIEWS, help: "leave a group view, or clear the search", hint: "" },
    Binding { keys: &[(Key::Up, A::Up), (Key::Down, A::Down), (Key::Char('k'), A::Up), (Key::Char('j'), A::Down)], label: "Up/Down, k/j", contexts: MOVING, help: "move the selection", hint: "" },
    Binding { keys: &[(Key::Up, A::Up), (Key::Down, A::Down), (Key::Char('k'), A::Up), (Key::Char('j'), A::Down)], label: "Up/Down, k/j", contexts: &[Detail], help: "in the detail pane: the previous/next session", hint: "j/k next/previous session" },
    Binding { keys: &[(Key::PageUp, A::PageUp), (Key::PageDown, A::PageDown)], label: "PgUp/PgDn", contexts: MOVING, help: "move the selection by a page", hint: "" },
    Binding {
        keys: &[(Key::Up, A::Up), (Key::Down, A::Down), (Key::Char('k'), A::Up), (Key::Char('j'), A::Down), (Key::PageUp, A::PageUp), (Key::PageDown, A::PageDown), (Key::Home, A::Home)],
        label: "Up/Down, k/j, PgUp/PgDn, Home",
        contexts: PANES,
        help: "in the events or stack pane: scroll",
        hint: "",
    },
    Binding {
        keys: &[(Key::Up, A::Up), (Key::Down, A::Down), (Key::Char('k'), A::Up), (Key::Char('j'), A::Down), (Key::PageUp, A::PageUp), (Key::PageDown, A::PageDown)],
        label: "Up/Down, k/j, PgUp/PgDn",
        contexts: &[Help],
        help: "in this help: scroll (any other key closes it)",
        hint: "",
    },
    Binding { keys: &[(Key::Home, A::Home), (Key::End, A::End)], label: "Home/End", contexts: VIEWS, help: "move the selection to the first/last row", hint: "" },
    Binding { keys: &one(Key::Char('\n'), A::SearchKeep), label: "Enter", contexts: &[Search], help: "while searching: keep the search as a filter", hint: "Enter keeps" },
    Binding { keys: &one(Key::Esc, A::SearchClear), label: "Esc", contexts: &[Search], help: "while searching: clear it", hint: "Esc clears" },
    Binding { keys: &one(Key::Backspace, A::SearchErase), label: "Backspace", contexts: &[Search], help: "while searching: delete the last character", hint: "" },
    Binding { keys: &one(Key::Char('\n'), A::GotoKeep), label: "Enter", contexts: &[Goto], help: "while typing a time: go to it (the last sample at or before it)", hint: "Enter goes" },
    Binding { keys: &one(Key::Esc, A::GotoCancel), label: "Esc", contexts: &[Goto], help: "while typing a time: cancel", hint: "Esc cancels" },
    Binding { keys: &one(Key::Backspace, A::GotoErase), label: "Backspace", contexts: &[Goto], help: "while typing a time: delete the last character", hint: "" },
];

/// The action `key` is bound to in `context`, if any.
pub fn action(context: Context, key: Key) -> Option<Action> {
    BINDINGS
        .iter()
        .filter(|b| b.contexts.contains(&context))
        .find_map(|b| b.keys.iter().find(|(k, _)| *k == key).map(|&(_, a)| a))
}

/// Which footer hints stay when not all fit, first to last (the others
/// after them, in table order): the footer shows whole hints, in table
/// order, leaving out the last of these first. (At 80 columns it cut the
/// line after `/ search  e events  y stack`, losing pin, group and details.)
pub const HINT_RANK: &[&str] = &[
    "q quit", "? help", "Enter details", "Enter show group", "Enter/Esc close", "Esc close", "Enter keeps", "Esc clears",
    "Enter goes", "Esc cancels", "s/S sort", "p pin", "g/G group", "f status", "/ search", "space play", ",/. step",
    "e events", "y stack", "T time", "</> minute", "a/t agent/tenant",
];

/// The footer hints of `context`, in table order (a replay's travel keys
/// only when replaying).
pub fn hints(context: Context, replay: bool) -> impl Iterator<Item = &'static str> {
    BINDINGS
        .iter()
        .filter(move |b| !b.hint.is_empty() && b.contexts.contains(&context) && (replay || !b.keys[0].1.travels()))
        .map(|b| b.hint)
}

/// Help lines, `label` and `help`, one per binding; a cycle is named from
/// where it is defined (the sort keys' and the status filter's). `replay`:
/// a replay's keys too (travel, and typing a time), which the live view's
/// overlay leaves out; `--help` and the man page list them all.
pub fn help_lines(replay: bool) -> impl Iterator<Item = (&'static str, String)> {
    let sorts: Vec<&str> = Column::SORT_CYCLE.iter().map(|c| c.sort_name()).collect();
    let help = move |h: &str| h.replace("{sort cycle}", &sorts.join(", ")).replace("{status cycle}", &StatusFilter::NAMES.join(", "));
    BINDINGS
        .iter()
        .filter(move |b| replay || !(b.keys[0].1.travels() || b.contexts == [Goto]))
        .map(move |b| (b.label, help(b.help)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action, once, in declaration order. An action left out of it
    /// does not compile: `index` must name every action (its match is
    /// exhaustive), and each of its arms looks the action up in `ALL` at
    /// compile time, which fails for one that is not there.
    impl Action {
        const ALL: [Action; 41] = {
            use Action::*;
            [
                Quit, Refresh, SortNext, SortReverse, StatusNext, AgentNext, TenantNext, WorkerNext, Up, Down, PageUp,
                PageDown, Home, End, Pin, Search, Open, ShowGroup, Close, GroupByAgent, GroupByTenant, GroupByWorker,
                Back, Help, SearchKeep, SearchClear, SearchErase, Suspend, Events, Stack, StepBack, StepForward, MinuteBack,
                MinuteForward, PlayPause, Faster, Slower, GoTo, GotoKeep, GotoCancel, GotoErase,
            ]
        };

        /// Where the action is in `ALL`.
        fn index(self) -> usize {
            use Action::*;
            macro_rules! places {
                ($($a:ident)*) => {
                    match self {
                        $($a => const { at($a) },)*
                    }
                };
            }
            places!(
                Quit Refresh SortNext SortReverse StatusNext AgentNext TenantNext WorkerNext Up Down PageUp PageDown
                Home End Pin Search Open ShowGroup Close GroupByAgent GroupByTenant GroupByWorker Back Help SearchKeep
                SearchClear SearchErase Suspend Events Stack StepBack StepForward MinuteBack MinuteForward PlayPause Faster Slower
                GoTo GotoKeep GotoCancel GotoErase
            )
        }
    }

    /// The first place of `a` in `Action::ALL`; evaluated in a `const`, a
    /// compile error when it is not there.
    const fn at(a: Action) -> usize {
        let mut i = 0;
        while i < Action::ALL.len() {
            if Action::ALL[i] as usize == a as usize {
                return i;
            }
            i += 1;
        }
        panic!("an action is missing from Action::ALL");
    }

    /// `ALL` holds each action once: the match maps `ALL[i]` back to `i`
    /// for every `i`, so its values are exactly `0..ALL.len()`, and every
    /// action (each has an arm) is in `ALL`.
    #[test]
    fn all_holds_every_action_once() {
        for (i, a) in Action::ALL.iter().enumerate() {
            assert_eq!(a.index(), i, "{a:?} is in Action::ALL more than once");
        }
        let mut seen = [false; Action::ALL.len()];
        for a in Action::ALL {
            seen[a.index()] = true;
        }
        assert!(seen.iter().all(|&s| s), "the match covers all {} places of Action::ALL", Action::ALL.len());
    }

    #[test]
    fn every_action_has_a_binding_and_a_help_line() {
        for a in Action::ALL {
            let rows: Vec<&Binding> = BINDINGS.iter().filter(|b| b.keys.iter().any(|&(_, x)| x == a)).collect();
            assert!(!rows.is_empty(), "{a:?} has no binding");
            for b in rows {
                assert!(!b.label.is_empty() && !b.help.is_empty() && !b.contexts.is_empty(), "{a:?}");
            }
        }
    }

    #[test]
    fn no_key_means_two_things_in_one_context() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                let shared_context = a.contexts.iter().any(|c| b.contexts.contains(c));
                let shared_key = a.keys.iter().any(|(k, _)| b.keys.iter().any(|(l, _)| k == l));
                assert!(!(shared_context && shared_key), "{} and {} overlap", a.label, b.label);
            }
        }
    }

    #[test]
    fn labels_name_the_keys() {
        for b in BINDINGS {
            let parts: Vec<&str> =
                b.label.split(", ").flat_map(|p| if p == "/" { vec![p] } else { p.split('/').collect() }).collect();
            for (k, _) in b.keys {
                let name = match k {
                    Key::Char('\n') => "Enter".to_string(),
                    Key::Char(' ') => "space".to_string(),
                    Key::Char(c) => c.to_string(),
                    Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
                    Key::Esc => "Esc".into(),
                    Key::Up => "Up".into(),
                    Key::Down => "Down".into(),
                    Key::PageUp => "PgUp".into(),
                    Key::PageDown => "PgDn".into(),
                    Key::Home => "Home".into(),
                    Key::End => "End".into(),
                    Key::Backspace => "Backspace".into(),
                    other => panic!("no name for {other:?}"),
                };
                assert!(parts.contains(&name.as_str()), "{:?} not in label {:?}", k, b.label);
            }
            assert_eq!(parts.len(), b.keys.len(), "{}: every name in the label is a key", b.label);
        }
    }

    /// The README's key table (the rows of the table under `| Key | Action |`)
    /// lists exactly the labels of the bindings.
    #[test]
    fn the_readme_key_table_lists_the_same_keys() {
        let readme = include_str!("../../README.md");
        let table = readme.split("| Key | Action |").nth(1).expect("README has a key table");
        let mut listed: Vec<String> = table
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| l.split('|').nth(1).unwrap_or("").trim().replace('`', ""))
            .collect();
        let mut ours: Vec<String> = BINDINGS.iter().map(|b| b.label.to_string()).collect();
        listed.sort();
        listed.dedup();
        ours.sort();
        ours.dedup();
        assert_eq!(listed, ours, "README's key table and BINDINGS differ");
    }
}
