#!/usr/bin/env python3
"""A webhook receiver for fiberleakd's tests: appends every POSTed body to
FILE as one line (its newlines as spaces), answers 204, and stops after
LIFETIME seconds (never outliving the test).
Usage: webhook_sink.py PORT FILE LIFETIME
"""
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

port, path, lifetime = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])


class Sink(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(path, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(204)
        self.end_headers()


server = HTTPServer(("127.0.0.1", port), Sink)
threading.Timer(lifetime, server.shutdown).start()
server.serve_forever()
