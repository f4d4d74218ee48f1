#!/usr/bin/env python3
"""Reads `go tool pprof -traces` output on stdin and prints the outermost
frame of each trace (one line each; " (inline)" dropped). With --containing
NAME, only traces with a frame whose name ends with NAME."""
import sys

containing = sys.argv[2] if len(sys.argv) == 3 and sys.argv[1] == "--containing" else None
traces, frames = [], None
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("-----------+"):
        if frames:
            traces.append(frames)
        frames = []
        continue
    if frames is None:
        continue  # the header
    stripped = line.strip()
    if not stripped or (": " in stripped.split("::")[0] and not stripped[0].isdigit()):
        continue  # a label line ("state:  blocked")
    parts = stripped.split(None, 1)
    if parts[0].replace(".", "").replace("kB", "").replace("MB", "").replace("B", "").isdigit() and len(parts) == 2 \
            and not frames:
        stripped = parts[1]  # the value column of the first frame
    frames.append(stripped.removesuffix(" (inline)"))
if frames:
    traces.append(frames)
for t in traces:
    if containing is None or any(f.endswith(containing) for f in t):
        print(t[-1])
