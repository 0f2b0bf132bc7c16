"""Travel distances and times between points, behind one small interface.

Default: great-circle distance (geopy) times a detour factor at an average speed. With
`OSRM_URL` set, the OSRM table service gives road distances and times; if it fails, the
default is used and the plan says so in `matrix_source`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import requests
from flask import current_app
from geopy.distance import great_circle

log = logging.getLogger(__name__)

GREAT_CIRCLE = "great_circle"
OSRM = "osrm"
OSRM_FALLBACK = "great_circle_fallback"


@dataclass(frozen=True)
class TravelMatrix:
    distances_m: np.ndarray
    durations_s: np.ndarray
    source: str


def great_circle_matrix(points: list[tuple[float, float]], detour_factor: float, speed_kmh: float) -> TravelMatrix:
    n = len(points)
    distances = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(i + 1, n):
            metres = great_circle(points[i], points[j]).meters * detour_factor
            distances[i, j] = distances[j, i] = round(metres)
    durations = np.rint(distances / (speed_kmh * 1000 / 3600)).astype(np.int64)
    return TravelMatrix(distances, durations, GREAT_CIRCLE)


def osrm_matrix(points: list[tuple[float, float]], base_url: str, timeout_s: float) -> TravelMatrix:
    """OSRM's table service; raises on any failure so the caller can fall back."""
    coordinates = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
    response = requests.get(
        f"{base_url.rstrip('/')}/table/v1/driving/{coordinates}",
        params={"annotations": "distance,duration"},
        timeout=timeout_s,
    )
    response.raise_for_status()
    body = response.json()
    if body.get("code") != "Ok":
        raise ValueError(f"OSRM answered {body.get('code')}: {body.get('message')}")
    distances = np.array(body["distances"], dtype=float)
    durations = np.array(body["durations"], dtype=float)
    if distances.shape != (len(points), len(points)) or np.isnan(distances).any():
        raise ValueError("OSRM returned an incomplete table")
    return TravelMatrix(np.rint(distances).astype(np.int64), np.rint(durations).astype(np.int64), OSRM)


def travel_matrix(points: list[tuple[float, float]]) -> TravelMatrix:
    """The matrix for `points` (lat, lon), from OSRM when configured, else great-circle."""
    config = current_app.config
    fallback_source = GREAT_CIRCLE
    if config.get("OSRM_URL"):
        try:
            return osrm_matrix(points, config["OSRM_URL"], config["OSRM_TIMEOUT_SECONDS"])
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            log.warning("OSRM table failed (%s); using great-circle distances", exc)
            fallback_source = OSRM_FALLBACK
    matrix = great_circle_matrix(points, config["ROUTING_DETOUR_FACTOR"], config["ROUTING_SPEED_KMH"])
    return TravelMatrix(matrix.distances_m, matrix.durations_s, fallback_source)
