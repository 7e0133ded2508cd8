"""The one table of tests/bench/run.sh: medians per server and concurrency, ratios against the
peer, and every goal of issue 8 with PASS/FAIL. Usage: report.py RESULTS_DIR"""
import csv
import statistics
import sys
from collections import defaultdict

out = sys.argv[1]


def rows(name):
    with open(f"{out}/{name}") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def med(values):
    values = [float(v) for v in values if v not in ("", None)]
    return statistics.median(values) if values else float("nan")


wrk = rows("wrk.tsv")
by = defaultdict(list)
for r in wrk:
    by[(r["target"], int(r["conns"]))].append(r)
targets = ["peer", "ours", "floor", "ours-tls", "floor-tls"]
conns = sorted({int(r["conns"]) for r in wrk})


def stat(t, c, field):
    return med(r[field] for r in by[(t, c)])


names = {"peer": "peer (Bolt, plain)", "ours": "mailguide (plain)", "floor": "floor (plain)",
         "ours-tls": "mailguide (TLS)", "floor-tls": "floor (TLS)"}
print()
print("| server | conns | req/s | p50 ms | p99 ms | peak RSS MiB | idle RSS MiB | bytes/reply | errors | req/s vs peer | p99 vs peer |")
print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for t in targets:
    for c in conns:
        if not by[(t, c)]:
            continue
        errors = sum(int(r["non2xx"] or 0) + int(r["sockerr"] or 0) for r in by[(t, c)])
        rps, p99 = stat(t, c, "rps"), stat(t, c, "p99_us")
        print(f"| {names[t]} | {c} | {rps:,.0f} | {stat(t, c, 'p50_us') / 1000:.3f} | {p99 / 1000:.3f} | "
              f"{stat(t, c, 'hwm_kib') / 1024:.1f} | {stat(t, c, 'idle_kib') / 1024:.1f} | "
              f"{stat(t, c, 'bytes_per_reply'):.0f} | {errors} | {rps / stat('peer', c, 'rps'):.2f}x | "
              f"{p99 / stat('peer', c, 'p99_us'):.2f}x |")

cold = rows("cold.tsv")
cold_ms = {t: med(r["ms"] for r in cold if r["target"] == t and r["run"] != "0") for t in ("peer", "ours")}
turns = rows("turns.tsv")
turn_rate = med(r["turns_per_s"] for r in turns)
turn_p50 = med(r["p50_us"] for r in turns)
turn_p99 = med(r["p99_us"] for r in turns)
turn_hwm = med(r["hwm_kib"] for r in turns)
turns_ok = all(r["verified"] == "yes" for r in turns) and len(turns) > 0
store_cold = rows("store-cold.tsv")
sc = {s: med(r["ms"] for r in store_cold if r["store"] == s) for s in ("store-empty", "store-full")}
store_turns = rows("store-turns.tsv")
st = {s: med(r["p50_us"] for r in store_turns if r["store"] == s) for s in ("store-empty", "store-full")}
st_ok = all(r["verified"] == "yes" for r in store_turns) and len(store_turns) > 0
fill = dict(kv.split("=", 1) for kv in open(f"{out}/fill.txt").read().split()[1:])
errors_total = sum(int(r["non2xx"] or 0) + int(r["sockerr"] or 0) for r in wrk if r["target"] != "peer")
loads = [float(r["load"]) for r in wrk]

print()
print(f"cold start (launch -> first 200), median of {len([r for r in cold if r['target'] == 'peer'])}: "
      f"peer {cold_ms['peer']:.1f} ms, mailguide {cold_ms['ours']:.1f} ms")
print(f"conversation turns (click -> next step committed with fsync -> delivered), {turns[0]['line'].split('conversations=')[1].split()[0] if turns else '?'} agents: "
      f"median {turn_rate:,.0f} turns/s, p50 {turn_p50 / 1000:.2f} ms, p99 {turn_p99 / 1000:.2f} ms, "
      f"peak RSS {turn_hwm / 1024:.1f} MiB; "
      f"every run verified against the store: {'yes' if turns_ok else 'NO'}")
print(f"store of {int(fill['conversations']):,} conversations ({int(fill['turns']):,} turns): "
      f"{int(fill['file_bytes']) / 2**20:.1f} MiB, {float(fill['bytes_per_conversation']):.0f} bytes per conversation "
      f"(session row alone {float(fill['avg_session_bytes']):.0f} bytes); start-up {sc['store-full']:.1f} ms vs "
      f"{sc['store-empty']:.1f} ms empty; per-turn p50 {st['store-full'] / 1000:.2f} ms vs {st['store-empty'] / 1000:.2f} ms empty")
print(f"load average (1 min) at the start of the wrk runs: {min(loads):.2f} to {max(loads):.2f}")
try:
    restarts = open(f"{out}/restarts.txt").read().split("\n")
    restarts = [r for r in restarts if r]
except FileNotFoundError:
    restarts = []
if restarts:
    print(f"servers that died during the run and were restarted (target conns round): {'; '.join(restarts)}")

goals = []


def goal(name, value, target, ok):
    goals.append((name, value, target, ok))


r16 = stat("ours", 16, "rps") / stat("peer", 16, "rps")
goal("throughput at 16 connections vs the peer", f"{r16:.2f}x", ">= 3x", r16 >= 3)
for c in (16, 64):
    if by[("ours", c)]:
        p = stat("ours", c, "p99_us") / stat("peer", c, "p99_us")
        goal(f"p99 at {c} connections vs the peer", f"{p:.3f}x ({stat('ours', c, 'p99_us') / 1000:.2f} vs "
             f"{stat('peer', c, 'p99_us') / 1000:.2f} ms)", "<= 0.25x", p <= 0.25)
peak = {t: max(stat(t, c, "hwm_kib") for c in conns if c >= 16) for t in ("peer", "ours")}
goal("peak RSS under load vs the peer", f"{peak['ours'] / peak['peer']:.3f}x ({peak['ours'] / 1024:.1f} vs "
     f"{peak['peer'] / 1024:.1f} MiB)", "<= 0.1x", peak["ours"] / peak["peer"] <= 0.1)
goal("cold start vs the peer", f"{cold_ms['ours'] / cold_ms['peer']:.3f}x ({cold_ms['ours']:.1f} vs {cold_ms['peer']:.1f} ms)",
     "<= 0.1x", cold_ms["ours"] / cold_ms["peer"] <= 0.1)
for c in conns:
    f = stat("ours", c, "rps") / stat("floor", c, "rps")
    goal(f"full path vs the floor at {c} connection{'s' if c > 1 else ''}", f"{f:.1%}", ">= 85%" if c == 16 else "(info)",
         f >= 0.85 if c == 16 else None)
tls = stat("ours-tls", 16, "rps") / stat("peer", 16, "rps")
goal("TLS keep-alive at 16 vs the peer's plain HTTP", f"{tls:.2f}x", ">= 2x", tls >= 2)
tr = turn_rate / stat("ours", 16, "rps")
goal("turn rate vs our slash-command rate (16)", f"{tr:.3f}x ({turn_rate:,.0f} vs {stat('ours', 16, 'rps'):,.0f}/s)",
     ">= 0.25x", tr >= 0.25)
goal("no turn lost (store's turn log vs clicks answered)", "yes" if turns_ok and st_ok else "NO", "yes", turns_ok and st_ok)
s1 = sc["store-full"] / sc["store-empty"]
goal(f"start-up with {int(fill['conversations']):,} conversations vs empty", f"{s1:.2f}x", "<= 1.10x", s1 <= 1.10)
s2 = st["store-full"] / st["store-empty"]
goal(f"per-turn latency (p50) with {int(fill['conversations']):,} conversations vs empty", f"{s2:.2f}x", "<= 1.10x", s2 <= 1.10)
bpc = float(fill["bytes_per_conversation"])
goal("bytes per stored conversation (file / conversations)", f"{bpc:.0f}", "<= 2048", bpc <= 2048)
goal("errors (non-2xx, socket) from mailguide and the floor", str(errors_total), "0", errors_total == 0)

print()
print("| goal | measured | target | result |")
print("|---|---|---|---|")
for name, value, target, ok in goals:
    print(f"| {name} | {value} | {target} | {'' if ok is None else 'PASS' if ok else 'FAIL'} |")
failed = [g for g in goals if g[3] is False]
print()
print("ALL GOALS PASS" if not failed else f"{len(failed)} goal(s) FAIL: " + "; ".join(g[0] for g in failed))
