#!/usr/bin/env python3
"""Checks one output of the leak corpus against what it must say.

Usage: expect.py leaks|api FILE
  leaks: a fiberleak.leaks/v1 document (/debug/leaks, fiberleakd check --json)
  api:   the sidecar's /api/findings ({"findings": [...]}: the open ones of target "corpus")
Prints one "ok:"/"FAILED:" line per claim; exits 1 when any failed.
"""
import json
import sys

# name -> (verdict, names it must wait for (chain), size of its deadlock cycle, words of its reason)
LEAKS = {
    "p1-receiver": ("suspect", [], 0, "past the"),
    "p2-sender": ("suspect", [], 0, "past the"),
    "p3-no-cancel": ("suspect", [], 0, "past the"),
    "p4-holder": ("suspect", [], 0, "past the"),
    "p4-locker": ("suspect", ["p4-holder"], 0, 'for fiber'),
    "p5-forever": ("suspect", [], 0, "past the"),
    "p5-joiner": ("suspect", ["p5-forever"], 0, "waits in join"),
    "p6-teardown": ("suspect", [], 0, "past the"),
    "p7-spawned": ("suspect", [], 0, "past the"),
    "p8-promise": ("suspect", [], 0, "past the"),
    "p9-a": ("definite", ["p9-b"], 2, "deadlock:"),
    "p9-b": ("definite", ["p9-a"], 2, "deadlock:"),
    "p9-x": ("definite", ["p9-z", "p9-y"], 3, "deadlock:"),
    "p9-y": ("definite", ["p9-x", "p9-z"], 3, "deadlock:"),
    "p9-z": ("definite", ["p9-y", "p9-x"], 3, "deadlock:"),
    "p10-cv": ("suspect", [], 0, "re-armed"),
    "p10-trylock": ("suspect", ["p10-tm-holder"], 0, "re-armed"),
    "p10-tm-holder": ("suspect", [], 0, "past the"),
    "p11-waiter": ("definite", [], 0, "owner ended"),
}
HEALTHY = ["ok-ticker", "ok-acceptor", "ok-pool", "ok-compute", "ok-feeder", "p7-source", "p6-parent", ""]

failures = []


def claim(name, ok):
    print(("ok: " if ok else "FAILED: ") + name)
    if not ok:
        failures.append(name)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        doc = json.load(f)
    if mode == "leaks":
        claim("schema fiberleak.leaks/v1", doc.get("schema") == "fiberleak.leaks/v1")
        leaks = doc["leaks"]
        growing = doc.get("growing_sites", [])
        sites = doc.get("sites", [])
    else:
        leaks = [l for l in doc["findings"] if l["target"] == "corpus" and l["lifecycle"] != "resolved"]
        growing, sites = None, None
    by_id = {l["fiber_id"]: l for l in leaks}
    by_name = {}
    for l in leaks:
        by_name.setdefault(l["name"], []).append(l)

    for name, (verdict, chain, cycle, words) in LEAKS.items():
        found = by_name.get(name, [])
        claim(f"{name} is flagged", bool(found))
        if not found:
            continue
        claim(f"{name} is {verdict}", all(l["verdict"] == verdict for l in found))
        l = found[0]
        names = [by_id[i]["name"] if i in by_id else f"#{i}" for i in l.get("chain", [])]
        claim(f"{name} waits for {chain} (chain {names})", names[: len(chain)] == chain)
        claim(f"{name}'s cycle has {cycle} members", len(l.get("cycle", [])) == cycle)
        claim(f"{name}'s reason says '{words}' ({l['reason']})", words in l["reason"])
    for name in HEALTHY:
        claim(f"healthy '{name}' is not flagged", name not in by_name)
    claim("nothing else is flagged", set(by_name) <= set(LEAKS))
    claim("the pile-ups are whole: three p2-senders", len(by_name.get("p2-sender", [])) == 3)
    if growing is not None:
        claim("p7's site is growing", any("await_event_reply" in g["site"] for g in growing))
        claim("no healthy site is growing", all("await_event_reply" in g["site"] for g in growing))
        p2 = [s for s in sites if "send_reply" in s["site"]]
        claim("the p2 senders are one site group of 3", len(p2) == 1 and len(p2[0]["fibers"]) == 3)
        p7 = [s for s in sites if "await_event_reply" in s["site"]]
        claim("the p7 pile-up is one site group, on one primitive (the promise), growing",
              len(p7) == 1 and p7[0]["primitives"] == 1 and p7[0]["growing"])
        definite = [s for s in sites if s["verdict"] == "definite"]
        claim("definite site groups come first", sites[: len(definite)] == definite and len(definite) >= 3)
    sys.exit(1 if failures else 0)


main()
