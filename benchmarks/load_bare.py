"""The yardstick of `benchmarks.load`: a bare Flask app answering every path and method with
one constant JSON body, served under the same gunicorn settings as the service."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)
BODY = b'{"ok": true}'


@app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
@app.route("/<path:path>", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
def constant(path: str):
    return app.response_class(BODY, status=200, mimetype="application/json")
