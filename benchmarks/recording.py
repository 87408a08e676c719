"""What the benchmark scripts share: the commit they measured and where their results go."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def commit():
    """`git describe --always --dirty` of the checkout, or "unknown"."""
    try:
        return subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def save(stem, report, record):
    """Writes benchmarks/results/<stem>.md (the report) and <stem>.json (the record); a later run
    with the same stem (the same suite the same day) gets <stem>-2, <stem>-3, ... instead of
    replacing an earlier record."""
    RESULTS.mkdir(exist_ok=True)
    base, number = stem, 1
    while (RESULTS / f"{stem}.md").exists() or (RESULTS / f"{stem}.json").exists():
        number += 1
        stem = f"{base}-{number}"
    (RESULTS / f"{stem}.md").write_text(report)
    (RESULTS / f"{stem}.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote benchmarks/results/{stem}.md and .json", file=sys.stderr)
