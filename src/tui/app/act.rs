//! What keys do to the live view's state: a key is looked up in the
//! bindings table (`keys`) for the context it is pressed in, and its action
//! carried out here; the `Effect` returned is for the loop to act on.

use termion::event::Key;

use super::{App, Effect, Mode, Travel};
use crate::tui::keys::{self, Action, Context};
use crate::tui::panel::RowKey;
use crate::view::Group;

impl App {
    /// Where keys are being pressed, for the bindings table.
    pub fn context(&self) -> Context {
        match self.mode {
            Mode::Detail(_) => Context::Detail,
            Mode::Search => Context::Search,
            Mode::Goto => Context::Goto,
            Mode::Events => Context::Events,
            Mode::Stack(_) => Context::Stack,
            _ if self.group.is_some() => Context::Groups,
            _ => Context::Table,
        }
    }

    pub fn key(&mut self, key: Key) -> Effect {
        self.note = None;
        match key {
            Key::Ctrl('c') => return Effect::Quit,
            Key::Ctrl('z') => return Effect::Suspend,
            _ => {}
        }
        if self.mode == Mode::Help {
            // Its keys scroll it (as far as its last line); any other key
            // closes it, and does nothing else (q included).
            // (In the overlay the panel's page is the overlay's rows: `frame::plan`.)
            let page = self.panel.page.max(1);
            let last = crate::tui::keys::help_lines(self.replay.is_some()).count().saturating_sub(page);
            let s = &mut self.pane_scroll;
            match crate::tui::keys::action(Context::Help, key) {
                Some(Action::Up) => *s = s.saturating_sub(1),
                Some(Action::Down) => *s = (*s + 1).min(last),
                Some(Action::PageUp) => *s = s.saturating_sub(page),
                Some(Action::PageDown) => *s = (*s + page).min(last),
                _ => self.mode = Mode::Table,
            }
            return Effect::None;
        }
        let context = self.context();
        match (context, key) {
            // While searching, a printable character is text, whatever it is
            // bound to elsewhere.
            (Context::Search, Key::Char(c)) if !c.is_control() => {
                self.type_text(&c.to_string());
                Effect::None
            }
            (Context::Goto, Key::Char(c)) if !c.is_control() => {
                self.goto.push(c);
                Effect::None
            }
            _ => keys::action(context, key).map_or(Effect::None, |a| self.act(a)),
        }
    }

    /// A paste: text for the search while typing one, else nothing (a
    /// paste is not a stream of commands).
    pub fn paste(&mut self, text: &str) -> Effect {
        match self.mode {
            Mode::Search => self.type_text(text),
            // A stamp copied from a recorded line, say.
            Mode::Goto => self.goto.extend(text.chars().filter(|c| !c.is_control()).take(64)),
            _ => {}
        }
        Effect::None
    }

    /// Typed or pasted search text (controls dropped), applied at `settle`.
    fn type_text(&mut self, text: &str) {
        let search = self.query.search.get_or_insert_with(String::new);
        search.extend(text.chars().filter(|c| !c.is_control()));
        self.dirty = true;
    }

    /// Carry out one action.
    pub fn act(&mut self, action: Action) -> Effect {
        // Everything but erasing needs the rows as the search now selects.
        if action != Action::SearchErase {
            self.settle();
        }
        let cur = self.panel.cursor as isize;
        if matches!(self.mode, Mode::Events | Mode::Stack(_)) {
            let s = &mut self.pane_scroll;
            match action {
                Action::Up => *s = s.saturating_sub(1),
                Action::Down => *s += 1,
                Action::PageUp => *s = s.saturating_sub(self.panel.page.max(1)),
                Action::PageDown => *s += self.panel.page.max(1),
                Action::Home => *s = 0,
                _ => {}
            }
        }
        match action {
            Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Home if matches!(self.mode, Mode::Events | Mode::Stack(_)) => {
                return Effect::None;
            }
            Action::Events => {
                self.mode = if self.mode == Mode::Events { Mode::Table } else { Mode::Events };
                self.pane_scroll = 0;
                self.events_seen = self.events.count();
                return Effect::None;
            }
            Action::Stack => return self.stack(),
            Action::Quit => return Effect::Quit,
            Action::Refresh => return Effect::Refetch,
            Action::Suspend => return Effect::Suspend,
            Action::SortNext => self.query.sort = self.query.sort.next_sort(),
            Action::SortReverse => self.query.reverse = !self.query.reverse,
            Action::StatusNext => self.query.status = self.query.status.next(),
            Action::AgentNext => {
                let agents = self.pool.sessions.iter().map(|s| &*s.agent_name);
                self.query.agent = cycle(&self.query.agent, agents);
            }
            Action::TenantNext => {
                let tenants = self.pool.sessions.iter().map(|s| s.tenant.as_deref().unwrap_or("-"));
                self.query.tenant = cycle(&self.query.tenant, tenants);
            }
            Action::WorkerNext => {
                let labels = self.pool.workers.iter().map(|w| w.label.as_str());
                self.query.worker = cycle(&self.query.worker, labels);
            }
            Action::Up => return self.move_cursor(cur - 1),
            Action::Down => return self.move_cursor(cur + 1),
            Action::Home => return self.move_cursor(0),
            Action::End => return self.move_cursor(isize::MAX),
            Action::PageUp => return self.page_by(-1),
            Action::PageDown => return self.page_by(1),
            Action::Pin => self.toggle_pin(),
            Action::Search => {
                self.mode = Mode::Search;
                self.query.search.get_or_insert_with(String::new);
                return Effect::None;
            }
            Action::Open => {
                self.open_detail();
                return Effect::None;
            }
            Action::ShowGroup => return self.show_group(),
            Action::Close => {
                self.mode = Mode::Table;
                return Effect::None;
            }
            Action::GroupByAgent => return self.toggle_group(Group::Agent),
            Action::GroupByTenant => return self.toggle_group(Group::Tenant),
            Action::GroupByWorker => return self.toggle_group(Group::Worker),
            Action::Back => {
                if let Some(by) = self.group {
                    return self.toggle_group(by);
                }
                // The search first, then the group drilled into.
                if self.query.search.take().is_none() {
                    return self.back_to_group();
                }
            }
            Action::Help => {
                self.mode = Mode::Help;
                self.pane_scroll = 0;
                return Effect::None;
            }
            Action::SearchKeep => {
                self.mode = Mode::Table;
                if self.query.search.as_deref().is_some_and(str::is_empty) {
                    self.query.search = None;
                }
            }
            Action::SearchClear => {
                self.mode = Mode::Table;
                self.query.search = None;
            }
            Action::SearchErase => {
                if let Some(text) = self.query.search.as_mut() {
                    text.pop();
                }
                self.dirty = true;
                return Effect::None;
            }
            a if a.travels() && self.replay.is_none() => return Effect::None,
            Action::StepBack => return Effect::Travel(Travel::Step(-1)),
            Action::StepForward => return Effect::Travel(Travel::Step(1)),
            Action::MinuteBack => return Effect::Travel(Travel::Minutes(-1)),
            Action::MinuteForward => return Effect::Travel(Travel::Minutes(1)),
            Action::PlayPause => return Effect::Travel(Travel::PlayPause),
            Action::Faster => return Effect::Travel(Travel::Faster),
            Action::Slower => return Effect::Travel(Travel::Slower),
            Action::GoTo => {
                self.mode = Mode::Goto;
                self.goto.clear();
                return Effect::None;
            }
            Action::GotoKeep => {
                self.mode = Mode::Table;
                return Effect::Travel(Travel::To(std::mem::take(&mut self.goto)));
            }
            Action::GotoCancel => {
                self.mode = Mode::Table;
                self.goto.clear();
                return Effect::None;
            }
            Action::GotoErase => {
                self.goto.pop();
                return Effect::None;
            }
        }
        self.reorder();
        Effect::None
    }

    /// `y`: the stack pane for the selected session's worker, and (live)
    /// a new stack taken of it.
    fn stack(&mut self) -> Effect {
        let Some(key) = self.stack_worker() else {
            self.note = Some("select a session first: y takes the stack of its worker".into());
            return Effect::None;
        };
        self.mode = Mode::Stack(key);
        self.pane_scroll = 0;
        // A replay shows the stack recorded with the sample.
        if self.replay.is_some() {
            return Effect::None;
        }
        let had = self.pool.workers.iter().find(|w| w.key == key).and_then(|w| w.stack.as_ref()).map(|t| t.at);
        self.asked = Some((key, had));
        Effect::TakeStack(key)
    }

    fn page_by(&mut self, pages: isize) -> Effect {
        let len = self.len();
        let mut panel = std::mem::take(&mut self.panel);
        panel.page_by(pages, len, |i| self.key_at(i));
        self.panel = panel;
        self.follow_in_detail();
        Effect::None
    }

    /// Pin the selected session, or unpin it; the cursor stays on it.
    fn toggle_pin(&mut self) {
        let Some(key) = self.selected_key() else { return };
        match self.pins.iter().position(|p| *p == key) {
            Some(i) => {
                self.pins.remove(i);
            }
            None => self.pins.push(key.clone()),
        }
        self.panel.selected = Some(RowKey::Session(key));
    }

    /// Enter on a group narrows the table to it; Esc comes back.
    fn show_group(&mut self) -> Effect {
        let Some(by) = self.group else { return Effect::None };
        let Some(name) = self.groups.get(self.panel.cursor).map(|g| g.name.to_string()) else { return Effect::None };
        let filter = self.filter_of(by);
        self.drilled = Some((by, filter.replace(name.clone())));
        self.toggle_group(by);
        // Esc returns with the cursor on this group.
        Effect::None
    }

    /// The filter a group view narrows: agent, tenant or worker.
    fn filter_of(&mut self, by: Group) -> &mut Option<String> {
        match by {
            Group::Agent => &mut self.query.agent,
            Group::Tenant => &mut self.query.tenant,
            Group::Worker => &mut self.query.worker,
        }
    }

    /// Esc after a drill-down: the group view again, its filter as it was,
    /// the cursor on the group drilled into.
    fn back_to_group(&mut self) -> Effect {
        let Some((by, before)) = self.drilled.take() else { return Effect::None };
        let name = std::mem::replace(self.filter_of(by), before);
        self.group = Some(by);
        self.panel.reset();
        self.panel.selected = name.map(|n| RowKey::Group(n.into()));
        self.reorder();
        Effect::None
    }

    fn move_cursor(&mut self, to: isize) -> Effect {
        let len = self.len();
        let mut panel = std::mem::take(&mut self.panel);
        panel.move_to(to, len, |i| self.key_at(i));
        self.panel = panel;
        self.follow_in_detail();
        Effect::None
    }

    /// The detail pane shows whichever session the cursor is on.
    fn follow_in_detail(&mut self) {
        if let Mode::Detail(_) = self.mode {
            self.open_detail();
        }
    }

    fn open_detail(&mut self) {
        if let Some(key) = self.selected_key() {
            self.detail_last = self.pool.find(&key).cloned();
            self.panel.selected = Some(RowKey::Session(key.clone()));
            self.mode = Mode::Detail(key);
        }
    }

    /// Switch to the group view `by`, or back to sessions; the cursor starts
    /// at the top of the new view.
    fn toggle_group(&mut self, by: Group) -> Effect {
        if self.group.is_none() {
            // A group view of its own: no drill-down to go back to.
            self.drilled = None;
        }
        self.group = if self.group == Some(by) { None } else { Some(by) };
        self.panel.reset();
        self.reorder();
        Effect::None
    }
}

/// Next value of a filter cycling through the values present, in order:
/// all, each value, all again. (The smallest value after the current one,
/// in one pass.)
fn cycle<'a>(current: &Option<String>, values: impl Iterator<Item = &'a str>) -> Option<String> {
    values.filter(|v| current.as_deref().is_none_or(|c| *v > c)).min().map(String::from)
}

