#!/usr/bin/python3
"""summarize.py CSV OUTDIR NOTE - medians, paired ratios, table and plot.

Reads the per-run results of run.sh (setup,workload,repeat,metric,value),
writes OUTDIR/table.txt (also printed), OUTDIR/summary.json and
OUTDIR/plot.png (gnuplot).  A ratio is paired: computed per repeat, between
runs made back to back, then the median of those is taken.
"""
import csv
import json
import os
import statistics
import subprocess
import sys

SETUPS = ["plain", "direct", "shim", "shimcli", "stunnel"]
SPAWN_CASES = ["none", "preload", "nowrap", "wrap"]

# (label, workload, metric, better, target for shim vs direct)
ROWS = [
    ("bulk MB/s", "bulk", "mb_per_s", "high", ("ratio", 0.95)),
    ("bulk CPU s/GiB (all processes)", "bulk", "cpu_s_per_gib", "low", ("ratio", 1.05)),
    ("ping-pong 64 B median RTT us", "ping", "rtt_med_us", "low", ("plus", 5.0)),
    ("ping-pong 64 B p99 RTT us", "ping", "rtt_p99_us", "low", None),
    ("req/resp 1 KiB median us", "rr1k", "rtt_med_us", "low", None),
    ("req/resp 1 KiB req/s", "rr1k", "req_per_s", "high", None),
    ("req/resp 16 KiB median us", "rr16k", "rtt_med_us", "low", None),
    ("req/resp 16 KiB req/s", "rr16k", "req_per_s", "high", None),
    ("churn conn/s (full handshakes)", "churn", "conn_per_s", "high", ("ratio", 0.9)),
    ("churn conn/s (resumed)", "churn_resumed", "conn_per_s", "high", ("ratio", 0.9)),
    ("1 conn req/s (64 B)", "conc1", "req_per_s", "high", None),
    ("16 conns req/s", "conc16", "req_per_s", "high", None),
    ("16 conns p99 us", "conc16", "lat_p99_us", "low", None),
    ("256 conns req/s", "conc256", "req_per_s", "high", None),
    ("256 conns p99 us", "conc256", "lat_p99_us", "low", None),
    ("idle KiB/conn (all processes)", "idle", "total_kib_per_conn", "low", None),
    ("epoll server, 1 conn req/s", "epoll", "req_per_s", "high", None),
    ("epoll server, 1 conn + idle req/s", "epoll_idle", "req_per_s", "high", None),
    ("epoll server, 1 conn CPU us/req", "epoll", "others_cpu_us_per_req", "low", None),
    ("epoll server, + idle CPU us/req", "epoll_idle", "others_cpu_us_per_req", "low", None),
]


def load(path):
    data = {}  # (setup, workload, metric) -> {repeat: value}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            try:
                v = float(row["value"])
            except ValueError:
                continue
            key = (row["setup"], row["workload"], row["metric"])
            data.setdefault(key, {})[row["repeat"]] = v
    return data


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def med(data, s, w, m):
    return median(data.get((s, w, m), {}).values())


def ratios(va, vb):
    """va/vb for each repeat that both {repeat: value} have."""
    return [va[r] / vb[r] for r in va if r in vb and vb[r]]


def paired_ratios(data, a, b, w, m):
    """a/b for each repeat that has both."""
    return ratios(data.get((a, w, m), {}), data.get((b, w, m), {}))


def paired(data, a, b, w, m):
    """Median over repeats of a/b."""
    return median(paired_ratios(data, a, b, w, m))


def spread(data, a, b, w, m):
    """'n pairs, middle half X-Y' for the ratios a/b, or None."""
    ratios = sorted(paired_ratios(data, a, b, w, m))
    if len(ratios) < 4:
        return None
    q = statistics.quantiles(ratios, n=4)
    return "%d pairs, middle half %.2fx-%.2fx" % (len(ratios), q[0], q[2])


def instructions(data):
    """Per GiB of bulk, server and client: callgrind's count between the
    two sizes of the instr workload.  {setup: (server, client)} or {}."""
    small = med(data, "any", "instr", "bytes_small")
    large = med(data, "any", "instr", "bytes_large")
    out = {}
    if not small or not large or large <= small:
        return out
    for s in ("direct", "shim"):
        per = []
        for side in ("server", "client"):
            a = med(data, s, "instr", "%s_%d" % (side, small))
            b = med(data, s, "instr", "%s_%d" % (side, large))
            if a is None or b is None:
                break
            per.append((b - a) / (large - small) * 2 ** 30)
        if len(per) == 2:
            out[s] = tuple(per)
    return out


def fmt(v, ratio=False):
    if v is None:
        return "-"
    if ratio:
        return "%.2fx" % v
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.2f" % v


def main():
    csv_path, out, note = sys.argv[1], sys.argv[2], sys.argv[3]
    data = load(csv_path)
    setups = [s for s in SETUPS if any(k[0] == s for k in data)]
    summary = {"note": note, "medians": {}, "ratios": {}, "targets": {},
               "spawn_us": {}}
    lines = []
    head = ["metric (median)"] + setups + ["shim/direct", "shim/stunnel",
                                           "target", "met"]
    table = [head]
    for label, w, m, better, target in ROWS:
        if not any((s, w, m) in data for s in setups):
            continue
        row = [label]
        for s in setups:
            v = med(data, s, w, m)
            row.append(fmt(v))
            summary["medians"].setdefault(w, {}).setdefault(m, {})[s] = v
        r_direct = paired(data, "shim", "direct", w, m)
        r_stunnel = paired(data, "shim", "stunnel", w, m)
        summary["ratios"].setdefault(w, {})[m] = {
            "shim/direct": r_direct, "shim/stunnel": r_stunnel}
        row += [fmt(r_direct, True), fmt(r_stunnel, True)]
        tgt, met = "", ""
        if target is not None:
            kind, x = target
            if kind == "ratio":
                tgt = (">= %.2fx" if better == "high" else "<= %.2fx") % x
                if r_direct is not None:
                    ok = r_direct >= x if better == "high" else r_direct <= x
                    met = "yes" if ok else "NO"
            else:
                d, sh = med(data, "direct", w, m), med(data, "shim", w, m)
                tgt = "<= direct+%g" % x
                if d is not None and sh is not None:
                    met = "yes" if sh <= d + x else "NO"
            summary["targets"][label] = {"target": tgt, "met": met}
        row += [tgt, met]
        table.append(row)

    extra = []
    # How far the paired ratios of the workloads run in rounds spread: the
    # machine is shared.
    for label, w, m in (("bulk MB/s", "bulk", "mb_per_s"),
                        ("bulk CPU s/GiB", "bulk", "cpu_s_per_gib"),
                        ("churn conn/s (full)", "churn", "conn_per_s"),
                        ("churn conn/s (resumed)", "churn_resumed",
                         "conn_per_s")):
        sp = spread(data, "shim", "direct", w, m)
        if sp is not None:
            extra.append("%s shim/direct: %s" % (label, sp))
            summary["ratios"].setdefault(w, {}).setdefault(m, {})["spread"] = sp

    # Instructions per GiB: a count, not a time.
    ins = instructions(data)
    if ins:
        extra.append("user-space instructions per GiB of bulk (callgrind; "
                     "no kernel work counted):")
        for s, (srv, cli) in ins.items():
            extra.append("  %-7s server %.3f G, client %.3f G, both %.3f G"
                         % (s, srv / 1e9, cli / 1e9, (srv + cli) / 1e9))
        summary["instructions_per_gib"] = {
            s: {"server": v[0], "client": v[1]} for s, v in ins.items()}
        if "direct" in ins and "shim" in ins:
            r = sum(ins["shim"]) / sum(ins["direct"])
            extra.append("  shim/direct: %.3fx (server %.3fx, client %.3fx)"
                         % (r, ins["shim"][0] / ins["direct"][0],
                            ins["shim"][1] / ins["direct"][1]))
            summary["ratios"]["instr"] = {"shim/direct": r}

    # Churn: which handshakes were resumed (server side, TLS servers only).
    for s in setups:
        for w in ("churn", "churn_resumed"):
            hs = med(data, s, w, "server_handshakes")
            res = med(data, s, w, "server_resumed")
            if hs:
                extra.append("%s %s: %.0f%% of handshakes resumed (counted by"
                             " the BoringSSL server)" % (s, w, 100.0 * (res or 0) / hs))
    for s in ("shim", "shimcli"):
        new = med(data, s, "resume_probe", "new_sessions")
        res = med(data, s, "resume_probe", "resumed")
        if new is not None:
            extra.append("%s: resumption probe, 6 connections of one client"
                         " process (churn of 4 + 2 counter requests): %d new"
                         " sessions, %d resumed (shim log)" % (s, new, res or 0))

    # What idle connections cost a busy one in an epoll server: the server
    # side's CPU per request (server and proxies) beside them over that of
    # the busy connection alone, paired per repeat.
    for s in setups:
        r = median(ratios(data.get((s, "epoll_idle", "others_cpu_us_per_req"), {}),
                          data.get((s, "epoll", "others_cpu_us_per_req"), {})))
        n_idle = med(data, s, "epoll_idle", "idle")
        if r is not None:
            extra.append("%s epoll server: CPU per request of 1 busy connection"
                         " beside %d idle ones: %.2fx that of it alone"
                         % (s, n_idle or 0, r))
            summary["ratios"].setdefault("epoll_idle", {})[s] = r

    # Memory per TLS connection beyond what plaintext costs.
    plain_mem = med(data, "plain", "idle", "total_kib_per_conn")
    if plain_mem is not None:
        tls_mem = {}
        for s in setups:
            v = med(data, s, "idle", "total_kib_per_conn")
            if s != "plain" and v is not None:
                tls_mem[s] = v - plain_mem
        summary["tls_kib_per_conn_over_plain"] = tls_mem
        if tls_mem:
            extra.append("TLS memory per connection over plaintext, both ends: "
                         + ", ".join("%s %.1f KiB" % kv for kv in tls_mem.items()))
        if tls_mem.get("direct") and "shim" in tls_mem:
            r = tls_mem["shim"] / tls_mem["direct"]
            extra.append("  shim/direct TLS memory: %.2fx (target <= 1.2x): %s"
                         % (r, "yes" if r <= 1.2 else "NO"))
            summary["targets"]["idle TLS memory"] = {
                "target": "<= 1.2x", "met": "yes" if r <= 1.2 else "NO",
                "ratio": r}

    # Start-up cost.
    spawn = []
    base = med(data, "none", "spawn", "spawn_med_us")
    for case in SPAWN_CASES:
        v = med(data, case, "spawn", "spawn_med_us")
        if v is None:
            continue
        summary["spawn_us"][case] = v
        spawn.append((case, v, None if base is None else v - base))

    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for i, r in enumerate(table):
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(widths[j]) for j, c in enumerate(r) if j > 0]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * x for x in widths))
    lines.append("")
    lines += extra
    if spawn:
        lines.append("")
        lines.append("start-up of /bin/true (fork+exec+exit, median us):")
        desc = {"none": "no preload",
                "preload": "preloaded, no TLSSHIM_POLICY",
                "nowrap": "preloaded, policy that never wraps",
                "wrap": "preloaded, bench policy, TLS loaded at start-up"}
        for case, v, d in spawn:
            lines.append("  %-52s %8.0f us%s" % (
                desc[case], v, "" if d is None or case == "none"
                else "   (+%.0f us)" % d))
        if "nowrap" in summary["spawn_us"] and base is not None:
            d = summary["spawn_us"]["nowrap"] - base
            lines.append("  policy that never wraps: +%.2f ms (target < 0.5 ms): %s"
                         % (d / 1000, "yes" if d < 500 else "NO"))
            summary["targets"]["start-up, never wraps"] = {
                "target": "< 0.5 ms", "met": "yes" if d < 500 else "NO",
                "delta_us": d}
    lines.append("")
    lines.append(note)
    text = "\n".join(lines) + "\n"
    print(text, end="")
    with open(os.path.join(out, "table.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)

    # The plot: bulk throughput, and median/p99 round trip, per setup.
    dat = os.path.join(out, "plot.dat")
    with open(dat, "w") as f:
        f.write("# setup mb_per_s rtt_med_us rtt_p99_us\n")
        for s in setups:
            vals = [med(data, s, "bulk", "mb_per_s"),
                    med(data, s, "ping", "rtt_med_us"),
                    med(data, s, "ping", "rtt_p99_us")]
            f.write(s + " " + " ".join("NaN" if v is None else "%.2f" % v
                                       for v in vals) + "\n")
    script = """
set terminal pngcairo size 1100,450 font ",10"
set output '%s'
set multiplot layout 1,2 title "tlsshim benchmark (%s)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top left
set yrange [0:*]
set title "bulk transfer, one way (MB/s, higher is better)"
plot '%s' using 2:xtic(1) title "MB/s" lc rgb "#3b75af"
set title "64-byte ping-pong round trip (us, log scale, lower is better)"
set logscale y
set yrange [1:*]
plot '%s' using 3:xtic(1) title "median" lc rgb "#3b75af", '' using 4 title "p99" lc rgb "#ef8636"
unset multiplot
""" % (os.path.join(out, "plot.png"), note, dat, dat)
    with open(os.path.join(out, "plot.gp"), "w") as f:
        f.write(script)
    # A run of only some workloads (say, churn alone) has nothing to plot.
    if any(med(data, s, "bulk", "mb_per_s") is not None for s in setups) and \
            any(med(data, s, "ping", "rtt_med_us") is not None for s in setups):
        subprocess.run(["gnuplot", os.path.join(out, "plot.gp")], check=True)
    else:
        print("no bulk and ping figures: no plot")


main()
