//! What the binary says about itself: the man page and the completions it
//! generates (`--generate`), read by the programs that will read them.

use std::process::Command;
use std::time::Duration;

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

/// README's runnable recipes are the code's table of examples (which the
/// man page's EXAMPLES print), and each runs as written against the demo
/// worker at the default path, with a slow session in it: status 0,
/// nothing on stderr, and the output it promises.
#[test]
fn readme_recipes_are_the_examples_and_each_runs() {
    use openrtc_top::cli::examples::EXAMPLES;
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme.split("```sh recipes\n").nth(1).and_then(|b| b.split("\n```").next()).expect("README has a ```sh recipes block");
    let listed: Vec<(String, String)> = block.lines().collect::<Vec<_>>().chunks(2).map(|p| (p[0].trim_start_matches("# ").to_string(), p.get(1).unwrap_or(&"").to_string())).collect();
    let ours: Vec<(String, String)> = EXAMPLES.iter().map(|e| (e.what.to_string(), e.command.to_string())).collect();
    assert_eq!(listed, ours, "README's recipes and cli::examples::EXAMPLES differ");
    let man = generate("man");
    assert_eq!(man.split(".SH EXAMPLES").nth(1).unwrap().split(".SH").next().unwrap().matches(".TP").count(), EXAMPLES.len());

    // The demo worker where the default path is, blocking once early so a
    // session is slow afterwards (for 5 s, as openrtc keeps it).
    let d = TempDir::new("recipes");
    let dir = d.join(&format!("openrtc-{}", uid()));
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let sock = dir.join("top.sock");
    let mut demo = Command::new(DEMO)
        .args(["--socket", sock.to_str().unwrap(), "--block", "sleep", "--block-after", "0.2", "--block-for", "0.3", "--seed", "3", "--exit-after", "60"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let bin_dir = std::path::Path::new(BIN).parent().unwrap().to_str().unwrap().to_string();
    let path = format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default());
    let xdg = d.path().to_str().unwrap().to_string();
    let env = [("PATH", path.as_str()), ("XDG_RUNTIME_DIR", xdg.as_str())];
    wait_until("a slow session after the block", Duration::from_secs(20), || {
        let out = run_with(&["--once", "--status", "slow", "--no-header"], &[("XDG_RUNTIME_DIR", xdg.as_str())], Duration::from_secs(5));
        out.status.success() && !out.stdout.is_empty()
    });
    for e in EXAMPLES {
        let out = run_program("bash", &["-o", "pipefail", "-c", e.command], &env, Duration::from_secs(20));
        let (so, se) = (text(&out.stdout), text(&out.stderr));
        assert_eq!((out.status.code(), se.as_str()), (Some(0), ""), "{}: {so}", e.command);
        assert!(!so.trim().is_empty(), "{}: printed nothing", e.command);
        if e.command.contains("\"slow\"") {
            assert!(so.lines().all(|l| l.starts_with("AJ_")), "{}: {so}", e.command);
        }
    }
    let _ = demo.kill();
    let _ = demo.wait();
}

/// Where README and `--help` both say what `--at` defaults to, they say the
/// same (README once said the last sample, `--help` the first live).
#[test]
fn readme_and_help_agree_on_the_default_of_at() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let row = readme.lines().find(|l| l.starts_with("| `--at TIME` |")).expect("README's flag table has --at");
    let default = row.split('|').nth(2).unwrap().trim().to_string();
    let help = text(&run(&["--help"]).stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    let said = help.split("--at TIME").nth(1).and_then(|h| h.split("[default: ").nth(1)).and_then(|h| h.split(']').next()).unwrap();
    assert_eq!(default, said);
    assert_eq!(openrtc_top::cli::flags::by_long("at").unwrap().0.default, Some(said));
}

/// README is what an operator scans: at most 500 lines, the rest in doc/,
/// and every doc/ page it links to is there.
#[test]
fn readme_is_short_and_its_links_resolve() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    assert!(readme.lines().count() <= 500, "README has {} lines", readme.lines().count());
    for link in readme.split("](doc/").skip(1).map(|l| l.split(')').next().unwrap().split('#').next().unwrap()) {
        assert!(std::path::Path::new(&format!("{root}/doc/{link}")).is_file(), "README links to doc/{link}, which is missing");
    }
}
