#!/usr/bin/env python3
"""The dashboard in a real browser: Debian's Chromium, headless, driven by
Selenium (chromium-driver). Loads the demo's page and the page of a sidecar
scraping the demo (with a token), and the page of a program with 100k parked
fibers, and checks what they show against the JSON routes. Screenshots go to
OUT_DIR. Chromium resolves no name but 127.0.0.1: the page must need no
network.

Usage: browser_test.py FIBERLEAKD MANY_FIBERS OUT_DIR
"""
import base64
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

FIBERLEAKD, MANY_FIBERS, OUT = sys.argv[1:4]
os.makedirs(OUT, exist_ok=True)
work = tempfile.mkdtemp(prefix="fiberleak-dashboard-")
procs = []
failures = []


started = time.monotonic()


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + f"{time.monotonic() - started:5.1f}s " + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(predicate, timeout, what):
    """Polls predicate until it returns something truthy; that value. Gives
    up at once when a program this test started has exited."""
    deadline = time.monotonic() + timeout
    while True:
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"{p.args[0]} {p.args[1]} exited ({p.returncode}) while waiting for {what}")
        try:
            value = predicate()
            if value:
                return value
        except Exception:  # not up yet
            value = None
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


def http(url, token=None):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=20) as res:
        return res.status, dict(res.headers), res.read()


def get_json(url, token=None):
    return json.loads(http(url, token)[2])


def start(args, name, **kw):
    log = open(os.path.join(work, name + ".log"), "w")
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **kw)
    procs.append(p)
    return p


def browser():
    o = Options()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1800",
              "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def console_errors(d):
    return [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"]


def texts(d, css):
    """The text of every element matching css, in one round trip."""
    return d.execute_script("return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent)", css)


def pause_page(d):
    """Pauses the page and waits for its refresh in flight: its data then stays put."""
    d.find_element(By.ID, "pause").click()
    until(lambda: d.execute_script("return document.body.dataset.busy") == "0", 30, "the page's refresh to end")
    return d.execute_script("return Number(document.body.dataset.refreshedAt)") / 1000.0


def check_leaks_match(d, json_leaks, since_refresh_s, what):
    """The leaked fibers the page shows are those of the JSON fetched just
    after it: the JSON may only have the fibers that leaked meanwhile (the
    demo leaks one reply worker a request, two a second)."""
    page = {int(i) for i in d.execute_script(
        "return [...document.querySelectorAll('#leaks-table tr.leak-row')].map((r) => r.dataset.id)")}
    now = {l["fiber_id"] for l in json_leaks}
    check(page and page <= now, f"{what}: the {len(page)} leaked fibers shown are leaks in the JSON")
    allowed = math.ceil(since_refresh_s / 0.5) + 3
    check(len(now - page) <= allowed, f"{what}: the JSON has at most {allowed} leaks more ({len(now - page)})")


def screenshot(d, name, element_id=None, small=False):
    """The window, scrolled to the top or to element_id; small: the top 1400x1100
    at 0.65 scale (what docs/img holds)."""
    d.execute_script("arguments[0] ? document.getElementById(arguments[0]).scrollIntoView() : window.scrollTo(0, 0)",
                     element_id)
    if not small:
        d.save_screenshot(os.path.join(OUT, name))
        return
    shot = d.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "clip": {"x": 0, "y": 0, "width": 1400, "height": 1100, "scale": 0.65}})
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def table_rows(d):
    return d.find_elements(By.CSS_SELECTOR, "#fibers-table tbody tr")


def column(d, key):
    heads = [e.get_attribute("data-key") for e in d.find_elements(By.CSS_SELECTOR, "#fibers-table thead th")]
    i = heads.index(key) + 1
    return texts(d, f"#fibers-table tbody tr td:nth-child({i})")


def endpoint_page(d, base, token=None, prefix="", what="demo page"):
    """The checks shared by the endpoint's page and the sidecar's per-target view."""
    until(lambda: len(d.find_elements(By.CSS_SELECTOR, "#leaks-table tr.leak-row")) and len(table_rows(d)), 30,
          f"{what}: leaks and fibers shown")
    until(lambda: d.find_elements(By.CSS_SELECTOR, "#chart-live svg path"), 10, "charts drawn")
    refreshed = pause_page(d)
    fibers = get_json(base + "fibers", token)["fibers"]
    leaks = get_json(base + "leaks", token)["leaks"]
    check_leaks_match(d, leaks, time.time() - refreshed, what)

    # Long-lived named fibers: the same id, name and state as in the JSON.
    by_name = {}
    for f in fibers:
        by_name.setdefault(f["name"], []).append(f)
    shown = {int(r[0]): r[1:] for r in d.execute_script(
        "return [...document.querySelectorAll('#fibers-table tbody tr')]"
        ".map((r) => [r.dataset.id, ...[...r.cells].map((c) => c.textContent)])")}
    # (the acceptor wakes at every connection: its state may differ a moment later)
    for name in ("order-consumer", "ledger-writer", "cache-warmer", "acceptor"):
        want = by_name.get(name, [])
        check(len(want) == 1 and want[0]["id"] in shown and shown[want[0]["id"]][1] == name
              and (name == "acceptor" or shown[want[0]["id"]][2] == want[0]["state"]),
              f"{what}: {name} shown as in the JSON")

    # The flame graph has the demo's frames: every leak site's function.
    flame = set(d.execute_script(
        "return [...document.querySelectorAll('#flame-svg g.frame')].map((g) => g.dataset.function)"))
    sites = {l["function"] for l in leaks}
    check(len(sites) >= 5 and sites <= flame, f"{what}: the flame graph has every leak site's function {sorted(sites)}")
    demo_frames = [fn for fn in flame if "fiberleak::demo::" in fn]
    check(any("consume_orders" in fn for fn in demo_frames), f"{what}: the flame graph shows consume_orders")

    # Filtering by name: exactly the JSON's ledger readers.
    d.find_element(By.ID, "filter-name").send_keys("ledger-reader")
    names = column(d, "name")
    check(len(names) == len(by_name.get("ledger-reader", [])) == 3 and set(names) == {"ledger-reader"},
          f"{what}: the name filter keeps the 3 ledger readers")
    d.find_element(By.ID, "filter-name").clear()
    d.execute_script("document.getElementById('filter-name').dispatchEvent(new Event('input'))")

    # Sorting by id, both ways (a number column sorts largest first).
    head = lambda: d.find_element(By.CSS_SELECTOR, "#fibers-table th[data-key=id]")
    head().click()
    ids = [int(x) for x in column(d, "id")]
    check(len(ids) > 5 and ids == sorted(ids, reverse=True), f"{what}: a click on id sorts descending")
    head().click()
    ids = [int(x) for x in column(d, "id")]
    check(ids == sorted(ids), f"{what}: a second click sorts ascending")

    # State filter: exactly the rows of the unfiltered table in that state.
    total = int(d.find_element(By.ID, "fiber-summary").text.split()[2])
    blocked = sorted(i for i, st in zip(ids, column(d, "state")) if st == "blocked")
    Select(d.find_element(By.ID, "filter-state")).select_by_value("blocked")
    kept = sorted(int(x) for x in column(d, "id"))
    check(total <= 200 and kept == blocked and set(column(d, "state")) == {"blocked"},
          f"{what}: the state filter keeps exactly the {len(blocked)} blocked of {total}")
    Select(d.find_element(By.ID, "filter-state")).select_by_value("")

    # A click on a flame frame filters the table by it.
    d.execute_script("[...document.querySelectorAll('#flame-svg g.frame')].find((g) => "
                     "g.dataset.function.includes('consume_orders')).dispatchEvent(new MouseEvent('click'))")
    names = column(d, "name")
    check(names == ["order-consumer"], f"{what}: clicking consume_orders in the flame graph lists its fiber ({names})")

    # The fiber's detail: both stacks with file:line, labels, parent.
    table_rows(d)[0].click()
    detail = until(lambda: d.find_element(By.ID, "detail").text, 5, "detail shown")
    check("parked at" in detail and "created at" in detail and "demo_service.cpp:" in detail
          and "parent" in detail and "labels" in detail and "heap held" in detail,
          f"{what}: the fiber's detail shows stacks with file:line, labels, parent, heap")
    d.find_element(By.ID, "filter-frame").clear()
    d.execute_script("document.getElementById('filter-frame').dispatchEvent(new Event('input'))")

    # Grouped by site: the counts add up to the fibers listed.
    d.find_element(By.ID, "group-toggle").click()
    counts = [int(x) for x in texts(d, "#fibers-table tbody tr.group td:first-child")]
    check(counts and sum(counts) == total, f"{what}: grouped counts add up to the {total} fibers ({sum(counts)})")
    d.find_element(By.ID, "group-toggle").click()
    table_rows(d)[0].click()


def main():
    demo_port = free_port()
    start([FIBERLEAKD, "demo", "--listen", f"127.0.0.1:{demo_port}", "--threshold", "2s"], "demo")
    demo = f"http://127.0.0.1:{demo_port}"
    until(lambda: {"order-consumer", "cache-warmer", "ledger-writer"} <=
          {l["name"] for l in get_json(demo + "/debug/leaks")["leaks"]}, 30, "the demo's leaks")

    token = "s3cret-token"
    side_port = free_port()
    config = os.path.join(work, "sidecar.json")
    with open(config, "w") as f:
        json.dump({"listen": f"127.0.0.1:{side_port}", "token": token, "defaults": {"interval": "1s", "timeout": "1s"},
                   "rules": {"threshold": "2s", "ignore_names": ["demo-main", "scheduler-main"]},
                   "targets": [{"name": "demo", "url": demo},
                               {"name": "down", "url": f"http://127.0.0.1:{free_port()}"}]}, f)
    start([FIBERLEAKD, "scrape", "--config", config], "sidecar")
    side = f"http://127.0.0.1:{side_port}"
    until(lambda: get_json(side + "/api/targets", token)["targets"][0]["up"], 30, "the sidecar's first scrape")

    # The hardening holds: data needs the token, the page's files do not,
    # and carry the Content-Security-Policy.
    try:
        http(side + "/api/targets")
        check(False, "the sidecar's JSON without the token is refused")
    except urllib.error.HTTPError as e:
        check(e.code == 401, "the sidecar's JSON without the token is refused (401)")
    for url in (demo + "/debug/fiberleak/", demo + "/debug/fiberleak/components.js", side + "/", side + "/target"):
        status, headers, _ = http(url)
        check(status == 200 and "script-src 'self'" in headers.get("Content-Security-Policy", ""),
              f"{url} served with a Content-Security-Policy")

    d = browser()
    try:
        # --- the endpoint's page, reached from / ---------------------------
        d.get(demo + "/")
        check(d.current_url == demo + "/debug/fiberleak/", "the demo's / leads to /debug/fiberleak/")
        until(lambda: d.find_elements(By.CSS_SELECTOR, "#heap-flame-svg g.frame"), 30, "the heap flame graph")
        check(True, "demo page: the heap flame graph is drawn (heap profiler linked)")
        endpoint_page(d, demo + "/debug/")
        screenshot(d, "endpoint.png")
        screenshot(d, "dashboard-endpoint-small.png", small=True)
        screenshot(d, "endpoint-fibers.png", "fibers-section")
        errors = console_errors(d)
        check(not errors, f"demo page: no console errors {errors}")

        # --- the sidecar's page, with the token in the fragment ---------------
        d.get(side + "/#token=" + token)
        until(lambda: d.find_elements(By.CSS_SELECTOR, "#targets-table tr[data-target=demo] .badge.up"), 30,
              "the demo target up")
        until(lambda: d.find_elements(By.CSS_SELECTOR, "#targets-table tr[data-target=down] .badge.down"), 30,
              "the down target in error")
        check("#token" not in d.current_url, "sidecar page: the token is taken out of the address")
        until(lambda: d.find_elements(By.CSS_SELECTOR, "#findings-table tr.leak-row"), 30, "findings shown")
        d.find_element(By.ID, "pause").click()
        until(lambda: d.find_element(By.ID, "pause").text == "resume", 5, "paused")
        shown = {(t, int(i)) for t, i in d.execute_script(
            "return [...document.querySelectorAll('#findings-table tr.leak-row')]"
            ".map((r) => [r.dataset.target, r.dataset.id])")}
        listed = {(f["target"], f["fiber_id"]) for f in get_json(side + "/api/findings", token)["findings"]}
        check(shown and shown <= listed, f"sidecar page: the {len(shown)} findings shown are in /api/findings")
        cycles = set(texts(d, "#findings-table tr.leak-row td:first-child"))
        check(cycles and cycles <= {"new", "ongoing", "resolved"}, f"sidecar page: life cycles shown {cycles}")
        screenshot(d, "sidecar.png")
        screenshot(d, "dashboard-sidecar-small.png", small=True)
        errors = console_errors(d)
        check(not errors, f"sidecar page: no console errors {errors}")

        # --- the per-target view: the endpoint's page over the sidecar's data --
        d.find_element(By.CSS_SELECTOR, "#targets-table tr[data-target=demo] a").click()
        until(lambda: "/target?name=demo" in d.current_url, 10, "the target view")
        endpoint_page(d, side + "/api/targets/demo/", token, what="sidecar's view of demo")
        screenshot(d, "sidecar-target.png")
        errors = console_errors(d)
        check(not errors, f"sidecar's target view: no console errors {errors}")

        # --- 100k fibers --------------------------------------------------
        many = start([MANY_FIBERS, "100000"], "many", stdin=subprocess.PIPE)
        log = os.path.join(work, "many.log")
        url = until(lambda: [l.split()[-1] for l in open(log) if l.startswith("listening on")][0], 60, "100k fibers")
        begin = time.monotonic()
        d.get(url + "/debug/fiberleak/")
        until(lambda: "100" in d.find_element(By.ID, "fiber-summary").text and table_rows(d), 150, "100k fibers shown")
        loaded = time.monotonic() - begin
        total = int(d.find_element(By.ID, "fiber-summary").text.split()[2])
        check(total >= 100000, f"100k: the page lists {total} fibers, loaded in {loaded:.1f}s")
        check(len(table_rows(d)) <= 200, "100k: at most one page of rows in the DOM")
        begin = time.monotonic()
        d.find_element(By.ID, "group-toggle").click()
        counts = [int(x) for x in texts(d, "#fibers-table tbody tr.group td:first-child")]
        grouped = time.monotonic() - begin
        check(sorted(counts, reverse=True)[:5] == [20000] * 5, f"100k: five groups of 20000 ({counts[:6]})")
        check(grouped < 5, f"100k: the grouped view renders in {grouped:.2f}s (bound 5s)")
        cycle = texts(d, "svg.cycle text")
        caption = " ".join(texts(d, ".cycle-figure figcaption"))
        check(len(cycle) == 2 and "transfer-in" in caption and "transfer-out" in caption,
              f"100k: the deadlock is drawn as a cycle of 2 ({caption})")
        screenshot(d, "many.png")
        screenshot(d, "many-grouped.png", "fibers-section")
        errors = console_errors(d)
        check(not errors, f"100k page: no console errors {errors}")
        many.stdin.close()
    finally:
        d.quit()


try:
    main()
except Exception as e:  # a wait that timed out, a missing element
    check(False, f"{type(e).__name__}: {e}")
finally:
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    if failures:
        for name in ("demo", "sidecar", "many"):
            path = os.path.join(work, name + ".log")
            if os.path.exists(path):
                print(f"--- {name}.log (tail)")
                print("".join(open(path).readlines()[-20:]))
print(f"{len(failures)} failed; screenshots in {OUT}")
sys.exit(1 if failures else 0)
