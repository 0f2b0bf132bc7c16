"""The users of `benchmarks.load`: reps working their day and office staff running the lots.

Read by locust, not imported by the service. The data set (tokens, stops, accounts) comes from
the JSON file named by LOAD_USERS_FILE; LOAD_SCENARIO is `route` (every user a rep reading
`GET /me/route`) or `day` (reps and office staff on their whole day); LOAD_MAX_REQUESTS bounds
the run; LOAD_OFFSET picks which reps and accounts this run uses, so runs never share them;
LOAD_CLIENT is `fast` (locust's FastHttpUser, geventhttpclient) or `requests` (HttpUser).
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from locust import FastHttpUser, HttpUser, constant, events, task

DATA = json.loads(Path(os.environ["LOAD_USERS_FILE"]).read_text(encoding="utf-8"))
SCENARIO = os.environ.get("LOAD_SCENARIO", "day")
MAX_REQUESTS = int(os.environ.get("LOAD_MAX_REQUESTS", "0"))
OFFSET = int(os.environ.get("LOAD_OFFSET", "0"))
_rep_numbers = itertools.count(OFFSET)
_office_numbers = itertools.count(OFFSET)
_seen = itertools.count(1)
# FastHttpUser costs the load generator about half the CPU per request of HttpUser's requests
# session, and on a small machine the generator shares the cores with the service it measures.
ClientUser = FastHttpUser if os.environ.get("LOAD_CLIENT", "fast") == "fast" else HttpUser


@events.request.add_listener
def _bound(**_kwargs):
    if MAX_REQUESTS and next(_seen) >= MAX_REQUESTS:
        runner = _bound.environment.runner
        if runner is not None:
            runner.quit()


@events.init.add_listener
def _remember(environment, **_kwargs):
    _bound.environment = environment


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Rep(ClientUser):
    """A rep: reads the route, checks in at the next stop, records its outcome, syncs."""

    weight = 3
    wait_time = constant(0)

    def on_start(self):
        reps = DATA["reps"]
        rep = reps[next(_rep_numbers) % len(reps)]
        self.headers = {"Authorization": f"Bearer {rep['token']}"}
        self.stops = list(rep["stops"])
        self.cursor = None

    @task(4)
    def my_route(self):
        self.client.get("/api/v1/me/route", headers=self.headers, name="GET /me/route")

    @task(2 if SCENARIO == "day" else 0)
    def sync(self):
        params = {"since": self.cursor} if self.cursor else {}
        with self.client.get(
            "/api/v1/sync", params=params, headers=self.headers, name="GET /sync", catch_response=True
        ) as response:
            if response.status_code == 200:
                with suppress(ValueError):  # the bare app answers a constant
                    self.cursor = response.json().get("cursor") or self.cursor

    @task(1 if SCENARIO == "day" else 0)
    def next_stop(self):
        if not self.stops:
            return self.my_route()
        stop = self.stops.pop(0)
        self.client.post(
            f"/api/v1/visits/{stop['visit_id']}/check-in",
            json={
                "latitude": stop["latitude"],
                "longitude": stop["longitude"],
                "accuracy_m": 8.0,
                "recorded_at": _now(),
            },
            headers=self.headers,
            name="POST /visits/{id}/check-in",
        )
        self.client.post(
            f"/api/v1/visits/{stop['visit_id']}/outcome",
            json={"outcome": "not_home", "notes": "Nobody answered.", "recorded_at": _now()},
            headers={**self.headers, "Idempotency-Key": str(uuid.uuid4())},
            name="POST /visits/{id}/outcome",
        )


class Office(ClientUser):
    """A specialist: books visits, plans a lot, exports a schedule, reads the lot-issue ranking."""

    weight = 1 if SCENARIO == "day" else 0
    wait_time = constant(0)

    def on_start(self):
        number = next(_office_numbers)
        office = DATA["office"][number % len(DATA["office"])]
        self.headers = {"Authorization": f"Bearer {office['token']}"}
        lots = DATA["lots"]
        self.lot = lots[number % len(lots)]
        self.accounts = list(self.lot["bookable"][(number // len(lots)) :: 4])

    @task(4)
    def book_visit(self):
        if not self.accounts:
            return self.lot_issue_summary()
        account_id = self.accounts.pop(0)
        self.client.post(
            "/api/v1/visits",
            json={
                "account_id": account_id,
                "window_start": DATA["tomorrow_window"][0],
                "window_end": DATA["tomorrow_window"][1],
                "reason": "Two payments behind",
            },
            headers=self.headers,
            name="POST /visits",
        )

    @task(2)
    def schedule_export(self):
        self.client.get(
            f"/api/v1/schedules/{DATA['day']}.csv",
            params={"dealership_id": self.lot["id"]},
            headers=self.headers,
            name="GET /schedules/{date}.csv",
        )

    @task(2)
    def lot_issue_summary(self):
        self.client.get("/api/v1/lot-issues/summary", headers=self.headers, name="GET /lot-issues/summary")

    @task(1)
    def plan_lot(self):
        with self.client.post(
            f"/api/v1/dealerships/{self.lot['id']}/route-plans",
            json={"date": DATA["tomorrow"]},
            headers=self.headers,
            name="POST /dealerships/{id}/route-plans",
            catch_response=True,
        ) as response:
            # Another office user booking into the same lot-day meanwhile makes the plan stale:
            # the service's documented answer, not a failure.
            if response.status_code == 409:
                response.success()
