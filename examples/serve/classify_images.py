"""Classifies images over HTTP with `kiln serve`'s TF-Serving-style `:classify`: each file is sent
as a base64 instance (TF Serving's {"b64": ...}); the server decodes and preprocesses it as its
preprocess.json says. Standard library only.

Usage: python classify_images.py http://127.0.0.1:8501/v1/models/fashion IMAGE...
"""
import base64
import json
import sys
import urllib.request
from pathlib import Path


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    url, paths = sys.argv[1].rstrip("/"), [Path(path) for path in sys.argv[2:]]
    body = {"instances": [{"b64": base64.b64encode(path.read_bytes()).decode()} for path in paths], "top_k": 2}
    request = urllib.request.Request(url + ":classify", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        results = json.loads(response.read())["results"]
    for path, ranked in zip(paths, results):
        best = ", ".join(f"{label} {score:.3f}" for label, score in ranked)
        print(f"{path.parent.name}/{path.name}: {best}")


if __name__ == "__main__":
    main()
