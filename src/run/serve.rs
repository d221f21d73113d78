//! `--serve ADDR`: a Prometheus exporter on one thread, no runtime. Each
//! `GET /metrics` fetches every source afresh (all at once, as the live view
//! does) and answers with their exposition; `GET /` names the sources.
//!
//! One request per connection, handled in turn: a request is read within
//! `REQUEST_TIME` and `MAX_HEAD` bytes (the head only; a body is never
//! read), parsed by `httparse`, answered with `Connection: close`, and
//! written within `REQUEST_TIME`. So a client that sends nothing, or a byte
//! a second, or a megabyte of headers, holds the next scrape up by at most
//! that time. SIGTERM, SIGINT and SIGHUP end it with status 0.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::cli::Config;
use crate::metrics::{self, Exposition};
use crate::signal;
use crate::model::Pool;
use crate::poll::{Poll, Want};
use crate::source::Sources;
use std::os::fd::AsRawFd;

/// The most a request head may hold.
pub const MAX_HEAD: usize = 8 * 1024;
/// How long a client has to send its request, and to take the answer.
pub const REQUEST_TIME: Duration = Duration::from_secs(2);

/// Why the exporter could not run.
#[derive(Debug)]
pub enum ServeError {
    /// The address could not be bound (in use, not ours to bind...).
    Bind(SocketAddr, io::Error),
    Io(io::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            ServeError::Io(e) => write!(f, "serving: {e}"),
        }
    }
}

/// Serve until a stop signal; `Ok` then.
pub fn run(cfg: &Config, sources: &mut Sources, addr: SocketAddr) -> Result<(), ServeError> {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        signal::handle(sig, signal::on_signal);
    }
    sources.keep_buffers();
    let listener = TcpListener::bind(addr).map_err(|e| ServeError::Bind(addr, e))?;
    let bound = listener.local_addr().map_err(ServeError::Io)?;
    eprintln!("openrtc-top: serving metrics at http://{bound}/metrics");
    loop {
        if signal::pending().is_some() {
            return Ok(());
        }
        // std's accept retries on EINTR; poll(2) does not, so a stop signal
        // is seen at once (and the timeout covers one that lands just
        // before the wait).
        let mut p = Poll::new();
        let slot = p.watch(listener.as_raw_fd(), Want::Read, None);
        p.wake_by(Instant::now() + Duration::from_millis(500));
        if !p.wait().map_err(ServeError::Io)? || !p.ready(slot) {
            continue;
        }
        match listener.accept() {
            Ok((stream, _)) => {
                // A client that goes away mid-answer is its own business.
                let _ = answer(cfg, sources, stream);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Out of descriptors and the like: wait a moment, go on.
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// A request as far as the exporter cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// Without its query string.
    pub path: String,
    /// The scraper asked for OpenMetrics.
    pub openmetrics: bool,
}

/// What reading a request head gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Head {
    Request(Request),
    /// An answer to send at once: (status line, why).
    Refuse(&'static str, &'static str),
    /// Nothing worth an answer (the client sent nothing in time, or left).
    Silent,
}

/// Read and parse one request head from `stream` by `deadline`.
fn read_head(stream: &mut TcpStream, deadline: Instant) -> Head {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return if buf.is_empty() { Head::Silent } else { Head::Refuse("408 Request Timeout", "the request did not arrive in time\n") };
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Head::Silent,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                if signal::pending().is_some() {
                    return Head::Silent;
                }
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(_) => return Head::Silent,
        }
        match parse(&buf) {
            Some(head) => return head,
            None if buf.len() >= MAX_HEAD => return Head::Refuse("431 Request Header Fields Too Large", "the request head is over 8 KiB\n"),
            None => {}
        }
    }
}

/// Parse a request head; `None` while it is incomplete.
pub fn parse(buf: &[u8]) -> Option<Head> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(&buf[..buf.len().min(MAX_HEAD)]) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return None,
        Err(httparse::Error::TooManyHeaders) => return Some(Head::Refuse("431 Request Header Fields Too Large", "too many headers\n")),
        Err(_) => return Some(Head::Refuse("400 Bad Request", "not an HTTP request\n")),
    }
    let accept = req.headers.iter().filter(|h| h.name.eq_ignore_ascii_case("accept")).map(|h| String::from_utf8_lossy(h.value).into_owned());
    let openmetrics = accept.into_iter().any(|a| a.contains("application/openmetrics-text"));
    let path = req.path.unwrap_or("/");
    Some(Head::Request(Request {
        method: req.method.unwrap_or("").to_string(),
        path: path.split(['?', '#']).next().unwrap_or("").to_string(),
        openmetrics,
    }))
}

/// Answer one connection.
fn answer(cfg: &Config, sources: &mut Sources, mut stream: TcpStream) -> io::Result<()> {
    let deadline = Instant::now() + REQUEST_TIME;
    let req = match read_head(&mut stream, deadline) {
        Head::Request(r) => r,
        Head::Refuse(status, why) => return respond(&mut stream, status, "text/plain; charset=utf-8", why.as_bytes(), true),
        Head::Silent => return Ok(()),
    };
    let head_only = req.method == "HEAD";
    if req.method != "GET" && !head_only {
        return respond(&mut stream, "405 Method Not Allowed", "text/plain; charset=utf-8", b"only GET and HEAD\n", true);
    }
    let (body, kind) = match req.path.as_str() {
        "/metrics" => {
            let pool = scrape(sources)?;
            let mut body = Vec::with_capacity(16 * 1024);
            metrics::write(&mut body, &pool, Exposition { openmetrics: req.openmetrics, per_session: cfg.per_session })?;
            (body, if req.openmetrics { metrics::OPENMETRICS_TYPE } else { metrics::TEXT_TYPE })
        }
        "/" => (index(sources).into_bytes(), "text/plain; charset=utf-8"),
        _ => return respond(&mut stream, "404 Not Found", "text/plain; charset=utf-8", b"not found: try /metrics\n", !head_only),
    };
    respond(&mut stream, "200 OK", kind, &body, !head_only)
}

/// Fetch every source now (each within its own deadlines), as one pool.
fn scrape(sources: &mut Sources) -> io::Result<Pool> {
    sources.start_round(Instant::now());
    sources.finish_round(&|| signal::pending().is_some())?;
    let mut pool = Pool::default();
    pool.advance(sources.updates());
    Ok(pool)
}

/// The index page: what this is and which sockets it reads.
fn index(sources: &Sources) -> String {
    let mut s = String::from("openrtc-top exporter: metrics at /metrics\nsources:\n");
    for spec in sources.specs() {
        let _ = writeln!(s, "  {}", spec.shown());
    }
    s
}

/// Write an answer, within its own time (a scrape's fetches took theirs).
fn respond(stream: &mut TcpStream, status: &str, kind: &str, body: &[u8], with_body: bool) -> io::Result<()> {
    stream.set_write_timeout(Some(REQUEST_TIME))?;
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
        body.len(),
        if status.starts_with("405") { "Allow: GET, HEAD\r\n" } else { "" }
    );
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, path: &str, openmetrics: bool) -> Option<Head> {
        Some(Head::Request(Request { method: method.into(), path: path.into(), openmetrics }))
    }

    #[test]
    fn requests_are_parsed_and_bad_ones_refused() {
        assert_eq!(parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), req("GET", "/metrics", false));
        assert_eq!(parse(b"GET /metrics?x=1 HTTP/1.1\r\n\r\n"), req("GET", "/metrics", false));
        let prom = b"GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n\r\n";
        assert_eq!(parse(prom), req("GET", "/metrics", true));
        assert_eq!(parse(b"POST / HTTP/1.1\r\n\r\n"), req("POST", "/", false));
        assert_eq!(parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"), None, "incomplete");
        assert_eq!(parse(b"\x16\x03\x01 hello\r\n\r\n"), Some(Head::Refuse("400 Bad Request", "not an HTTP request\n")));
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "A: b\r\n".repeat(100));
        assert!(matches!(parse(many.as_bytes()), Some(Head::Refuse(s, _)) if s.starts_with("431")));
    }
}
