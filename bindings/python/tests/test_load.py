"""`kiln load` from the command line, against Python's own HTTP server on loopback: the
acceptance shape (a server that stalls for a second), exports, thresholds and exit codes."""
import csv
import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CLI = os.environ.get("KILN_CLI", str(ROOT / ".build" / "debug" / "kiln-cli"))


class StallingServer(ThreadingHTTPServer):
    """Answers every request at once, except from `stall_at` to `stall_at + 1` s after the first
    request: those are answered when that second ends (and 500 on paths ending in /fail)."""
    daemon_threads = True

    def __init__(self, stall_at=None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.stall_at = stall_at
        self.first = None
        self.count = 0
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        server = self.server
        now = time.monotonic()
        with server.lock:
            server.count += 1
            server.first = server.first or now
        if server.stall_at is not None:
            start = server.first + server.stall_at
            if start <= now < start + 1:
                time.sleep(start + 1 - now)
        # One write: headers and body in separate segments meet Nagle and delayed ACKs (40 ms).
        status = b"500 Internal Server Error" if self.path.endswith("/fail") else b"200 OK"
        self.wfile.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 3\r\n\r\nok\n")

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(**options):
        server = StallingServer(**options)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server, f"http://127.0.0.1:{server.server_address[1]}"
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def load(*arguments):
    return subprocess.run([CLI, "load", *map(str, arguments), "--quiet"], capture_output=True, text=True, timeout=60)


def test_a_one_second_stall_shows_in_the_corrected_p90(serve, tmp_path):
    # 5 s at 200/s with a 1 s stall: 20% of the requests are intended inside it and wait for its
    # end, uniformly 0..1 s, so the corrected p90 is about 500 ms; uncorrected, only the 4
    # requests in flight waited.
    server, url = serve(stall_at=2.0)
    result = load(url + "/", "--rate", 200, "--connections", 4, "--duration", "5s", "--json", tmp_path / "r.json")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["requests"] == 1000 and server.count == 1000
    assert report["errors"] == 0
    assert report["target_rate"] == 200.0
    assert 400 <= report["latency_ms"]["p90"] <= 650, report["latency_ms"]
    assert report["latency_ms"]["max"] >= 900
    assert report["uncorrected_latency_ms"]["p90"] < 50, report["uncorrected_latency_ms"]
    assert set(report["errors_by_kind"]) >= {"connect", "timeout", "status_5xx"}
    assert "uncorrected" in result.stdout and "p99.9 ms" in result.stdout


def test_thresholds_set_the_exit_code_and_exports_agree(serve, tmp_path):
    _, url = serve()
    passing = load(url + "/", "--rate", 100, "--duration", "1s", "--threshold", "p99<500ms", "--threshold", "errors<1%",
                   "--threshold", "rate>=95", "--csv", tmp_path / "r.csv", "--json", tmp_path / "r.json")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "threshold p99<500ms: passed" in passing.stdout
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    report = json.loads((tmp_path / "r.json").read_text())
    assert [row["name"] for row in rows] == ["GET /", "total"]
    assert int(rows[1]["requests"]) == report["requests"] == 100

    failing = load(url + "/fail", "--rate", 100, "--duration", "500ms", "--threshold", "errors<0.1%")
    assert failing.returncode == 1
    assert "threshold errors<0.1%: FAILED (100.000%)" in failing.stdout
    assert "status_5xx 50" in failing.stdout


def test_closed_loop_users(serve, tmp_path):
    _, url = serve()
    result = load(url + "/", "--users", 2, "--duration", "1s", "--think-time", "20ms", "--json", tmp_path / "r.json")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["mode"] == "closed" and report["users"] == 2
    assert 60 <= report["requests"] <= 101  # two users, one request per 20 ms and a little
    assert report["latency_ms"] == report["uncorrected_latency_ms"]


@pytest.mark.parametrize("arguments, message", [
    (["http://127.0.0.1:9/"], "--rate"),
    (["https://127.0.0.1/", "--rate", "10"], "https is not supported"),
    (["http://127.0.0.1:9/", "--rate", "10", "--users", "2"], "exclude each other"),
    (["http://127.0.0.1:9/", "--rate", "10", "--duration", "soon"], "not a duration"),
    (["http://127.0.0.1:9/", "--rate", "10", "--threshold", "p99 fast"], "threshold"),
    (["http://127.0.0.1:9/", "--rate", "10", "--stages", "10s"], "DURATION:TARGET"),
    (["--scenario", "/nonexistent.yaml", "--rate", "1"], "nonexistent.yaml"),
])
def test_usage_errors_exit_2_with_one_line(arguments, message):
    result = load(*arguments)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_scenario_file_with_a_data_file(serve, tmp_path):
    server, url = serve()
    (tmp_path / "rows.csv").write_text("id\n1\n2\n3\n")
    (tmp_path / "scenario.yaml").write_text(f"""
url: {url}
rate: 300
duration: 1s
data: rows.csv
requests:
  - name: item
    path: /items/${{id}}
    weight: 2
  - name: fail
    path: /x/fail
""")
    result = load("--scenario", tmp_path / "scenario.yaml", "--json", tmp_path / "r.json")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["by_name"]["item"]["requests"] == 200
    assert report["by_name"]["fail"]["errors_by_kind"]["status_5xx"] == 100
