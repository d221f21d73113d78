//! The exporter's HTTP: a request head parsed (by `httparse`) into what
//! the exporter needs, and an answer as the bytes to send. One request per
//! connection, `Connection: close`; a body is never read.

use std::time::Duration;

/// The most a request head may hold.
pub const MAX_HEAD: usize = 8 * 1024;

/// A request as far as the exporter cares.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    /// Without its query string (an absolute-form target's path).
    pub path: String,
    /// The scraper takes OpenMetrics (and prefers it, or ranks it equal).
    pub openmetrics: bool,
    /// How long the scraper waits (`X-Prometheus-Scrape-Timeout-Seconds`).
    pub timeout: Option<Duration>,
}

/// What a request head gave.
#[derive(Debug, PartialEq)]
pub enum Head {
    Request(Request),
    /// An answer to send at once: (status line, why).
    Refuse(&'static str, &'static str),
}

/// Parse a request head; `None` while it is incomplete.
pub fn parse(buf: &[u8]) -> Option<Head> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(&buf[..buf.len().min(MAX_HEAD)]) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => {
            return Some(Head::Refuse("431 Request Header Fields Too Large", "the request head is over 8 KiB\n"));
        }
        Ok(httparse::Status::Partial) => return None,
        Err(httparse::Error::TooManyHeaders) => return Some(Head::Refuse("431 Request Header Fields Too Large", "too many headers\n")),
        Err(_) => return Some(Head::Refuse("400 Bad Request", "not an HTTP request\n")),
    }
    let header = |name: &str| -> Vec<String> {
        req.headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name)).map(|h| String::from_utf8_lossy(h.value).into_owned()).collect()
    };
    let accept = header("accept");
    let timeout = header("x-prometheus-scrape-timeout-seconds")
        .into_iter()
        .next()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|t| t.is_finite() && *t > 0.0)
        .map(|t| Duration::from_secs_f64(t.min(3600.0)));
    Some(Head::Request(Request {
        method: req.method.unwrap_or("").to_string(),
        path: path_of(req.path.unwrap_or("/")).to_string(),
        openmetrics: wants_openmetrics(&accept),
        timeout,
    }))
}

/// The path of a request target: origin form (`/metrics?x`) or absolute
/// form (`http://host:port/metrics`), without its query or fragment.
fn path_of(target: &str) -> &str {
    let target = match target.split_once("://") {
        Some((scheme, rest)) if !scheme.contains('/') => rest.find('/').map_or("/", |i| &rest[i..]),
        _ => target,
    };
    target.split(['?', '#']).next().unwrap_or("")
}

/// Whether the Accept headers take OpenMetrics at least as readily as the
/// text format: its best quality is above zero and not below text/plain's.
fn wants_openmetrics(accept: &[String]) -> bool {
    let (mut om, mut text) = (0.0f64, 0.0f64);
    for range in accept.iter().flat_map(|a| a.split(',')) {
        let mut parts = range.split(';').map(str::trim);
        let kind = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts.filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q="))).next().and_then(|q| q.trim().parse::<f64>().ok()).unwrap_or(1.0);
        match kind.as_str() {
            "application/openmetrics-text" => om = om.max(q),
            "text/plain" => text = text.max(q),
            _ => {}
        }
    }
    om > 0.0 && om >= text
}

/// An answer's bytes: the head, then the body unless `with_body` is false
/// (HEAD).
pub fn answer(status: &str, kind: &str, body: &[u8], with_body: bool) -> Vec<u8> {
    let allow = if status.starts_with("405") { "Allow: GET, HEAD\r\n" } else { "" };
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n{allow}\r\n", body.len()).into_bytes();
    if with_body {
        out.extend_from_slice(body);
    }
    out
}

/// A short plain-text answer.
pub fn plain(status: &str, why: &str, with_body: bool) -> Vec<u8> {
    answer(status, "text/plain; charset=utf-8", why.as_bytes(), with_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, path: &str, openmetrics: bool) -> Option<Head> {
        Some(Head::Request(Request { method: method.into(), path: path.into(), openmetrics, timeout: None }))
    }

    #[test]
    fn requests_are_parsed_and_bad_ones_refused() {
        assert_eq!(parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), req("GET", "/metrics", false));
        assert_eq!(parse(b"GET /metrics?x=1 HTTP/1.1\r\n\r\n"), req("GET", "/metrics", false));
        assert_eq!(parse(b"GET http://host:9090/metrics?x HTTP/1.1\r\n\r\n"), req("GET", "/metrics", false));
        assert_eq!(parse(b"GET http://host HTTP/1.1\r\n\r\n"), req("GET", "/", false));
        let prom = b"GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\nX-Prometheus-Scrape-Timeout-Seconds: 0.5\r\n\r\n";
        let Some(Head::Request(r)) = parse(prom) else { panic!() };
        assert!(r.openmetrics);
        assert_eq!(r.timeout, Some(Duration::from_millis(500)));
        assert_eq!(parse(b"POST / HTTP/1.1\r\n\r\n"), req("POST", "/", false));
        assert_eq!(parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"), None, "incomplete");
        assert_eq!(parse(b"\x16\x03\x01 hello\r\n\r\n"), Some(Head::Refuse("400 Bad Request", "not an HTTP request\n")));
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "A: b\r\n".repeat(100));
        assert!(matches!(parse(many.as_bytes()), Some(Head::Refuse(s, _)) if s.starts_with("431")));
        let long = format!("GET / HTTP/1.1\r\nA: {}", "b".repeat(MAX_HEAD));
        assert!(matches!(parse(long.as_bytes()), Some(Head::Refuse(s, _)) if s.starts_with("431")));
    }

    #[test]
    fn openmetrics_only_when_the_scraper_takes_it() {
        let om = |a: &str| wants_openmetrics(&[a.to_string()]);
        assert!(om("application/openmetrics-text; version=1.0.0"));
        assert!(!om("application/openmetrics-text;q=0"), "q=0 means not acceptable");
        assert!(!om("application/openmetrics-text;q=0.2,text/plain;q=0.5"));
        assert!(om("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
        assert!(!om("text/plain"));
        assert!(!wants_openmetrics(&[]));
    }
}
