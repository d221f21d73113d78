//! What a distribution ships: the systemd templates of doc/systemd (checked
//! by systemd-analyze, and their ExecStart run as systemd would run it) and
//! the Debian package that `make deb` builds (checked by lintian, and as
//! root installed, run and purged).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::util::*;

const UNITS: [&str; 2] = ["openrtc-top-exporter@.service", "openrtc-top-recorder@.service"];

/// The instance the tests name (a user; nothing here needs it to exist).
const USER: &str = "voice";

fn unit_text(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/systemd").join(name)).unwrap()
}

/// Every `Key=value` of `section`'s `key`, in order, with `%i` as systemd
/// expands it for the instance `USER`. The units use no line continuations,
/// quotes or `$`, so this reads them as systemd does (asserted).
fn values(name: &str, section: &str, key: &str) -> Vec<String> {
    let mut here = String::new();
    let mut out = Vec::new();
    for line in unit_text(name).lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        assert!(!line.ends_with('\\') && !line.contains('"') && !line.contains('$'), "{name}: {line}: this reader would misread it");
        if line.starts_with('[') {
            here = line.trim_matches(['[', ']']).to_string();
        } else if let Some((k, v)) = line.split_once('=') {
            if here == section && k == key {
                out.push(v.replace("%i", USER));
            }
        }
    }
    out
}

fn one(name: &str, section: &str, key: &str) -> String {
    let v = values(name, section, key);
    assert_eq!(v.len(), 1, "{name}: one {key}= in [{section}], not {v:?}");
    v[0].clone()
}

/// ExecStart's arguments after the program, which must be the packaged one.
fn exec_args(name: &str) -> Vec<String> {
    let exec = one(name, "Service", "ExecStart");
    let mut words = exec.split_whitespace().map(String::from);
    assert_eq!(words.next().as_deref(), Some("/usr/bin/openrtc-top"), "{name}: the package installs /usr/bin/openrtc-top");
    words.collect()
}

/// Where `--all` looks in these units: XDG_RUNTIME_DIR, which must be the
/// one thing their Environment= sets (the README and the units' comments
/// say why /tmp).
fn runtime_dir(name: &str) -> String {
    let env = one(name, "Service", "Environment");
    env.strip_prefix("XDG_RUNTIME_DIR=").unwrap_or_else(|| panic!("{name}: Environment={env}")).to_string()
}

/// A process killed on drop, so a failed assertion leaves none running.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Worker;

impl Worker {
    /// A demo worker where the worker computes its socket for a base
    /// directory `base` (standing in for the units' /tmp):
    /// `base/openrtc-UID/top.sock`, the directory 0700 as the worker makes it.
    fn under(base: &Path) -> Proc {
        let uid = unsafe { libc::getuid() };
        let dir = base.join(format!("openrtc-{uid}"));
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        Worker::at(&dir.join("top.sock"))
    }

    fn at(sock: &Path) -> Proc {
        let child = Command::new(DEMO)
            .args(["--socket", sock.to_str().unwrap(), "--exit-after", "60"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let child = Proc(child);
        wait_until("the demo worker's socket", Duration::from_secs(5), || sock.exists());
        child
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).stdout(Stdio::null()).status().unwrap().success()
}

/// `systemd-analyze verify` on the units in `dir` (instance `USER`), and
/// its offline security score: nothing said, and exposure "OK" or better.
fn verify(dir: &Path, man: bool) {
    let paths: Vec<PathBuf> = UNITS.iter().map(|u| dir.join(u.replace("@.", &format!("@{USER}.")))).collect();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--man={}", if man { "yes" } else { "no" }))
        .args(&paths)
        .output()
        .unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "systemd-analyze verify: {}{}", text(&out.stdout), text(&out.stderr));
    for p in &paths {
        let out = Command::new("systemd-analyze").args(["security", "--offline=yes", "--no-pager"]).arg(p).output().unwrap();
        let all = text(&out.stdout);
        let level = all.lines().find_map(|l| l.split("Overall exposure level for ").nth(1)).unwrap_or_else(|| panic!("{all}{}", text(&out.stderr)));
        let score: f64 = level.split(": ").nth(1).and_then(|s| s.split(' ').next()).and_then(|s| s.parse().ok()).expect(level);
        // systemd calls up to 3.9 "OK"; these score 1.9 and 1.6 (systemd 252).
        assert!(score <= 2.5, "{level}: the hardening has regressed");
    }
}

/// The units' own tests: only the binaries, and systemd-analyze where it is.
mod units {
    use super::*;

    #[test]
    fn systemd_analyze_verifies_them() {
        if !have("systemd-analyze") {
            eprintln!("package::units: systemd-analyze is not installed (Debian: apt install systemd): the units were NOT verified");
            return;
        }
        // verify checks that ExecStart's program exists: the built binary
        // stands in for /usr/bin/openrtc-top (the root test verifies the
        // installed units as they are), and the man page is not installed.
        let dir = TempDir::new("units");
        for u in UNITS {
            assert!(unit_text(u).contains("ExecStart=/usr/bin/openrtc-top "));
            std::fs::write(dir.join(u), unit_text(u).replace("ExecStart=/usr/bin/openrtc-top ", &format!("ExecStart={BIN} "))).unwrap();
        }
        verify(dir.path(), false);
    }

    #[test]
    fn they_run_as_the_workers_user_hardened_without_a_private_tmp() {
        for u in UNITS {
            assert_eq!(one(u, "Service", "User"), USER, "{u}");
            for (key, want) in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "read-only"), ("PrivateDevices", "yes")] {
                assert_eq!(one(u, "Service", key), want, "{u}: {key}");
            }
            assert!(values(u, "Service", "PrivateTmp").is_empty(), "{u}: the workers' sockets may be in /tmp");
            assert_eq!(runtime_dir(u), "/tmp", "{u}");
            assert_eq!(one(u, "Install", "WantedBy"), "multi-user.target", "{u}");
        }
        assert_eq!(one(UNITS[0], "Service", "RestrictAddressFamilies"), "AF_UNIX AF_INET AF_INET6");
        assert_eq!(one(UNITS[1], "Service", "RestrictAddressFamilies"), "AF_UNIX");
    }

    #[test]
    fn the_exporters_exec_start_serves_the_users_workers() {
        let u = UNITS[0];
        let mut args = exec_args(u);
        let at = args.iter().position(|a| a == "--serve").expect("--serve");
        assert_eq!(args[at + 1], "127.0.0.1:9464", "{u}: the README's scrape job scrapes this");
        assert!(args.contains(&"--all".to_string()));
        // The same flags, on a free port, with XDG_RUNTIME_DIR a directory
        // of ours standing in for /tmp.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        args[at + 1] = format!("127.0.0.1:{port}");
        let base = TempDir::new("unit-exporter");
        let _w = Worker::under(base.path());
        let mut child = Proc(Command::new(BIN).args(&args).env("XDG_RUNTIME_DIR", base.path()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap());
        let mut line = String::new();
        BufReader::new(child.0.stderr.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), format!("openrtc-top: serving metrics at http://127.0.0.1:{port}/metrics"));
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut metrics = String::new();
        let _ = s.read_to_string(&mut metrics);
        assert!(metrics.contains("\nopenrtc_up{worker=\"demo-worker\"} 1\n"), "the worker under XDG_RUNTIME_DIR: {metrics}");
    }

    #[test]
    fn the_recorders_exec_start_records_into_its_state_directory_and_stops_on_sigterm() {
        let u = UNITS[1];
        let state = format!("/var/lib/{}", one(u, "Service", "StateDirectory"));
        assert_eq!(state, format!("/var/lib/openrtc-top/{USER}"));
        let mut args = exec_args(u);
        let at = args.iter().position(|a| a == "--record").expect("--record");
        assert_eq!(args[at + 1], format!("{state}/pool.ndjson"), "{u}: the one directory it may write");
        let max = args.iter().position(|a| a == "--record-max").expect("--record-max");
        assert_eq!(args[max + 1], "100M");
        assert!(args.contains(&"--all".to_string()));
        let base = TempDir::new("unit-recorder");
        let dir = TempDir::new("unit-state");
        let file = dir.join("pool.ndjson");
        args[at + 1] = file.to_str().unwrap().to_string();
        let _w = Worker::under(base.path());
        // As systemd runs it: stdout and stderr not a terminal, stopped by SIGTERM.
        let mut child = Proc(Command::new(BIN).args(&args).env("XDG_RUNTIME_DIR", base.path()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap());
        wait_until("two recorded lines", Duration::from_secs(10), || std::fs::read_to_string(&file).is_ok_and(|t| t.lines().count() >= 2));
        unsafe { libc::kill(child.0.id() as i32, libc::SIGTERM) };
        let (mut said, mut err) = (Vec::new(), Vec::new());
        child.0.stdout.take().unwrap().read_to_end(&mut said).unwrap();
        child.0.stderr.take().unwrap().read_to_end(&mut err).unwrap();
        let status = child.0.wait().unwrap();
        assert!(status.success(), "SIGTERM ends it with status 0: {status:?} {}", text(&err));
        assert!(said.is_empty() && err.is_empty(), "the background recorder says nothing: {}", text(&err));
        let recorded = std::fs::read_to_string(&file).unwrap();
        assert!(recorded.ends_with('\n'), "the last line whole");
        for l in recorded.lines() {
            assert!(l.starts_with("{\"v\": 2,") && l.contains("\"demo-worker\"") && l.contains("\"answered\""), "{l}");
        }
    }
}

/// The package (`make deb`'s script, on the binary this test run built):
/// needs dpkg-deb, dpkg-shlibdeps and lintian.
mod deb {
    use super::*;

    /// Builds the package into `dir`; its path.
    pub fn build(dir: &Path) -> PathBuf {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/debian/build");
        let out = Command::new("sh").arg(script).args([BIN, env!("CARGO_PKG_VERSION")]).arg(dir).output().unwrap();
        assert!(out.status.success() && out.stderr.is_empty(), "doc/debian/build: {}", text(&out.stderr));
        let arch = text(&Command::new("dpkg").arg("--print-architecture").output().unwrap().stdout).trim().to_string();
        let deb = dir.join(format!("openrtc-top_{}_{arch}.deb", env!("CARGO_PKG_VERSION")));
        assert_eq!(text(&out.stdout).trim(), deb.to_str().unwrap());
        deb
    }

    /// The files the package must hold, and nothing else but directories.
    pub const FILES: [&str; 9] = [
        "/usr/bin/openrtc-top",
        "/usr/share/man/man1/openrtc-top.1.gz",
        "/usr/share/bash-completion/completions/openrtc-top",
        "/usr/share/zsh/vendor-completions/_openrtc-top",
        "/usr/share/fish/vendor_completions.d/openrtc-top.fish",
        "/usr/share/doc/openrtc-top/copyright",
        "/usr/share/doc/openrtc-top/changelog.gz",
        "/usr/lib/systemd/system/openrtc-top-exporter@.service",
        "/usr/lib/systemd/system/openrtc-top-recorder@.service",
    ];

    /// Tags lintian may give, each with why it stays (the README says it too).
    const KEPT: [(&str, &str); 1] = [(
        "I: openrtc-top: hardening-no-fortify-functions [usr/bin/openrtc-top]",
        "glibc's _FORTIFY_SOURCE is a C header feature a Rust binary cannot be built with; Rust checks the bounds itself",
    )];

    #[test]
    #[ignore = "needs dpkg-dev and lintian (.ci/run installs them; make test runs this where they are)"]
    fn builds_a_lintian_clean_package_of_the_files_it_should_hold() {
        let dir = TempDir::new("deb");
        let deb = build(dir.path());
        let out = Command::new("lintian").args(["--display-info", "--pedantic"]).arg(&deb).output().unwrap();
        let said = text(&out.stdout);
        assert!(out.status.success(), "lintian: {said}{}", text(&out.stderr));
        for line in said.lines() {
            assert!(KEPT.iter().any(|(tag, _)| *tag == line), "lintian: {line} (fix it, or keep it in KEPT and the README saying why)");
        }
        let listing = text(&Command::new("dpkg-deb").arg("--contents").arg(&deb).output().unwrap().stdout);
        let mut files: Vec<&str> = listing
            .lines()
            .filter(|l| !l.starts_with('d'))
            .map(|l| l.split_whitespace().last().unwrap().trim_start_matches('.'))
            .collect();
        files.sort();
        let mut want = FILES.to_vec();
        want.sort();
        assert_eq!(files, want);
        assert!(listing.lines().all(|l| l.contains(" root/root ")), "--root-owner-group: {listing}");
        let field = |f: &str| text(&Command::new("dpkg-deb").args(["--field"]).arg(&deb).arg(f).output().unwrap().stdout).trim().to_string();
        assert!(field("Depends").contains("libc6"), "Depends: from dpkg-shlibdeps: {}", field("Depends"));
        assert_eq!(field("Version"), env!("CARGO_PKG_VERSION"));
        let size = std::fs::metadata(&deb).unwrap().len();
        eprintln!("package::deb: {} is {size} bytes", deb.display());
    }

    /// Install, run, remove and purge: needs root, and the machine's dpkg.
    mod as_root {
        use super::*;

        fn dpkg(args: &[&str]) -> String {
            let out = Command::new("dpkg").args(args).output().unwrap();
            assert!(out.status.success(), "dpkg {args:?}: {}{}", text(&out.stdout), text(&out.stderr));
            text(&out.stdout)
        }

        /// Purges the package on drop, so a failed run leaves this machine
        /// as it found it (and the next run can install again).
        struct Purge;

        impl Drop for Purge {
            fn drop(&mut self) {
                let _ = Command::new("dpkg").args(["-P", "openrtc-top"]).output();
                let _ = std::fs::remove_dir_all("/var/lib/openrtc-top");
            }
        }

        #[test]
        #[ignore = "needs root to install a package with dpkg (make test runs it as root)"]
        fn installs_runs_and_purges_leaving_nothing_behind() {
            assert_eq!(unsafe { libc::geteuid() }, 0, "needs root");
            let installed = Command::new("dpkg-query").args(["-W", "-f", "${Status}", "openrtc-top"]).output().unwrap();
            assert!(
                !text(&installed.stdout).contains("installed") && !Path::new("/usr/bin/openrtc-top").exists(),
                "openrtc-top is installed here already: this test installs and purges its own, so remove that first"
            );
            assert!(!Path::new("/var/lib/openrtc-top").exists(), "/var/lib/openrtc-top is there already: this test makes and purges it");
            let dir = TempDir::new("deb-root");
            let deb = build(dir.path());
            let _purge = Purge;
            // Every file, whatever path-exclude the machine's dpkg.cfg.d has
            // (slim Docker images drop /usr/share/man and /usr/share/doc):
            // the later filter wins.
            dpkg(&["--path-include=/*", "-i", deb.to_str().unwrap()]);
            let listed = dpkg(&["-L", "openrtc-top"]);
            for f in FILES {
                assert!(listed.lines().any(|l| l == f) && Path::new(f).is_file(), "{f} installed");
            }

            let out = Command::new("/usr/bin/openrtc-top").arg("--version").output().unwrap();
            assert_eq!(text(&out.stdout).trim(), format!("openrtc-top {}", env!("CARGO_PKG_VERSION")));
            let sock_dir = TempDir::new("deb-worker");
            let sock = sock_dir.join("top.sock");
            let _w = Worker::at(&sock);
            let out = run_program("/usr/bin/openrtc-top", &["--once", "--format", "json", "--socket", sock.to_str().unwrap()], &[], Duration::from_secs(20));
            assert!(out.status.success() && text(&out.stdout).contains("\"demo-worker\""), "{}{}", text(&out.stdout), text(&out.stderr));

            // The man page where man looks for it, or (no man here) by groff.
            let page = if have("man") {
                let out = Command::new("man").arg("openrtc-top").env("MANPAGER", "cat").env("MANWIDTH", "80").env("LANG", "C.UTF-8").output().unwrap();
                assert!(out.status.success() && out.stderr.is_empty(), "man: {}", text(&out.stderr));
                text(&out.stdout)
            } else {
                eprintln!("package::deb: no man here: the installed page is rendered by groff instead");
                let out = Command::new("sh").args(["-c", "zcat /usr/share/man/man1/openrtc-top.1.gz | groff -man -Tutf8 -ww"]).output().unwrap();
                assert!(out.status.success() && out.stderr.is_empty(), "groff: {}", text(&out.stderr));
                text(&out.stdout)
            };
            // Overstrikes (X, backspace, X) undone, as tests/docs.rs does.
            let mut shown = String::new();
            for c in page.chars() {
                if c == '\x08' {
                    shown.pop();
                } else {
                    shown.push(c);
                }
            }
            assert!(shown.contains("live inspector") && shown.contains("EXIT STATUS"), "{shown}");
            let out = Command::new("bash").args(["-n", "/usr/share/bash-completion/completions/openrtc-top"]).output().unwrap();
            assert!(out.status.success(), "{}", text(&out.stderr));
            if have("systemd-analyze") {
                // The installed units as they are: their ExecStart is there now.
                let units = TempDir::new("deb-units");
                for u in UNITS {
                    std::fs::copy(Path::new("/usr/lib/systemd/system").join(u), units.join(u)).unwrap();
                }
                verify(units.path(), have("man"));
            } else {
                eprintln!("package::deb: systemd-analyze is not installed: the installed units were NOT verified");
            }

            // What the recorder unit's StateDirectory would hold: removing
            // keeps it, purging deletes it.
            let state = Path::new("/var/lib/openrtc-top");
            std::fs::create_dir_all(state.join(USER)).unwrap();
            std::fs::write(state.join(USER).join("pool.ndjson"), "{}\n").unwrap();
            dpkg(&["-r", "openrtc-top"]);
            for f in FILES {
                assert!(!Path::new(f).exists(), "{f} left behind by dpkg -r");
            }
            assert!(!Path::new("/usr/share/doc/openrtc-top").exists());
            assert!(state.join(USER).join("pool.ndjson").exists(), "dpkg -r keeps the recordings");
            dpkg(&["-P", "openrtc-top"]);
            assert!(!state.exists(), "dpkg -P deletes the recordings");
            let status = Command::new("dpkg-query").args(["-W", "openrtc-top"]).output().unwrap();
            assert!(!status.status.success(), "dpkg knows nothing of it after the purge: {}", text(&status.stdout));
        }
    }
}
