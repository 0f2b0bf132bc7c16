"""Requests that really overlap: threads released together, each with its own test client."""

from __future__ import annotations

import threading


def at_once(app, n, request):
    """Run `request(client, i)` in n threads released together; returns the responses."""
    barrier = threading.Barrier(n)
    answers: list = [None] * n

    def run(i):
        client = app.test_client()
        barrier.wait()
        answers[i] = request(client, i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(answer is not None for answer in answers)
    return answers
