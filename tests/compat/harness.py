#!/usr/bin/env python3
"""Compatibility harness: the real openrtc worker side, and a checker.

serve:  runs openrtc 0.20.1's own introspection code on a Unix socket
        (IntrospectionRuntime with live asyncio sessions, or IntrospectionServer
        with a chosen snapshot), prints "READY <socket path>", and serves until
        stdin closes.
check:  compares what openrtc-top printed with the payload the worker served
        for that very connection, decoded by Python's own json module (the
        reference client's decoder), so our decoder is not judged by itself;
        with --pool, several workers' payloads against one merged output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import sys
import time
from dataclasses import asdict
from pathlib import Path

# --------------------------------------------------------------------------
# Serving.

# job_id, agent, tenant, workload
LIVE_SESSIONS = [
    ("AJ_blocker", "booking", "acme", "blocker"),
    ("AJ_busy_1", "support", "acme", "busy"),
    ("AJ_busy_2", "sales", "globex", "busy"),
    ("AJ_idle_1", "support", None, "idle"),
    ("AJ_idle_2", "triage", "initech", "idle"),
    ("AJ_idle_3", "sales", None, "idle"),
]

HOSTILE = [
    ("caf\u00e9-\u4e2d\u6587-\U0001F600", "agent \u00fcber", "t\u00e9nant \U0001F680"),
    ("id with spaces", "agent\twith\ttabs", "tenant\nnewline"),
    ("\x1b]0;owned\x07\x1b[2J", "\x1b[31mred\x1b[0m", "\u009b31m\x7f"),
    ("back\\slash \"quote\"", "\u202eevil", "\r\x00\x01"),
    ("", "", ""),
]


def row(sid, agent, tenant, status="active", dur=12.3, mem=40.0, peak=55.5, cpu=7.25, pinned=False):
    from openrtc.observability.introspection import SessionRow

    return SessionRow(session_id=sid, agent_name=agent, tenant=tenant, duration_s=dur,
                      mem_mb=mem, peak_mb=peak, cpu_pct=cpu, status=status, pinned=pinned)


def worker_stats(n, system=None, history=None):
    from openrtc.observability.worker_stats import (
        SystemStats, WorkerContext, WorkerStatsSampler, build_worker_stats)

    sampler = WorkerStatsSampler()
    sample = system if system is not None else sampler.sample()
    return build_worker_stats(
        context=WorkerContext(name="compat-worker", max_sessions=32, uptime_s=3723.5,
                              started=n + 2, failed=2, draining=False),
        system=sample,
        cpu_history=tuple(history) if history is not None else sampler.cpu_history,
        active_sessions=n)


def static_snapshot(scenario):
    from openrtc.observability.introspection import TopSnapshot
    from openrtc.observability.worker_stats import SystemStats

    if scenario == "empty":
        return TopSnapshot(worker=worker_stats(0), sessions=[])
    if scenario == "legacy":
        rows = [row("job-c1d550", "support", "acme", "slow", 312.4, 182.5, 240.1, 37.2),
                row("job-7fa01b", "booking", None, "active", 45.0, 182.5, 190.0, 4.1),
                row("job-93e2aa", "sales", "globex", "active", 1280.7, 182.5, 301.9, 12.8, True)]
        return TopSnapshot(worker=worker_stats(3), sessions=rows)
    if scenario == "hostile":
        rows = [row(s, a, t, "slow" if i % 2 else "active", 10.0 + i, 5.0 * i, 9.0 * i, 1.5 * i)
                for i, (s, a, t) in enumerate(HOSTILE)]
        return TopSnapshot(worker=worker_stats(len(rows)), sessions=rows)
    if scenario == "nonfinite":
        nan, inf = float("nan"), float("inf")
        rows = [row("nf-nan", "a", "t", mem=nan, peak=nan, cpu=nan, dur=nan),
                row("nf-inf", "a", "t", mem=inf, peak=inf, cpu=-inf, dur=inf),
                row("nf-big", "b", None, mem=1e300, peak=1e16, cpu=1e-7, dur=123456789.123)]
        system = SystemStats(available=True, cpu_pct=nan, vcpus=2, mem_used_bytes=1,
                             mem_total_bytes=2, swap_used_bytes=None, swap_total_bytes=None,
                             load1=inf, load5=-inf, load15=0.5, net_rate_bps=nan)
        return TopSnapshot(worker=worker_stats(3, system, [1.5, nan, inf, 99.9]), sessions=rows)
    raise SystemExit(f"unknown scenario {scenario!r}")


async def wait_for_stdin_close():
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


# openrtc blames a loop block on the session its CPU sampler saw last; busy
# sessions spinning right after the block would take the blame, so they pause
# while the blocker blocks (they still get a CPU share the rest of the time).
QUIET_UNTIL = [0.0]


async def busy(kind):
    while True:
        if kind == "busy" and time.monotonic() < QUIET_UNTIL[0]:
            await asyncio.sleep(0.02)
        elif kind == "busy":
            # Bursts longer than Python's 5 ms GIL switch interval, so the
            # worker's sampler thread sees them on-CPU, yet short enough that
            # the loop is never late by its 50 ms slow threshold.
            end = time.perf_counter() + 0.012
            while time.perf_counter() < end:
                pass
            await asyncio.sleep(0.02)
        elif kind == "blocker":
            QUIET_UNTIL[0] = time.monotonic() + 0.4
            time.sleep(0.15)  # blocks the loop: the worker marks the session slow
            await asyncio.sleep(0.6)
        else:
            await asyncio.sleep(0.05)


async def serve_runtime(socket_path):
    from openrtc.observability.base_observer import SessionInfo
    from openrtc.observability.introspection_runtime import IntrospectionRuntime
    from openrtc.observability.session_context import session_scope
    from openrtc.observability.worker_stats import WorkerContext

    t0 = time.time()
    ctx = lambda: WorkerContext(name="compat-runtime", max_sessions=16, uptime_s=time.time() - t0,
                                started=len(LIVE_SESSIONS), failed=0, draining=False)
    runtime = IntrospectionRuntime(socket_path=socket_path, worker_context_provider=ctx)
    loop = asyncio.get_running_loop()
    await runtime.start(loop)
    tasks = []
    for job, agent, tenant, kind in LIVE_SESSIONS:
        info = SessionInfo(agent_name=agent, room_name=f"room-{job}", job_id=job,
                           metadata={"tenant": tenant} if tenant else {},
                           started_at=time.time(), tenant=tenant)
        await runtime.registry.on_session_start(info, object())
        with session_scope(job):
            tasks.append(loop.create_task(busy(kind)))
    print(f"READY {runtime.socket_path}", flush=True)
    await wait_for_stdin_close()
    for t in tasks:
        t.cancel()
    await runtime.aclose()


# A session that blocks the worker's loop for BLOCK_S seconds every
# BLOCK_EVERY_S, the first time BLOCK_FIRST_S in, in one of four ways; each
# named so that py-spy's stack names it.
BLOCK_S, BLOCK_EVERY_S, BLOCK_FIRST_S = 4.0, 9.0, 2.0


def blocking_sleep():
    time.sleep(BLOCK_S)


def spin_on_cpu():
    end = time.perf_counter() + BLOCK_S
    while time.perf_counter() < end:
        pass


def blocking_read():
    import socket
    import threading
    a, b = socket.socketpair()
    threading.Timer(BLOCK_S, lambda: b.send(b"x")).start()
    a.recv(1)  # a blocking read on the loop's thread
    a.close()
    b.close()


def hold_the_gil(n):
    # One C call that never lets the GIL go: the loop's thread waits for it.
    return sum(range(n))


def gil_n():
    # Measured again before each block, and for half as long again as a
    # block: on a loaded machine (CI runs the suites side by side) a count
    # measured once, at a busy moment, held the GIL for under the 2 s that
    # --once waits, and the loop never looked blocked.
    t = time.perf_counter()
    sum(range(10**6))
    return int(10**6 * BLOCK_S * 1.5 / max(time.perf_counter() - t, 1e-6))


async def blocker(how):
    import threading
    await asyncio.sleep(BLOCK_FIRST_S)
    while True:
        n = gil_n() if how == "gil" else 0
        if how == "sleep":
            blocking_sleep()
        elif how == "spin":
            spin_on_cpu()
        elif how == "read":
            blocking_read()
        else:
            threading.Thread(target=hold_the_gil, args=(n,), daemon=True).start()
            await asyncio.sleep(0.5)  # the thread takes the GIL; the loop waits for it
        await asyncio.sleep(BLOCK_EVERY_S - BLOCK_S)


async def serve_blocking(socket_path, how):
    from openrtc.observability.base_observer import SessionInfo
    from openrtc.observability.introspection_runtime import IntrospectionRuntime
    from openrtc.observability.session_context import session_scope
    from openrtc.observability.worker_stats import WorkerContext

    t0 = time.time()
    ctx = lambda: WorkerContext(name=f"compat-{how}", max_sessions=16, uptime_s=time.time() - t0,
                                started=3, failed=0, draining=False)
    runtime = IntrospectionRuntime(socket_path=socket_path, worker_context_provider=ctx)
    loop = asyncio.get_running_loop()
    await runtime.start(loop)
    tasks = []
    for job, kind in [("AJ_blocker", "block"), ("AJ_idle_1", "idle"), ("AJ_idle_2", "idle")]:
        info = SessionInfo(agent_name="support", room_name=f"room-{job}", job_id=job, metadata={},
                           started_at=time.time(), tenant=None)
        await runtime.registry.on_session_start(info, object())
        with session_scope(job):
            tasks.append(loop.create_task(blocker(how) if kind == "block" else busy("idle")))
    print(f"READY {runtime.socket_path}", flush=True)
    await wait_for_stdin_close()
    for t in tasks:
        t.cancel()
    await runtime.aclose()


async def serve_static(socket_path, scenario):
    from openrtc.observability import introspection_ipc
    from openrtc.observability.introspection_ipc import IntrospectionServer, default_socket_path

    snap = static_snapshot(scenario)
    if scenario == "legacy":
        # openrtc 0.3 served the bare row list; the 0.20.1 server is otherwise
        # unchanged, so swap only its serializer.
        introspection_ipc.snapshot_to_json = lambda s: json.dumps([asdict(r) for r in s.sessions])
    path = Path(socket_path) if socket_path else default_socket_path()
    server = IntrospectionServer(snapshot_provider=lambda: snap, socket_path=path)
    await server.start()
    print(f"READY {path}", flush=True)
    await wait_for_stdin_close()
    await server.aclose()


# --------------------------------------------------------------------------
# Checking.

class Mismatch(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Mismatch(what)


def python_format(v, decimals):
    """How openrtc-top prints a number: Python's fixed-point, Python's NaN/inf names."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{decimals}f}"


def hidden(c):
    """What openrtc-top does not show as itself (README: "What the screen
    shows is what is there"), from Unicode's categories: controls, format
    characters, separators, whitespace, unassigned and private use,
    default-ignorable code points and regional indicators."""
    import unicodedata2
    cat = unicodedata2.category(c)
    cp = ord(c)
    return (cat in ("Cc", "Cf", "Zl", "Zp", "Zs", "Cn", "Co", "Cs") or c.isspace()
            or cp in (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x3164, 0xFFA0)
            or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF or 0x1F1E6 <= cp <= 0x1F1FF)


def field(s):
    """openrtc-top's plain-table field: injective; every character that is
    not a visible non-space one as \\u{hex}, backslash doubled, empty as -,
    a lone - as \\u{2d}."""
    if s == "":
        return "-"
    if s == "-":
        return "\\u{2d}"
    out = []
    for c in s:
        if c == "\\":
            out.append("\\\\")
        elif hidden(c):
            out.append("\\u{%x}" % ord(c))
        else:
            out.append(c)
    return "".join(out)


def same_number(ours, theirs):
    if isinstance(theirs, float) and math.isnan(theirs):
        return ours is None
    if isinstance(theirs, float) and math.isinf(theirs):
        return ours is None
    return ours == theirs


def rows_of(payload):
    if isinstance(payload, list):
        return [r for r in payload if isinstance(r, dict)], None
    return [r for r in payload.get("sessions", []) if isinstance(r, dict)], payload.get("worker")


def default_order(rows):
    """mem_mb descending (NaN lowest), ties by cpu_pct descending (NaN
    lowest), then by session id: openrtc-top's default view. (The reference
    client's sort is stable, so its ties keep the worker's payload order;
    where the key differs, both agree.)"""
    def num(r, k):
        v = float(r.get(k, 0.0))
        return (0 if math.isnan(v) else 1, 0.0 if math.isnan(v) else v)
    by_id = sorted(rows, key=lambda r: r.get("session_id", ""))
    return sorted(by_id, key=lambda r: (num(r, "mem_mb"), num(r, "cpu_pct")), reverse=True)


def reject_constant(name):
    raise Mismatch(f"json: {name} is not JSON (jq would reject the line)")


def check_json(raw, ours_text):
    rows, worker = rows_of(raw)
    lines = ours_text.splitlines()
    expect(len(lines) == 1, f"json: expected one line, got {len(lines)}")
    ours = json.loads(lines[0], parse_constant=reject_constant)  # must be strict JSON
    expect(set(ours) == {"pid", "state", "worker", "sessions"}, f"json: keys {sorted(ours)}")
    expect(ours["state"] == "answered", f"json: state {ours['state']!r}")
    expect(isinstance(ours["pid"], int) and ours["pid"] > 0, f"json: pid {ours['pid']!r}")
    expect([r["session_id"] for r in ours["sessions"]] == [r["session_id"] for r in default_order(rows)],
           "json: session order differs from mem_mb desc / id asc")
    by_id = {r["session_id"]: r for r in rows}
    for o in ours["sessions"]:
        t = by_id[o["session_id"]]
        for k in ("agent_name", "tenant", "status", "pinned"):
            expect(o[k] == t[k], f"json: {o['session_id']!r} {k}: ours {o[k]!r}, worker {t[k]!r}")
        for k in ("duration_s", "mem_mb", "peak_mb", "cpu_pct"):
            expect(same_number(o[k], t[k]), f"json: {o['session_id']!r} {k}: ours {o[k]!r}, worker {t[k]!r}")
    if worker is None:
        expect(ours["worker"] is None, "json: legacy payload has no worker block")
        return
    check_worker_block(ours["worker"], worker, "json")


def unescape_tsv(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            n = s[i + 1]
            if n == "x":
                out.append(chr(int(s[i + 2:i + 4], 16)))
                i += 4
                continue
            if n == "u":
                end = s.index("}", i)
                out.append(chr(int(s[i + 3:end], 16)))
                i = end + 1
                continue
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}[n])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


TSV_HEADER = "session\tagent\ttenant\tdur(s)\tmem(MB)\tpeak\tcpu%\tstatus\tpin"
TABLE_HEADER = ["session", "agent", "tenant", "dur(s)", "mem(MB)", "peak", "cpu%", "status", "pin"]


def check_tsv_row(cells, t):
    expect(len(cells) == 9, f"tsv: 9 cells in {cells!r}")
    sid, agent, tenant, dur, mem, peak, cpu, status, pin = cells
    expect(unescape_tsv(sid) == t["session_id"], f"tsv: id {sid!r} vs {t['session_id']!r}")
    expect(unescape_tsv(agent) == t["agent_name"], f"tsv: agent {agent!r}")
    expect(unescape_tsv(tenant) == (t["tenant"] or ""), f"tsv: tenant {tenant!r}")
    for text, k in ((dur, "duration_s"), (mem, "mem_mb"), (peak, "peak_mb"), (cpu, "cpu_pct")):
        v = float(text)
        expect(v == t[k] or (math.isnan(v) and math.isnan(t[k])), f"tsv: {k} {text!r} vs {t[k]!r} (unrounded)")
    expect(unescape_tsv(status) == t["status"], f"tsv: status {status!r}")
    expect(pin == ("*" if t["pinned"] else "-"), f"tsv: pin {pin!r}")


def tsv_lines(ours_text):
    lines = ours_text.split("\n")
    expect(lines[-1] == "", "tsv: ends with a newline")
    for line in lines[:-1]:
        expect(not any(ord(c) < 0x20 and c != "\t" or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" for c in line),
               f"tsv: raw control character or line separator in {line!r}")
    return lines[:-1]


def check_tsv(raw, ours_text):
    rows, _ = rows_of(raw)
    lines = tsv_lines(ours_text)
    expect(lines[0] == TSV_HEADER, f"tsv header {lines[0]!r}")
    expect(len(lines) - 1 == len(rows), "tsv: one line per session")
    for line, t in zip(lines[1:], default_order(rows)):
        check_tsv_row(line.split("\t"), t)


def table_cells(t):
    return [field(t["session_id"]), field(t["agent_name"]), ("-" if t["tenant"] is None else field(t["tenant"])),
            python_format(t["duration_s"], 0), python_format(t["mem_mb"], 1),
            python_format(t["peak_mb"], 1), python_format(t["cpu_pct"], 1),
            field(t["status"]), "*" if t["pinned"] else "-"]


def check_table(raw, ours_text):
    rows, _ = rows_of(raw)
    lines = ours_text.splitlines()
    expect(lines[0].split() == TABLE_HEADER, f"table header {lines[0]!r}")
    expect(len(lines) - 1 == len(rows), "table: one line per session")
    for line, t in zip(lines[1:], default_order(rows)):
        expect(not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in line), f"table: raw control in {line!r}")
        cells = line.split()
        want = table_cells(t)
        expect(cells == want, f"table: {cells} != {want}")


def check_worker_block(ow, worker, where):
    for k, v in worker.items():
        if k == "system":
            for sk, sv in v.items():
                expect(same_number(ow["system"][sk], sv) if isinstance(sv, float) else ow["system"][sk] == sv,
                       f"{where}: worker.system.{sk}: ours {ow['system'][sk]!r}, worker {sv!r}")
        elif k == "cpu_history":
            expect(len(ow[k]) == len(v) and all(same_number(a, b) for a, b in zip(ow[k], v)),
                   f"{where}: cpu_history ours {ow[k]!r}, worker {v!r}")
        elif isinstance(v, float):
            expect(same_number(ow[k], v), f"{where}: worker.{k}: ours {ow[k]!r}, worker {v!r}")
        else:
            expect(ow[k] == v, f"{where}: worker.{k}: ours {ow[k]!r}, worker {v!r}")
    extra = set(ow) - set(worker)
    expect(all(ow[k] is None for k in extra), f"{where}: unexpected worker fields {extra}")


def check_pool(raws, failed, ours_text, fmt):
    """Several workers: `raws` maps each answering worker's label to the
    payload it sent this very connection, `failed` maps the others' labels to
    a word their error must contain. Every row is its worker's, in the
    default order with ties by worker label."""
    expected = []
    for label, raw in raws.items():
        rows, _ = rows_of(raw)
        expected.extend((label, r) for r in rows)
    # mem_mb desc (NaN lowest), then cpu_pct desc (NaN lowest), then
    # session id, then worker label.
    def num(r, k):
        v = float(r.get(k, 0.0))
        return (0 if math.isnan(v) else 1, 0.0 if math.isnan(v) else v)
    expected.sort(key=lambda lr: (lr[1].get("session_id", ""), lr[0]))
    expected.sort(key=lambda lr: (num(lr[1], "mem_mb"), num(lr[1], "cpu_pct")), reverse=True)
    if fmt == "json":
        lines = ours_text.splitlines()
        expect(len(lines) == 1, f"json: expected one line, got {len(lines)}")
        ours = json.loads(lines[0], parse_constant=reject_constant)
        expect(set(ours) == {"workers", "sessions"}, f"json: keys {sorted(ours)}")
        labels = [w["label"] for w in ours["workers"]]
        expect(labels == sorted(set(raws) | set(failed)), f"json: worker labels {labels}")
        for w in ours["workers"]:
            keys = {"label", "socket", "pid", "state", "worker", "error"}
            expect(keys <= set(w) <= keys | {"blocked_s", "why", "stack"}, f"json: worker keys {sorted(w)}")
            if w["label"] in raws:
                expect(w["state"] == "answered" and w["error"] is None, f"json: {w['label']} {w['state']} error {w['error']!r}")
                expect(isinstance(w["pid"], int), f"json: {w['label']} pid {w['pid']!r}")
                check_worker_block(w["worker"], rows_of(raws[w["label"]])[1], f"json {w['label']}")
            elif failed[w["label"]] == "blocked":
                # Accepted and did not answer: blocked, for how long and why.
                expect(w["state"] == "blocked" and w["blocked_s"] >= 1.9 and w["why"].startswith("main thread "),
                       f"json: {w['label']}: {w['state']} {w.get('blocked_s')!r} {w.get('why')!r}")
            else:
                expect(w["state"] == "failed" and w["worker"] is None and failed[w["label"]] in (w["error"] or ""),
                       f"json: {w['label']}: error {w['error']!r}, expected it to say {failed[w['label']]!r}")
        got = [(s["worker"], s["session_id"]) for s in ours["sessions"]]
        expect(got == [(l, r["session_id"]) for l, r in expected], f"json: rows {got}")
        for s, (_, t) in zip(ours["sessions"], expected):
            for k in ("agent_name", "tenant", "status", "pinned"):
                expect(s[k] == t[k], f"json: {s['session_id']!r} {k}: ours {s[k]!r}, worker {t[k]!r}")
            for k in ("duration_s", "mem_mb", "peak_mb", "cpu_pct"):
                expect(same_number(s[k], t[k]), f"json: {s['session_id']!r} {k}")
    elif fmt == "tsv":
        lines = tsv_lines(ours_text)
        expect(lines[0] == "worker\t" + TSV_HEADER, f"tsv header {lines[0]!r}")
        expect(len(lines) - 1 == len(expected), f"tsv: {len(lines) - 1} rows, the workers sent {len(expected)}")
        for line, (label, t) in zip(lines[1:], expected):
            cells = line.split("\t")
            expect(unescape_tsv(cells[0]) == label, f"tsv: worker {cells[0]!r}, expected {label!r}")
            check_tsv_row(cells[1:], t)
    else:
        lines = ours_text.splitlines()
        expect(lines[0].split() == ["worker"] + TABLE_HEADER, f"table header {lines[0]!r}")
        expect(len(lines) - 1 == len(expected), f"table: {len(lines) - 1} rows, the workers sent {len(expected)}")
        for line, (label, t) in zip(lines[1:], expected):
            cells = line.split()
            want = [field(label)] + table_cells(t)
            expect(cells == want, f"table: {cells} != {want}")


def metric_label(s):
    """A label value as openrtc-top's exposition carries it: the exact string,
    except controls, bidi controls and line separators, which no output of
    ours carries raw (README: metrics), as \\u{hex} text."""
    def unsafe(c):
        cp = ord(c)
        return (cp <= 0x1F or 0x7F <= cp <= 0x9F or cp in (0x061C, 0x200E, 0x200F, 0x2028, 0x2029)
                or 0x202A <= cp <= 0x202E or 0x2066 <= cp <= 0x2069)
    return "".join(("\\u{%x}" % ord(c)) if unsafe(c) and c != "\n" else c for c in s)


def check_metrics(raws, failed, ours_text, fmt):
    """Parse the exposition with prometheus_client (OpenMetrics: its strict
    parser) and compare every series with what each worker sent."""
    if fmt == "openmetrics":
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
        expect(ours_text.endswith("# EOF\n"), "openmetrics: ends with # EOF")
    else:
        from prometheus_client.parser import text_string_to_metric_families
    got = {}
    for fam in text_string_to_metric_families(ours_text):
        for smp in fam.samples:
            key = (smp.name, tuple(sorted(smp.labels.items())))
            expect(key not in got, f"{fmt}: series {key} twice")
            got[key] = smp.value
    want = {}

    def put(name, value, **labels):
        want[(name, tuple(sorted(labels.items())))] = value

    MIB = 1024.0 * 1024.0
    blocked = [label for label, words in failed.items() if words == "blocked"]
    for label in failed:
        put("openrtc_up", 0.0, worker=metric_label(label))
        if label not in blocked:
            put("openrtc_loop_blocked_seconds", 0.0, worker=metric_label(label))
        put("openrtc_loop_blocks_total", 1.0 if label in blocked else 0.0, worker=metric_label(label))
    for label in blocked:
        # How long it has been blocked: measured, so only its range is known.
        k = ("openrtc_loop_blocked_seconds", (("worker", metric_label(label)),))
        expect(k in got and 0.25 <= got.pop(k) <= 60, f"{fmt}: {k} for a blocked worker")
    for label, raw in raws.items():
        w = metric_label(label)
        rows, block = rows_of(raw)
        put("openrtc_up", 1.0, worker=w)
        put("openrtc_loop_blocked_seconds", 0.0, worker=w)
        put("openrtc_loop_blocks_total", 0.0, worker=w)
        for key, name in (("uptime_s", "openrtc_worker_uptime_seconds"), ("max_sessions", "openrtc_sessions_max"),
                          ("started", "openrtc_sessions_started_total"), ("failed", "openrtc_sessions_failed_total"),
                          ("saved_bytes", "openrtc_worker_saved_bytes")):
            if block and block.get(key) is not None:
                put(name, float(block[key]), worker=w)
        if block and block.get("draining") is not None:
            put("openrtc_worker_draining", 1.0 if block["draining"] else 0.0, worker=w)
        counts, shares = {}, {}
        for r in rows:
            a, t, st = metric_label(r["agent_name"]), metric_label(r["tenant"] or ""), metric_label(r["status"])
            counts[(a, t, st)] = counts.get((a, t, st), 0) + 1
            slow, mem, cpu = shares.get((a, t), (0, 0.0, 0.0))
            m, c = float(r["mem_mb"]), float(r["cpu_pct"])
            shares[(a, t)] = (slow + (r["status"] == "slow"), mem + (m if math.isfinite(m) else 0.0),
                              cpu + (c if math.isfinite(c) else 0.0))
        for (a, t, st), n in counts.items():
            put("openrtc_sessions", float(n), worker=w, agent=a, tenant=t, status=st)
        for (a, t), (slow, mem, cpu) in shares.items():
            put("openrtc_slow_sessions", float(slow), worker=w, agent=a, tenant=t)
            put("openrtc_session_memory_share_bytes", mem * MIB, worker=w, agent=a, tenant=t)
            put("openrtc_session_cpu_share_percent", cpu, worker=w, agent=a, tenant=t)
    durations = {k: v for k, v in got.items() if k[0] == "openrtc_fetch_duration_seconds"}
    for k, v in durations.items():
        expect(v >= 0 and v < 10, f"{fmt}: fetch duration {k} {v}")
        del got[k]
    expect(len(durations) == len(raws) + len(failed), f"{fmt}: a fetch duration per worker: {sorted(durations)}")
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    expect(not missing, f"{fmt}: missing series {missing[:5]}")
    expect(not extra, f"{fmt}: unexpected series {extra[:5]}")
    for k, v in want.items():
        expect(got[k] == v or (math.isnan(v) and math.isnan(got[k])), f"{fmt}: {k}: ours {got[k]!r}, expected {v!r}")


def check(args):
    if args.format in ("openmetrics", "prometheus"):
        raws = {}
        for spec in args.pool or []:
            label, path = spec.split("=", 1)
            raws[label] = json.loads(Path(path).read_text(encoding="utf-8"))
        if args.raw:
            raw = json.loads(Path(args.raw).read_text(encoding="utf-8"))
            name = (rows_of(raw)[1] or {}).get("name")
            raws[name or args.stem] = raw
        failed = dict(f.split("=", 1) for f in args.failed or [])
        check_metrics(raws, failed, Path(args.ours).read_text(encoding="utf-8"), args.format)
        return
    if args.pool:
        raws = {}
        for spec in args.pool:
            label, path = spec.split("=", 1)
            raws[label] = json.loads(Path(path).read_text(encoding="utf-8"))
        failed = dict(f.split("=", 1) for f in args.failed or [])
        check_pool(raws, failed, Path(args.ours).read_text(encoding="utf-8"), args.format)
        return
    raw_text = Path(args.raw).read_text(encoding="utf-8")
    raw = json.loads(raw_text)  # Python's decoder, as the reference client uses
    ours = Path(args.ours).read_text(encoding="utf-8")
    {"json": check_json, "tsv": check_tsv, "table": check_table}[args.format](raw, ours)
    rows, _ = rows_of(raw)
    for sid in args.slow or []:
        t = next(r for r in rows if r["session_id"] == sid)
        expect(t["status"] == "slow", f"the worker did not mark {sid!r} slow: {t['status']!r}")
    for sid in args.busy or []:
        t = next(r for r in rows if r["session_id"] == sid)
        expect(t["cpu_pct"] > 0, f"the worker attributed no CPU to {sid!r}")


def ucd():
    """Every code point's general category and East Asian Width, from the
    Unicode data of unicodedata2 (the version unicode-width is built from)."""
    import unicodedata2
    out = [f"unicode {unicodedata2.unidata_version}"]
    for cp in range(0x110000):
        c = chr(cp)
        out.append(f"{cp:x} {unicodedata2.category(c)} {unicodedata2.east_asian_width(c)}")
    sys.stdout.write("\n".join(out) + "\n")


def can_trace(py_spy):
    """As the tests will: py-spy, a sibling of the Python process, reads its
    stack (Yama's ptrace_scope 1 lets only an ancestor trace)."""
    import subprocess
    target = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.3)
        r = subprocess.run([py_spy, "dump", "--pid", str(target.pid), "--nonblocking"], capture_output=True, timeout=20)
    finally:
        target.kill()
        target.wait()
    sys.exit(0 if r.returncode == 0 and b"Thread" in r.stdout else 1)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("ucd")
    t = sub.add_parser("can-trace", help="exit 0 if PY_SPY can read a sibling Python process's stack")
    t.add_argument("py_spy")
    s = sub.add_parser("serve")
    s.add_argument("--scenario", required=True,
                   choices=["runtime", "empty", "legacy", "hostile", "nonfinite",
                            "block-sleep", "block-spin", "block-read", "block-gil"])
    s.add_argument("--socket", help="default: the worker's own default path")
    c = sub.add_parser("check")
    c.add_argument("--raw")
    c.add_argument("--pool", action="append", help="LABEL=FILE: a worker's payload (several workers)")
    c.add_argument("--failed", action="append", help="LABEL=WORDS: a worker that did not answer, and why")
    c.add_argument("--ours", required=True)
    c.add_argument("--format", required=True, choices=["json", "tsv", "table", "openmetrics", "prometheus"])
    c.add_argument("--stem", default="tee", help="the socket's stem: a nameless worker's label (metrics)")
    c.add_argument("--slow", action="append")
    c.add_argument("--busy", action="append")
    args = p.parse_args()
    if args.cmd == "ucd":
        ucd()
    elif args.cmd == "can-trace":
        can_trace(args.py_spy)
    elif args.cmd == "serve":
        # The worker logs each loop block as a warning; the tests read the
        # status from the snapshot instead.
        logging.getLogger("openrtc").setLevel(logging.ERROR)
        path = Path(args.socket) if args.socket else None
        if args.scenario == "runtime":
            asyncio.run(serve_runtime(path))
        elif args.scenario.startswith("block-"):
            # A client that stops waiting during a block makes the worker's
            # late answer fail: asyncio logs it, and that is expected here.
            logging.getLogger("asyncio").setLevel(logging.CRITICAL)
            asyncio.run(serve_blocking(path, args.scenario[len("block-"):]))
        else:
            asyncio.run(serve_static(args.socket, args.scenario))
    else:
        try:
            check(args)
        except Mismatch as e:
            print(f"MISMATCH: {e}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
