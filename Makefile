# openrtc-top: `make demo` shows it on a simulated worker; `make test` runs every suite.
PREFIX ?= /usr/local
CARGO ?= cargo
# Where cargo puts what it builds (CARGO_TARGET_DIR, a config file or the
# default): asked of cargo, not assumed.
TARGET_DIR := $(shell $(CARGO) metadata --format-version 1 --no-deps 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
ifeq ($(TARGET_DIR),)
TARGET_DIR := target
endif
BIN := $(TARGET_DIR)/release/openrtc-top
DEMO := $(TARGET_DIR)/release/openrtc-demo-worker

.PHONY: build test demo install check-install deb clean fuzz soak bench text-classes

build:
	$(CARGO) build --release --locked --bins

# The real worker side for the compatibility suite, cached under target/.
COMPAT_VENV := $(TARGET_DIR)/compat-venv
COMPAT_PY := $(COMPAT_VENV)/bin/python
COMPAT_PKGS := 'openrtc==0.20.1' 'psutil==7.2.2' 'unicodedata2==18.0.0' 'prometheus-client==0.23.1' 'py-spy==0.4.1'
# The stamp names the package list, so changing the list rebuilds the venv.
COMPAT_READY := $(COMPAT_VENV)/.ready-$(shell echo "$(COMPAT_PKGS)" | cksum | cut -d' ' -f1)

# Tests that act as another user need root (CI is root); run as anyone else,
# they are skipped, and this says so.
ROOT_SKIP := $(if $(filter 0,$(shell id -u)),,--skip as_root::)
# The completion tests for fish and zsh need those shells (.ci/run installs
# them); where one is missing its test is skipped, and this says so.
SHELL_SKIP := $(if $(shell command -v fish),,--skip docs::fish) $(if $(shell command -v zsh),,--skip docs::zsh)
# The test with a real Prometheus needs Debian's `prometheus` (promtool comes
# with it and checks every Prometheus text exposition the compat suite
# prints); .ci/run installs it. Where it is missing, that test is skipped
# and promtool's check left out, and this says so.
PROM_SKIP := $(if $(shell command -v prometheus),,--skip real_prometheus::)
# The Debian package's tests (package::deb::: build, lintian, and as root
# install, run, purge) need dpkg-deb, dpkg-dev's dpkg-shlibdeps and lintian
# (.ci/run installs them); where one is missing they are skipped, and this
# says so. The units' tests (package::units::) need only the binaries;
# systemd-analyze's verify is skipped inside them where it is missing.
# README's recipes pipe into jq; the test that runs them needs it.
JQ_SKIP := $(if $(shell command -v jq),,--skip docs::readme_recipes)
DEB_SKIP := $(if $(and $(shell command -v dpkg-deb),$(shell command -v dpkg-shlibdeps),$(shell command -v lintian)),,--skip package::deb::)

# Unit tests, integration tests against real sockets and a real pty, and the
# compatibility suite against openrtc from PyPI (ignored by plain `cargo
# test`, which lacks the venv; run here). bench:: and soak:: have their own
# targets.
test: $(COMPAT_READY)
	@$(if $(ROOT_SKIP),echo "make test: not root: skipping the tests that act as another user (as_root::)" >&2,true)
	@$(if $(strip $(SHELL_SKIP)),echo "make test: skipping: $(strip $(SHELL_SKIP)) (the shell is not installed)" >&2,true)
	@$(if $(PROM_SKIP),echo "make test: prometheus is not installed: skipping real_prometheus:: and promtool's check of the expositions (Debian: apt install prometheus)" >&2,true)
	@$(if $(JQ_SKIP),echo "make test: jq is not installed: SKIPPING docs::readme_recipes (README's recipes use it; Debian: apt install jq)" >&2,true)
	@$(if $(DEB_SKIP),echo "make test: dpkg-deb or dpkg-shlibdeps or lintian is missing: SKIPPING the Debian package's tests (package::deb::; Debian: apt install dpkg-dev lintian)" >&2,true)
	@# py-spy reads a worker's stack through ptrace; where it may not (a
	@# container without --cap-add SYS_PTRACE, kernel.yama.ptrace_scope above
	@# 0 for a user), the tests that need it (py_spy::) are skipped, saying so.
	@if $(COMPAT_PY) tests/compat/harness.py can-trace $(COMPAT_VENV)/bin/py-spy; then skip=; else \
	  skip="--skip py_spy::"; echo "make test: py-spy may not read another process's stack here (ptrace not permitted): SKIPPING py_spy:: (run as root with CAP_SYS_PTRACE, or set kernel.yama.ptrace_scope to 0)" >&2; fi; \
	  set -x; OPENRTC_COMPAT_PYTHON=$(abspath $(COMPAT_PY)) $(CARGO) test --locked -- --include-ignored --skip bench:: --skip soak:: $(ROOT_SKIP) $(SHELL_SKIP) $(PROM_SKIP) $(DEB_SKIP) $(JQ_SKIP) $$skip
	$(MAKE) --no-print-directory check-install

# A venv under target/ with the given packages; python3 and venv checked first.
define make_venv
	@command -v python3 >/dev/null || { echo "make: this needs python3 (Debian/Ubuntu: apt install python3 python3-venv)" >&2; exit 1; }
	@python3 -c 'import venv, ensurepip' 2>/dev/null || { echo "make: python3's venv module is missing (Debian/Ubuntu: apt install python3-venv)" >&2; exit 1; }
	rm -rf $(1)
	python3 -m venv $(1)
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check $(2)
	touch $(3)
endef

$(COMPAT_READY):
	$(call make_venv,$(COMPAT_VENV),$(COMPAT_PKGS),$@)

# Regenerate the table of code points not shown as themselves from Unicode's
# data (unicodedata2, the version unicode-width is built from); the
# compatibility suite checks the committed table against this generator.
text-classes: $(COMPAT_READY)
	$(COMPAT_PY) src/text/classes.py > src/text/classes.rs

# The Python reference client, to compare against (newer typer breaks it).
BENCH_VENV := $(TARGET_DIR)/bench-venv
BENCH_PKGS := 'openrtc[cli,top]==0.20.1' 'typer==0.16.0' 'psutil==7.2.2' 'py-spy==0.4.1'

$(BENCH_VENV)/.ready:
	$(call make_venv,$(BENCH_VENV),$(BENCH_PKGS),$@)

# Speed and footprint against the Python `openrtc top`; writes BENCHMARKS.md.
bench: build $(BENCH_VENV)/.ready
	OPENRTC_BENCH_VENV=$(abspath $(BENCH_VENV)) $(CARGO) test --release --locked --test tests bench:: -- --ignored --nocapture

# A simulated worker on a private temporary socket, the live view against it;
# the worker stops (and its socket goes) when you quit (q). WORKERS=N: N
# simulated workers on N sockets in one directory, and the merged view.
demo: build
	$(DEMO) $(if $(WORKERS),--workers $(WORKERS)) --run $(BIN) $(ARGS)

# Long fuzzing of the decoder and the key parser (make test runs a short pass).
FUZZ_CASES ?= 5000000
fuzz:
	FUZZ_CASES=$(FUZZ_CASES) $(CARGO) test --release --locked --test tests fuzz:: -- --nocapture

# Ten minutes of the live view against a worker that restarts every second.
SOAK_SECONDS ?= 600
soak:
	SOAK_SECONDS=$(SOAK_SECONDS) $(CARGO) test --release --locked --test tests soak:: -- --ignored --nocapture

# The binary, its man page and completions where distributions put them;
# PREFIX and DESTDIR as usual.
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/openrtc-top
	$(BIN) --generate man > $(DESTDIR)$(PREFIX)/share/man/man1/openrtc-top.1
	$(BIN) --generate bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/openrtc-top
	$(BIN) --generate zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_openrtc-top
	$(BIN) --generate fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/openrtc-top.fish

# make install into a scratch DESTDIR, then the installed files checked:
# each where it belongs, the man page rendered by groff without a warning,
# the completions read by their shells (zsh and fish where installed).
INSTALL_CHECK := $(TARGET_DIR)/install-check
check-install:
	rm -rf $(INSTALL_CHECK)
	$(MAKE) --no-print-directory install DESTDIR=$(abspath $(INSTALL_CHECK)) PREFIX=/usr
	@cd $(INSTALL_CHECK)/usr && for f in bin/openrtc-top share/man/man1/openrtc-top.1 \
		share/bash-completion/completions/openrtc-top share/zsh/site-functions/_openrtc-top \
		share/fish/vendor_completions.d/openrtc-top.fish; do \
		test -s $$f || { echo "check-install: $$f missing or empty" >&2; exit 1; }; done
	@out=$$(groff -man -Tutf8 -ww -z $(INSTALL_CHECK)/usr/share/man/man1/openrtc-top.1 2>&1); \
		[ -z "$$out" ] || { echo "check-install: groff: $$out" >&2; exit 1; }
	@bash -n $(INSTALL_CHECK)/usr/share/bash-completion/completions/openrtc-top
	@if command -v zsh >/dev/null; then zsh -n $(INSTALL_CHECK)/usr/share/zsh/site-functions/_openrtc-top; \
		else echo "check-install: no zsh here; its completion was not read" >&2; fi
	@if command -v fish >/dev/null; then fish --no-execute $(INSTALL_CHECK)/usr/share/fish/vendor_completions.d/openrtc-top.fish; \
		else echo "check-install: no fish here; its completion was not read" >&2; fi
	@echo "check-install: ok"

# The Debian package, $(TARGET_DIR)/debian/openrtc-top_VERSION_ARCH.deb
# (VERSION Cargo.toml's, ARCH dpkg's): the binary, its man page and
# completions, the systemd templates of doc/systemd; doc/debian/build says
# how. Install it with `sudo dpkg -i` on that path.
VERSION = $(shell sed -n '/^\[package\]/,/^\[/s/^version = "\(.*\)"$$/\1/p' Cargo.toml)
deb: build
	sh doc/debian/build $(BIN) $(VERSION) $(TARGET_DIR)/debian

clean:
	$(CARGO) clean
