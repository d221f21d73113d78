//! What the command line says about itself, all from the one table of flags
//! (`flags::FLAGS`) and the key bindings handed in: `--help` (in 80
//! columns), the man page, and completions for bash, zsh and fish
//! (`--generate`; `make install` puts them where distributions do).

use std::fmt::Write as _;

use super::flags::{EXIT_STATUS, FLAGS, Flag, Takes};
use crate::model::column::Column;

const WIDTH: usize = 80;

const ABOUT: &str = "Shows one row per live session of the worker serving the introspection socket, refreshing in place \
(htop-style). With --once, or when stdout is not a terminal, prints one snapshot and exits.";

/// `text` wrapped to `width` columns, each line after the first indented by
/// `indent` spaces (the first is where the caller left off).
fn wrap(text: &str, indent: usize, width: usize) -> String {
    let room = width.saturating_sub(indent).max(20);
    let mut out = String::new();
    let mut line = 0;
    for word in text.split(' ') {
        if line > 0 && line + 1 + word.len() > room {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', indent));
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

/// The flag as written in help: `-n, --iterations N`.
fn spelled(f: &Flag) -> String {
    let short = f.short.map_or("    ".to_string(), |c| format!("-{c}, "));
    let value = if f.value.is_empty() { String::new() } else { format!(" {}", f.value) };
    format!("{short}--{}{value}", f.long)
}

/// What the flag takes, said in words (the sort keys, a list of words).
fn choices(f: &Flag) -> Option<String> {
    match f.takes {
        Takes::Words(w) if f.long != "generate" => Some(w.join(", ")),
        Takes::SortKey => Some(Column::all_sort_names().collect::<Vec<_>>().join(", ")),
        _ => None,
    }
}

/// A flag's help as `--help` and the man page say it: the table's help,
/// its default, the words it takes, and how to undo a switch.
fn flag_help(f: &Flag) -> String {
    let mut help = f.help.to_string();
    if let Some(d) = f.default {
        let _ = write!(help, " [default: {d}]");
    }
    if let Some(c) = choices(f) {
        let _ = write!(help, " ({c})");
    }
    if let Some(n) = f.negate {
        let _ = write!(help, " (--{n} undoes it)");
    }
    help
}

/// `--help`; `keys` are the live view's bindings, label and help line.
pub fn help(keys: &[(&str, String)]) -> String {
    let mut out = format!(
        "openrtc-top {}: live inspector for an openrtc coroutine-mode worker\n\nUsage: openrtc-top [OPTIONS]\n\n{}\n\nOptions:\n",
        env!("CARGO_PKG_VERSION"),
        wrap(ABOUT, 0, WIDTH)
    );
    const FLAG_COL: usize = 27;
    for f in FLAGS {
        let head = format!("  {}", spelled(f));
        let _ = write!(out, "{head:FLAG_COL$}");
        if head.len() >= FLAG_COL {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', FLAG_COL));
        }
        out.push_str(&wrap(&flag_help(f), FLAG_COL, WIDTH));
        out.push('\n');
    }
    out.push_str("\nKeys (live view; also '?' there):\n");
    let key_col = keys.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 4;
    for (k, what) in keys {
        let _ = writeln!(out, "  {k:w$}{}", wrap(what, key_col, WIDTH), w = key_col - 2);
    }
    let status: Vec<String> = EXIT_STATUS.iter().map(|(n, what)| format!("{n} {what}")).collect();
    let _ = writeln!(out, "\n{}", wrap(&format!("Exit status: {}.", status.join(", ")), 0, WIDTH));
    out
}

/// roff text: backslashes escaped, and a line starting with `.` or `'`
/// kept from being read as a request.
fn roff(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') { format!("\\&{s}") } else { s }
}

/// The man page, openrtc-top(1), in roff.
pub fn man(keys: &[(&str, String)]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, ".TH OPENRTC\\-TOP 1 \"\" \"openrtc\\-top {}\" \"User Commands\"", env!("CARGO_PKG_VERSION"));
    out.push_str(".SH NAME\nopenrtc\\-top \\- live inspector for openrtc coroutine\\-mode workers\n");
    out.push_str(".SH SYNOPSIS\n.B openrtc\\-top\n[\\fIOPTIONS\\fR]\n");
    let _ = writeln!(out, ".SH DESCRIPTION\n{}", roff(ABOUT));
    out.push_str(".SH OPTIONS\n");
    for f in FLAGS {
        let short = f.short.map_or(String::new(), |c| format!("\\fB\\-{c}\\fR, "));
        let value = if f.value.is_empty() { String::new() } else { format!(" \\fI{}\\fR", f.value) };
        let _ = writeln!(out, ".TP\n{short}\\fB\\-\\-{}\\fR{value}\n{}", roff(f.long), roff(&flag_help(f)));
    }
    out.push_str(".SH KEYS\nIn the live view (also listed by \\fB?\\fR there):\n");
    for (k, what) in keys {
        let _ = writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff(k), roff(what));
    }
    out.push_str(".SH EXIT STATUS\n");
    for (n, what) in EXIT_STATUS {
        let _ = writeln!(out, ".TP\n\\fB{n}\\fR\n{}", roff(what));
    }
    out.push_str(".SH ENVIRONMENT\n.TP\n\\fBXDG_RUNTIME_DIR\\fR, \\fBTMPDIR\\fR\nwhere the default socket is, as the worker computes it\n");
    out.push_str(".TP\n\\fBNO_COLOR\\fR\nnon\\-empty: no colour unless \\fB\\-\\-color always\\fR\n");
    out.push_str(".TP\n\\fBLC_ALL\\fR, \\fBLC_CTYPE\\fR, \\fBLANG\\fR\nnot UTF\\-8: every output is ASCII\n");
    out.push_str(".SH EXAMPLES\n");
    for e in super::examples::EXAMPLES {
        let _ = writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff(e.command), roff(e.what));
    }
    out.push_str(".SH SEE ALSO\nhtop(1), top(1)\n");
    out
}

/// Every `--long` and `-s` spelling, negations too, for completion.
fn spellings() -> Vec<String> {
    FLAGS
        .iter()
        .flat_map(|f| f.short.map(|c| format!("-{c}")).into_iter().chain([format!("--{}", f.long)]).chain(f.negate.map(|n| format!("--{n}"))))
        .collect()
}

fn words(f: &Flag) -> Option<Vec<&'static str>> {
    match f.takes {
        Takes::Words(w) => Some(w.to_vec()),
        Takes::SortKey => Some(Column::all_sort_names().collect()),
        _ => None,
    }
}

/// A short help for completion menus: the first clause, no brackets or
/// quotes (which zsh and fish would read as syntax).
fn short_help(f: &Flag) -> String {
    f.help.split([';', '[', '(']).next().unwrap_or("").trim().replace(['\'', '"', ':', '`', '$'], "")
}

/// Completion for bash (`complete -F`).
pub fn bash() -> String {
    let mut cases = String::new();
    for f in FLAGS.iter().filter(|f| f.takes != Takes::Nothing) {
        let names: Vec<String> = f.short.map(|c| format!("-{c}")).into_iter().chain([format!("--{}", f.long)]).collect();
        let action = match (f.takes, words(f)) {
            (_, Some(w)) => format!("COMPREPLY=($(compgen -W \"{}\" -- \"$cur\"))", w.join(" ")),
            (Takes::Path, _) => "COMPREPLY=($(compgen -f -- \"$cur\"))".to_string(),
            _ => "COMPREPLY=()".to_string(),
        };
        let _ = writeln!(cases, "        {})\n            {action}\n            return ;;", names.join("|"));
    }
    format!(
        "# bash completion for openrtc-top (openrtc-top --generate bash)\n_openrtc_top() {{\n    local cur prev\n    cur=\"${{COMP_WORDS[COMP_CWORD]}}\"\n    prev=\"${{COMP_WORDS[COMP_CWORD-1]}}\"\n    case \"$prev\" in\n{cases}    esac\n    COMPREPLY=($(compgen -W \"{}\" -- \"$cur\"))\n}}\ncomplete -F _openrtc_top openrtc-top\n",
        spellings().join(" ")
    )
}

/// Completion for zsh (`_arguments`).
pub fn zsh() -> String {
    let mut out = String::from("#compdef openrtc-top\n# zsh completion for openrtc-top (openrtc-top --generate zsh)\n_arguments -s \\\n");
    for f in FLAGS {
        let action = match (f.takes, words(f)) {
            (Takes::Nothing, _) => String::new(),
            (_, Some(w)) => format!(":{}:({})", f.value, w.join(" ")),
            (Takes::Path, _) => format!(":{}:_files", f.value),
            _ => format!(":{}: ", f.value),
        };
        let help = short_help(f);
        match f.short {
            Some(c) => {
                let _ = writeln!(out, "  '(-{c} --{l})'{{-{c},--{l}}}'[{help}]{action}' \\", l = f.long);
            }
            None => {
                let _ = writeln!(out, "  '--{}[{help}]{action}' \\", f.long);
            }
        }
        if let Some(n) = f.negate {
            let _ = writeln!(out, "  '--{n}[undo --{}]' \\", f.long);
        }
    }
    out.push_str("  && return 0\n");
    out
}

/// Completion for fish (`complete -c`).
pub fn fish() -> String {
    let mut out = String::from("# fish completion for openrtc-top (openrtc-top --generate fish)\ncomplete -c openrtc-top -f\n");
    for f in FLAGS {
        let short = f.short.map_or(String::new(), |c| format!(" -s {c}"));
        let takes = match (f.takes, words(f)) {
            (Takes::Nothing, _) => String::new(),
            (_, Some(w)) => format!(" -x -a '{}'", w.join(" ")),
            (Takes::Path, _) => " -r -F".to_string(),
            _ => " -x".to_string(),
        };
        let _ = writeln!(out, "complete -c openrtc-top{short} -l {}{takes} -d '{}'", f.long, short_help(f));
        if let Some(n) = f.negate {
            let _ = writeln!(out, "complete -c openrtc-top -l {n} -d 'undo --{}'", f.long);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Key help lines as the live view's table gives them.
    fn keys() -> Vec<(&'static str, String)> {
        vec![("q, Ctrl-C", "quit".into()), ("Up/Down, k/j", "move the selection".into())]
    }

    #[test]
    fn help_fits_80_columns_and_names_every_flag_and_key() {
        let h = help(&keys());
        for line in h.lines() {
            assert!(crate::text::width(line) <= WIDTH, "{} columns: {line:?}", crate::text::width(line));
        }
        for f in FLAGS {
            assert!(h.contains(&format!("--{}", f.long)), "--{}", f.long);
        }
        for (k, _) in keys() {
            assert!(h.contains(k), "{k}");
        }
        assert!(h.contains("Exit status: 0 ok, 1 no running pool"), "{h}");
    }

    #[test]
    fn man_page_and_completions_name_every_flag() {
        let man = man(&keys());
        let (bash, zsh, fish) = (bash(), zsh(), fish());
        for f in FLAGS {
            assert!(man.contains(&format!("\\fB\\-\\-{}\\fR", f.long.replace('-', "\\-"))), "man lacks --{}", f.long);
            assert!(bash.contains(&format!("--{}", f.long)), "bash lacks --{}", f.long);
            assert!(zsh.contains(&format!("--{}", f.long)), "zsh lacks --{}", f.long);
            assert!(fish.contains(&format!("-l {}", f.long)), "fish lacks --{}", f.long);
        }
        assert!(bash.contains("compgen -W \"all active slow draining errored\""));
        assert!(zsh.contains("--sort[initial sort column]:KEY:(mem_mb cpu_pct"));
        assert!(fish.contains("-l format -x -a 'table tsv json openmetrics prometheus'"));
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrap("aa bb cc", 2, 24), "aa bb cc");
        assert_eq!(wrap(&"word ".repeat(10), 4, 24), "word word word word\n    word word word word\n    word word ");
    }
}
