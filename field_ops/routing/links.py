"""Google Maps directions links for a route, split in legs where the waypoint limit asks."""

from __future__ import annotations

from urllib.parse import urlencode

Point = tuple[float, float]


def _coords(point: Point) -> str:
    return f"{point[0]:.6f},{point[1]:.6f}"


def directions_links(points: list[Point], waypoint_limit: int) -> list[str]:
    """Links covering `points` in order (lot, stops..., lot); each leg ends where the next starts."""
    if len(points) < 2:
        return []
    links = []
    start = 0
    while start < len(points) - 1:
        end = min(start + waypoint_limit + 1, len(points) - 1)
        params = {
            "api": "1",
            "origin": _coords(points[start]),
            "destination": _coords(points[end]),
            "travelmode": "driving",
        }
        waypoints = points[start + 1 : end]
        if waypoints:
            params["waypoints"] = "|".join(_coords(p) for p in waypoints)
        links.append("https://www.google.com/maps/dir/?" + urlencode(params, safe=",|"))
        start = end
    return links
