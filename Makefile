# openrtc-top: `make demo` shows it on a simulated worker; `make test` runs every suite.
PREFIX ?= /usr/local
CARGO ?= cargo
BIN := target/release/openrtc-top
DEMO := target/release/openrtc-demo-worker

.PHONY: build test demo install clean

build:
	$(CARGO) build --release --locked --bins

# Unit tests, integration tests against real sockets.
test:
	$(CARGO) test --locked

# A simulated worker on a private temporary socket, the live view against it;
# the worker stops (and its socket goes) when you quit (q).
demo: build
	$(DEMO) --run $(BIN) $(ARGS)

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/openrtc-top

clean:
	$(CARGO) clean
