"""Load generators side by side: `kiln load` against wrk and Locust (FastHttpUser), same loopback
nginx target, same connections, one generator thread each. What counts is requests per
generator CPU-second (user + system time of the generator process, from getrusage), since the
target and the generator share the machine. Also: how closely `kiln load --rate R` holds R.

Usage: benchmarks/run load [--rounds 3] [--seconds 5] [--connections 10] [--no-save]
"""
import argparse
import datetime
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import recording

ROOT = Path(__file__).resolve().parent.parent
KILN = str(ROOT / ".build" / "release" / "kiln")
VENV_BIN = Path(sys.executable).parent
PORT = 18480
URL = f"http://127.0.0.1:{PORT}/"

NGINX_CONF = """worker_processes 1;
daemon on;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port};
    location / {{ return 200 "hello from nginx\\n"; }}
  }}
}}
"""

LOCUSTFILE = """from locust import FastHttpUser, constant, task


class Client(FastHttpUser):
    wait_time = constant(0)

    @task
    def index(self):
        self.client.get("/")
"""


def start_nginx(folder):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        sys.exit("nginx is needed: apt-get install -y nginx-light wrk")
    (folder / "nginx.conf").write_text(NGINX_CONF.format(folder=folder, port=PORT))
    subprocess.run([nginx, "-c", str(folder / "nginx.conf"), "-p", str(folder)], check=True)
    time.sleep(0.5)
    return lambda: subprocess.run([nginx, "-c", str(folder / "nginx.conf"), "-p", str(folder), "-s", "stop"])


def measured(command):
    """Runs a generator; returns its stdout and the CPU seconds it (and its children) used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return completed.stdout, cpu, wall


def run_wrk(args, folder):
    out, cpu, wall = measured(["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", URL])
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"requests": requests, "cpu_s": cpu, "wall_s": wall}


def run_kiln(args, folder):
    report = folder / "kiln.json"
    _, cpu, wall = measured([KILN, "load", URL, "--users", str(args.connections), "--threads", "1",
                             "--duration", f"{args.seconds}s", "--quiet", "--json", str(report)])
    data = json.loads(report.read_text())
    return {"requests": data["requests"], "cpu_s": cpu, "wall_s": wall, "errors": data["errors"]}


def run_locust(args, folder):
    locustfile = folder / "locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    prefix = folder / "locust"
    _, cpu, wall = measured([str(VENV_BIN / "locust"), "-f", str(locustfile), "--headless", "-u", str(args.connections),
                             "-r", str(args.connections * 100), "-t", f"{args.seconds}s", "--host", URL.rstrip("/"),
                             "--csv", str(prefix), "--only-summary", "--loglevel", "ERROR"])
    rows = (folder / "locust_stats.csv").read_text().splitlines()
    header = rows[0].split(",")
    total = next(row.split(",") for row in rows[1:] if ",Aggregated," in row)
    requests = int(total[header.index("Request Count")])
    return {"requests": requests, "cpu_s": cpu, "wall_s": wall}


def rate_holding(args, folder, rates):
    """`kiln load --rate R`: the achieved rate against R, and the p99 (corrected)."""
    rows = []
    for rate in rates:
        report = folder / f"rate-{rate}.json"
        _, cpu, _ = measured([KILN, "load", URL, "--rate", str(rate), "--connections", str(args.connections),
                              "--duration", f"{args.seconds}s", "--quiet", "--json", str(report)])
        data = json.loads(report.read_text())
        rows.append({"target": rate, "achieved": data["rate"], "held": data["rate_held"],
                     "p99_ms": data["latency_ms"]["p99"], "uncorrected_p99_ms": data["uncorrected_latency_ms"]["p99"],
                     "cpu_s": cpu, "cpu_per_request_us": cpu / max(data["requests"], 1) * 1e6})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--rates", default="1000,5000,10000,20000,40000")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y nginx-light wrk")
    folder = Path(tempfile.mkdtemp(prefix="kiln-load-bench-"))
    stop = start_nginx(folder)
    engines = {"kiln": run_kiln, "wrk": run_wrk, "locust": run_locust}
    samples = {name: [] for name in engines}
    try:
        for round_index in range(args.rounds):
            order = list(engines) if round_index % 2 == 0 else list(reversed(engines))
            for name in order:
                sample = engines[name](args, folder)
                sample["per_cpu_s"] = sample["requests"] / sample["cpu_s"]
                samples[name].append(sample)
            print(f"[load] round {round_index + 1}/{args.rounds}: " + ", ".join(
                f"{name} {samples[name][-1]['per_cpu_s']:.0f}/CPU-s" for name in engines), file=sys.stderr)
        holding = rate_holding(args, folder, [int(rate) for rate in args.rates.split(",")])
    finally:
        stop()

    summary = {}
    for name, runs in samples.items():
        per_cpu = [run["per_cpu_s"] for run in runs]
        per_wall = [run["requests"] / run["wall_s"] for run in runs]
        summary[name] = {"median_per_cpu_s": statistics.median(per_cpu), "best_per_cpu_s": max(per_cpu),
                         "median_rate": statistics.median(per_wall)}
    kiln = summary["kiln"]
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    commit = recording.commit()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown")
    lines = [f"## `benchmarks/run load` — {date}, commit {commit}", "",
             f"{cpu}, {os.cpu_count()} cores. Target: nginx (Debian, 1 worker, `return 200`) on loopback; "
             f"each generator: 1 thread, {args.connections} connections, {args.seconds} s, as fast as it can "
             f"(`kiln load --users {args.connections}`, `wrk -t1 -c{args.connections}`, Locust FastHttpUser with no wait). "
             f"{args.rounds} interleaved rounds; CPU = user + system seconds of the generator process. "
             "Ratios > 1: Kiln does more per CPU-second.", "",
             "| generator | requests per CPU-s, median | best | requests/s, median | Kiln ÷ it (median) | Kiln ÷ it (best) |",
             "|---|---|---|---|---|---|"]
    for name, values in summary.items():
        ratio = "–" if name == "kiln" else f"{kiln['median_per_cpu_s'] / values['median_per_cpu_s']:.2f}×"
        best = "–" if name == "kiln" else f"{kiln['best_per_cpu_s'] / values['best_per_cpu_s']:.2f}×"
        lines.append(f"| {name} | {values['median_per_cpu_s']:,.0f} | {values['best_per_cpu_s']:,.0f} | "
                     f"{values['median_rate']:,.0f} | {ratio} | {best} |")
    lines += ["", "Open loop: `kiln load --rate R` against the same target "
              f"({args.connections} connections, {args.seconds} s).", "",
              "| target rate/s | achieved/s | held (±1%) | p99 ms (corrected) | p99 ms (uncorrected) | generator CPU µs per request |",
              "|---|---|---|---|---|---|"]
    for row in holding:
        lines.append(f"| {row['target']:,} | {row['achieved']:,.1f} | {'yes' if row['held'] else 'no'} | "
                     f"{row['p99_ms']:.3f} | {row['uncorrected_p99_ms']:.3f} | {row['cpu_per_request_us']:.1f} |")
    report = "\n".join(lines) + "\n"
    print(report)
    if not args.no_save:
        recording.save(f"load-{date[:10]}", report, {"date": date, "commit": commit, "cpu": cpu, "args": vars(args),
                                                    "samples": samples, "summary": summary, "rate_holding": holding})


if __name__ == "__main__":
    main()
