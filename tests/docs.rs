//! What the binary says about itself: the man page and the completions it
//! generates (`--generate`), read by the programs that will read them.

use std::process::Command;

use crate::util::*;

fn generate(what: &str) -> String {
    let out = run(&["--generate", what]);
    assert!(out.status.success() && out.stderr.is_empty(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// What bash completes after `words` (the last one being completed).
fn bash_completes(words: &[&str]) -> Vec<String> {
    let script = format!(
        "{}\nCOMP_WORDS=({}); COMP_CWORD={}; _openrtc_top; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        generate("bash"),
        words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
        words.len() - 1
    );
    let out = Command::new("bash").args(["--norc", "-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().filter(|l| !l.is_empty()).map(String::from).collect()
}

#[test]
fn bash_completes_flags_and_their_values() {
    assert_eq!(bash_completes(&["openrtc-top", "--status", ""]), ["all", "active", "slow", "draining", "errored"]);
    assert!(bash_completes(&["openrtc-top", "--sort", "c"]).contains(&"cpu_pct".to_string()));
    let flags = bash_completes(&["openrtc-top", "--no"]);
    assert_eq!(flags, ["--no-all", "--no-stacks", "--no-header", "--no-config"], "the negations complete too");
    assert!(bash_completes(&["openrtc-top", "--refresh-rate", ""]).is_empty(), "a number is not completed");
}

#[test]
fn the_man_page_renders_without_a_warning() {
    let page = generate("man");
    let dir = TempDir::new("man");
    std::fs::write(dir.join("openrtc-top.1"), &page).unwrap();
    let out = Command::new("groff").args(["-man", "-Tutf8", "-ww"]).arg(dir.join("openrtc-top.1")).output().expect("groff (Debian: groff-base)");
    assert!(out.status.success() && out.stderr.is_empty(), "groff: {}", text(&out.stderr));
    // groff overstrikes bold and underlined text (X, backspace, X) and
    // draws \- as a minus sign and - as a hyphen.
    let mut shown = String::new();
    for c in text(&out.stdout).chars() {
        if c == '\x08' {
            shown.pop();
        } else {
            shown.push(if c == '\u{2212}' || c == '\u{2010}' { '-' } else { c });
        }
    }
    for needle in ["openrtc-top - live inspector", "--refresh-rate", "EXIT STATUS", "Ctrl-Z"] {
        assert!(shown.contains(needle), "{needle}");
    }
}

#[test]
#[ignore = "needs fish (.ci/run installs it; make test runs this where fish is)"]
fn fish_completes_flag_values() {
    let dir = TempDir::new("fish");
    std::fs::write(dir.join("openrtc-top.fish"), generate("fish")).unwrap();
    let script = format!("source {}; complete -C 'openrtc-top --format '", dir.join("openrtc-top.fish").display());
    let out = Command::new("fish").args(["--no-config", "-c", &script]).output().unwrap();
    let got: Vec<String> = text(&out.stdout).lines().map(|l| l.split('\t').next().unwrap().to_string()).collect();
    assert_eq!(got, ["json", "openmetrics", "prometheus", "table", "tsv"], "{}", text(&out.stderr));
}

#[test]
#[ignore = "needs zsh (.ci/run installs it; make test runs this where zsh is)"]
fn zsh_reads_its_completion() {
    let dir = TempDir::new("zsh");
    std::fs::write(dir.join("_openrtc-top"), generate("zsh")).unwrap();
    let out = Command::new("zsh").args(["-n"]).arg(dir.join("_openrtc-top")).output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{}", text(&out.stderr));
    let script = format!("fpath=({} $fpath); autoload -U compinit; compinit -u -D; autoload -U +X _openrtc-top && whence -w _openrtc-top", dir.path().display());
    let out = Command::new("zsh").args(["-f", "-c", &script]).output().unwrap();
    assert_eq!(text(&out.stdout).trim(), "_openrtc-top: function", "{}", text(&out.stderr));
}
