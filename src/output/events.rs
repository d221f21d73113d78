//! A recording's incidents (`--replay FILE --events`), oldest first: the
//! table (aligned; a blocked loop's captured stack indented under it), TSV
//! (one line each) and JSON (one array, an object per incident, the stack
//! in full). Untrusted text is made safe as in the other writers.

use std::io::{self, Write};

use super::json::{JsonObject, json_str, stack};
use super::tsv_escape;
use crate::clock::stamp;
use crate::events::{Incident, What};
use crate::present::events::detail;
use crate::text::{self, Charset};

const HEADER: [&str; 5] = ["time", "worker", "event", "secs", "detail"];

/// The cells before the detail: start, worker, kind, length.
fn cells(i: &Incident, cs: Charset) -> [String; 4] {
    [stamp(i.at), text::field(&i.worker, cs).into_owned(), i.what.kind().to_string(), format!("{:.1}", i.secs())]
}

pub fn table(out: &mut dyn Write, incidents: &[Incident], header: bool, cs: Charset) -> io::Result<()> {
    let rows: Vec<[String; 4]> = incidents.iter().map(|i| cells(i, cs)).collect();
    let mut widths = [0; 4];
    for (n, w) in widths.iter_mut().enumerate() {
        let head = if header { HEADER[n].len() } else { 0 };
        *w = rows.iter().map(|r| text::width(&r[n])).max().unwrap_or(0).max(head);
    }
    let mut buf = String::new();
    let line = |cells: [&str; 5], buf: &mut String| {
        for (n, c) in cells[..4].iter().enumerate() {
            // The length is a number: right-aligned.
            let pad = widths[n].saturating_sub(text::width(c));
            if n == 3 {
                text::spaces(buf, pad);
            }
            buf.push_str(c);
            if n != 3 {
                text::spaces(buf, pad);
            }
            buf.push_str("  ");
        }
        buf.push_str(cells[4]);
        buf.push('\n');
    };
    if header {
        line(HEADER, &mut buf);
    }
    for (i, r) in incidents.iter().zip(&rows) {
        let d = text::display(&detail(i), cs).into_owned();
        line([&r[0], &r[1], &r[2], &r[3], &d], &mut buf);
        if let What::Blocked { stack: Some(t), .. } = &i.what {
            if let Ok(s) = &t.stack {
                for l in s.text.lines().filter(|l| !l.trim().is_empty()) {
                    buf.push_str("    ");
                    buf.push_str(&text::display(l, cs));
                    buf.push('\n');
                }
            }
        }
        if buf.len() > 64 * 1024 {
            out.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    out.write_all(buf.as_bytes())
}

pub fn tsv(out: &mut dyn Write, incidents: &[Incident], header: bool, cs: Charset) -> io::Result<()> {
    let mut buf = String::new();
    if header {
        buf.push_str("time\tworker\tevent\tsecs\topen\tdetail\n");
    }
    for i in incidents {
        let [at, _, kind, secs] = cells(i, cs);
        buf.push_str(&at);
        buf.push('\t');
        tsv_escape(&mut buf, &i.worker, cs);
        for c in [kind.as_str(), secs.as_str(), if i.open { "yes" } else { "no" }] {
            buf.push('\t');
            buf.push_str(c);
        }
        buf.push('\t');
        tsv_escape(&mut buf, &detail(i), cs);
        buf.push('\n');
    }
    out.write_all(buf.as_bytes())
}

pub fn json(out: &mut dyn Write, incidents: &[Incident], cs: Charset) -> io::Result<()> {
    let mut buf = String::from("[");
    for (n, i) in incidents.iter().enumerate() {
        buf.push_str(if n == 0 { "\n" } else { ",\n" });
        let mut o = JsonObject::new(&mut buf, cs);
        o.str("time", Some(&stamp(i.at)));
        o.str("until", Some(&stamp(i.until)));
        o.num("secs", Some(i.secs()));
        o.bool("open", Some(i.open));
        o.str("worker", Some(&i.worker));
        o.str("event", Some(i.what.kind()));
        match &i.what {
            What::Blocked { why, pid, stack: st, after, end } => {
                o.num("pid", pid.map(f64::from));
                o.str("why", Some(why));
                o.key("slow_after");
                let list: Vec<String> = after.iter().map(|a| {
                    let mut s = String::new();
                    json_str(&mut s, a, cs);
                    s
                }).collect();
                o.buf().push_str(&format!("[{}]", list.join(", ")));
                o.str("end", end.as_deref());
                match st {
                    Some(t) => stack(&mut o, t, cs),
                    None => o.str("stack", None),
                }
            }
            What::Slow { session } => o.str("session", Some(session)),
            What::Gone { why, back } => {
                o.str("why", Some(why));
                o.bool("back", Some(*back));
            }
            What::Failed { from, to } => {
                o.num("from", Some(*from));
                o.num("to", Some(*to));
            }
        }
        o.str("detail", Some(&detail(i)));
        o.end();
    }
    buf.push_str(if incidents.is_empty() { "]\n" } else { "\n]\n" });
    out.write_all(buf.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Stack, Taken};

    fn incidents() -> Vec<Incident> {
        let text = "Thread 42 (idle): \"MainThread\"\n    sleep (w.py:3)\n".to_string();
        let stack = Some(Taken { at: 1_764_300_726_000, stack: Ok(Stack { summary: "sleep".into(), text }) });
        let what = What::Blocked { why: "main thread sleeping".into(), pid: Some(42), stack, after: vec!["AJ\t1".into()], end: None };
        vec![
            Incident { seq: 0, worker: "w 1".into(), at: 1_764_300_725_000, until: 1_764_300_729_800, open: false, what },
            Incident { seq: 1, worker: "w 1".into(), at: 1_764_300_730_000, until: 1_764_300_735_000, open: true, what: What::Slow { session: "AJ\t1".into() } },
        ]
    }

    fn out(f: impl Fn(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut b = Vec::new();
        f(&mut b).unwrap();
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn table_tsv_and_json() {
        let inc = incidents();
        let t = out(|b| table(b, &inc, true, Charset::Utf8));
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "time                      worker    event    secs  detail");
        assert_eq!(lines[1], "2025-11-28T03:32:05.000Z  w\\u{20}1  blocked   4.8  loop blocked 4.8s (pid 42): main thread sleeping; slow right after: AJ\\u{9}1; stack sleep");
        assert_eq!(lines[3], "        sleep (w.py:3)");
        assert!(lines[4].starts_with("2025-11-28T03:32:10.000Z  w\\u{20}1  slow      5.0  session AJ\\u{9}1 slow 5.0s, still"), "{}", lines[4]);
        let tsv = out(|b| tsv(b, &inc, true, Charset::Utf8));
        assert_eq!(tsv.lines().nth(2), Some("2025-11-28T03:32:10.000Z\tw 1\tslow\t5.0\tyes\tsession AJ\\t1 slow 5.0s, still"));
        let j = out(|b| json(b, &inc, Charset::Utf8));
        assert!(j.starts_with("[\n{\"time\": \"2025-11-28T03:32:05.000Z\", \"until\": \"2025-11-28T03:32:09.800Z\", \"secs\": 4.8, \"open\": false, \"worker\": \"w 1\", \"event\": \"blocked\", \"pid\": 42, \"why\": \"main thread sleeping\", \"slow_after\": [\"AJ\\t1\"], \"end\": null, \"stack\": {\"at\": \"2025-11-28T03:32:06.000Z\", \"summary\": \"sleep\", \"text\": \"Thread 42"), "{j}");
        assert!(j.ends_with("}\n]\n"));
        assert_eq!(out(|b| json(b, &[], Charset::Utf8)), "[]\n");
    }
}
