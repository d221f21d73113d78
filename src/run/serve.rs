//! `--serve ADDR`: a Prometheus exporter on one thread, no runtime, as
//! event-driven servers are (redis, nginx): one poll(2) over the listener,
//! every client and every worker's socket. A client's request head is read
//! as it comes, within `HEAD_TIME` and `http::MAX_HEAD` bytes; its answer is
//! written as the client takes it, all of it within `ANSWER_TIME`; at most
//! `MAX_CLIENTS` are open, and a new one past that closes the oldest that
//! has not finished its request. So idle, slow or flooding clients cost the
//! others nothing.
//!
//! `GET /metrics` starts a round of fetches (scrapes that come while one is
//! going share it) and is answered when the round is in, or when its
//! scraper would give up (a little before its
//! `X-Prometheus-Scrape-Timeout-Seconds`; `--timeout` without one), with
//! the workers that answered in time and the others as not answered. A
//! worker's fetch that is still waiting then carries on into the next
//! round, never a second connection meanwhile: a blocked loop costs no
//! scrape its deadline. `GET /` names the sources. SIGTERM, SIGINT and
//! SIGHUP end it with status 0.

use crate::model::vecmap::VecMap;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::http::{self, Head};
use crate::cli::Config;
use crate::metrics::{self, Exposition};
use crate::model::{Pool, WorkerState};
use crate::poll::{Poll, Want};
use crate::signal;
use crate::source::{BOUND, Sources};

/// The most clients open at once.
pub const MAX_CLIENTS: usize = 128;
/// How long a client has to send its request head.
pub const HEAD_TIME: Duration = Duration::from_secs(2);
/// How long a client has to take its whole answer.
pub const ANSWER_TIME: Duration = Duration::from_secs(10);

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

/// Where a client is.
enum Stage {
    /// Its request head, so far.
    Head(Vec<u8>),
    /// Waiting for the round's answers.
    Scrape { openmetrics: bool, with_body: bool },
    /// Taking its answer.
    Send { out: Rc<Vec<u8>>, at: usize },
}

struct Client {
    stream: TcpStream,
    stage: Stage,
    /// Its stage's deadline.
    by: Instant,
    accepted: Instant,
}

/// Serve until a stop signal; `Ok` then.
pub fn run(cfg: &Config, sources: &mut Sources, addr: SocketAddr) -> Result<(), ServeError> {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        signal::handle(sig, signal::on_signal);
    }
    sources.keep_buffers();
    // A blocked worker's fetch waits on from scrape to scrape.
    sources.set_wait(BOUND);
    let listener = TcpListener::bind(addr).map_err(|e| ServeError::Bind(addr, e))?;
    listener.set_nonblocking(true).map_err(ServeError::Io)?;
    let bound = listener.local_addr().map_err(ServeError::Io)?;
    eprintln!("openrtc-top: serving metrics at http://{bound}/metrics");
    let pool = Pool { several: !sources.single(), ..Pool::default() };
    let mut ex = Exporter { cfg, sources, clients: Vec::new(), pool, answered: VecMap::default(), since: None, round: false };
    let mut accept_after = Instant::now();
    loop {
        if signal::pending().is_some() {
            return Ok(());
        }
        let now = Instant::now();
        ex.answer_due(now);
        ex.expire(now);
        let mut p = Poll::new();
        let l = p.watch(if now >= accept_after { listener.as_raw_fd() } else { -1 }, Want::Read, None);
        let slots: Vec<usize> = ex.clients.iter().map(|c| ex_watch(&mut p, c)).collect();
        ex.sources.watch(&mut p);
        p.wake_by(now + Duration::from_millis(500)); // a stop signal that lands just before the wait
        if now < accept_after {
            p.wake_by(accept_after);
        }
        if !p.wait().map_err(ServeError::Io)? {
            continue;
        }
        let now = Instant::now();
        ex.sources.step(now);
        ex.collect(now);
        let mut gone = Vec::new();
        for (i, &slot) in slots.iter().enumerate() {
            if p.ready(slot) && !ex.service(i, now) {
                gone.push(i);
            }
        }
        for i in gone.into_iter().rev() {
            ex.clients.swap_remove(i);
        }
        if p.ready(l) && !ex.accept(&listener, now) {
            // Out of descriptors: let the others finish for a moment.
            accept_after = now + Duration::from_millis(50);
        }
    }
}

/// A client's descriptor in the wait, for what its stage waits on.
fn ex_watch(p: &mut Poll, c: &Client) -> usize {
    let fd = c.stream.as_raw_fd();
    match c.stage {
        Stage::Head(_) => p.watch(fd, Want::Read, Some(c.by)),
        Stage::Send { .. } => p.watch(fd, Want::Write, Some(c.by)),
        Stage::Scrape { .. } => {
            p.wake_by(c.by);
            p.watch(-1, Want::Read, None)
        }
    }
}

struct Exporter<'a> {
    cfg: &'a Config,
    sources: &'a mut Sources,
    clients: Vec<Client>,
    /// Every worker as last fetched, and when each last answered.
    pool: Pool,
    answered: VecMap<u32, Instant>,
    /// When the last round's scrapes were all answered: an answer from
    /// before it was that round's, not this one's.
    since: Option<Instant>,
    /// A round of fetches is going for the scrapes waiting.
    round: bool,
}

impl Exporter<'_> {
    /// Accept whoever is waiting; false when out of descriptors.
    fn accept(&mut self, listener: &TcpListener, now: Instant) -> bool {
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    if self.clients.len() >= MAX_CLIENTS {
                        // The oldest that has not finished its request goes.
                        let idle = self.clients.iter().enumerate().filter(|(_, c)| matches!(c.stage, Stage::Head(_))).min_by_key(|(_, c)| c.accepted).map(|(i, _)| i);
                        match idle {
                            Some(i) => drop(self.clients.swap_remove(i)),
                            None => continue, // every one is being answered: this one waits its turn elsewhere
                        }
                    }
                    self.clients.push(Client { stream, stage: Stage::Head(Vec::new()), by: now + HEAD_TIME, accepted: now });
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(_) => {
                    // EMFILE and the like: an idle client gives its descriptor back.
                    let idle = self.clients.iter().position(|c| matches!(&c.stage, Stage::Head(b) if b.is_empty()));
                    match idle {
                        Some(i) => drop(self.clients.swap_remove(i)),
                        None => return false,
                    }
                }
            }
        }
    }

    /// Move client `i` on (its descriptor is ready); false when it is done.
    fn service(&mut self, i: usize, now: Instant) -> bool {
        let c = &mut self.clients[i];
        match &mut c.stage {
            Stage::Head(buf) => {
                let mut chunk = [0u8; 2048];
                loop {
                    match c.stream.read(&mut chunk) {
                        Ok(0) => return false,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(_) => return false,
                    }
                    if buf.len() >= http::MAX_HEAD {
                        break;
                    }
                }
                match http::parse(buf) {
                    None => true,
                    Some(head) => {
                        self.route(i, head, now);
                        true
                    }
                }
            }
            Stage::Send { out, at } => loop {
                match c.stream.write(&out[*at..]) {
                    Ok(n) => {
                        *at += n;
                        if *at == out.len() {
                            return false;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                    Err(_) => return false,
                }
            },
            Stage::Scrape { .. } => true,
        }
    }

    /// A whole request: answer it, or join (or start) the round of fetches.
    fn route(&mut self, i: usize, head: Head, now: Instant) {
        let req = match head {
            Head::Request(r) => r,
            Head::Refuse(status, why) => return self.send(i, Rc::new(http::plain(status, why, true)), now),
        };
        let with_body = req.method != "HEAD";
        if req.method != "GET" && with_body {
            return self.send(i, Rc::new(http::plain("405 Method Not Allowed", "only GET and HEAD\n", true)), now);
        }
        match req.path.as_str() {
            "/metrics" => {
                // Answered a little before the scraper gives up.
                let wait = req.timeout.map_or(self.cfg.timeout, |t| t.mul_f64(0.9));
                let c = &mut self.clients[i];
                (c.stage, c.by) = (Stage::Scrape { openmetrics: req.openmetrics, with_body }, now + wait);
                if !self.round {
                    self.sources.start_round(now);
                    self.round = true;
                }
            }
            "/" => {
                let index = index(self.sources);
                self.send(i, Rc::new(http::answer("200 OK", "text/plain; charset=utf-8", index.as_bytes(), with_body)), now);
            }
            _ => self.send(i, Rc::new(http::plain("404 Not Found", "not found: try /metrics\n", with_body)), now),
        }
    }

    fn send(&mut self, i: usize, out: Rc<Vec<u8>>, now: Instant) {
        let c = &mut self.clients[i];
        (c.stage, c.by) = (Stage::Send { out, at: 0 }, now + ANSWER_TIME);
    }

    /// What the sources brought, into the pool.
    fn collect(&mut self, now: Instant) {
        if !self.sources.news() {
            return;
        }
        let updates = self.sources.updates();
        for u in updates.iter().filter(|u| u.fresh.is_some()) {
            self.answered.insert(u.key, now);
        }
        self.pool.advance(updates);
    }

    /// Answer the scrapes whose round is in, or whose time is up.
    fn answer_due(&mut self, now: Instant) {
        // What a round just started said (a blocked loop looked at again).
        self.collect(now);
        let done = !self.sources.round_busy();
        let due: Vec<usize> = (0..self.clients.len())
            .filter(|&i| matches!(self.clients[i].stage, Stage::Scrape { .. }) && (done || self.clients[i].by <= now))
            .collect();
        if due.is_empty() {
            return;
        }
        let mut bodies: VecMap<(bool, bool), Rc<Vec<u8>>> = VecMap::default();
        for i in due {
            let Stage::Scrape { openmetrics, with_body } = self.clients[i].stage else { continue };
            let out = match bodies.get(&(openmetrics, with_body)) {
                Some(b) => b.clone(),
                None => {
                    let b = Rc::new(self.exposition(openmetrics, with_body));
                    bodies.insert((openmetrics, with_body), b.clone());
                    b
                }
            };
            self.send(i, out, now);
        }
        // Every scrape of the round answered: the next one starts another
        // (a fetch still waiting carries on into it).
        if !self.clients.iter().any(|c| matches!(c.stage, Stage::Scrape { .. })) {
            self.round = false;
            self.since = Some(now);
        }
    }

    /// The answer to a scrape now: a worker that has not answered since
    /// the last round was answered is not up in it.
    fn exposition(&self, openmetrics: bool, with_body: bool) -> Vec<u8> {
        let mut pool = self.pool.clone();
        for w in &mut pool.workers {
            let fresh = match (self.answered.get(&w.key), self.since) {
                (Some(&at), Some(since)) => at > since,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if w.state.up() && !fresh {
                w.state = WorkerState::Waiting;
            }
        }
        let mut body = Vec::with_capacity(16 * 1024);
        let how = Exposition { openmetrics, per_session: self.cfg.per_session };
        // Writing into a Vec cannot fail.
        let _ = metrics::write(&mut body, &pool, how);
        let kind = if openmetrics { metrics::OPENMETRICS_TYPE } else { metrics::TEXT_TYPE };
        http::answer("200 OK", kind, &body, with_body)
    }

    /// Clients past their deadline: a request that did not arrive in time
    /// is told so (if it began), an answer not taken in time is dropped.
    fn expire(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.clients.len() {
            let c = &mut self.clients[i];
            if c.by > now || matches!(c.stage, Stage::Scrape { .. }) {
                i += 1;
                continue;
            }
            if let Stage::Head(buf) = &c.stage {
                if !buf.is_empty() {
                    let _ = c.stream.write(&http::plain("408 Request Timeout", "the request did not arrive in time\n", true));
                }
            }
            self.clients.swap_remove(i);
        }
    }
}

/// The index page: what this is and which sockets it reads.
fn index(sources: &Sources) -> String {
    let mut s = String::from("openrtc-top exporter: metrics at /metrics\nsources:\n");
    for spec in sources.specs() {
        let _ = writeln!(s, "  {}", spec.shown());
    }
    s
}
