"""Coordinates and time zone for an address, with no network needed.

Order of trust: coordinates given by the caller; a street-level geocoder through geopy when
one is configured (`GEOCODER`, `GEOCODER_URL`); otherwise, or when it fails, the ZIP code's
centroid from the `zipcodes` package. The zone comes from the caller, from `timezonefinder`
for given or geocoded coordinates, or from the ZIP record. `geocode_source` says which, so a
rep and the route planner know how far to trust the pin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import zipcodes
from flask import current_app
from geopy.distance import great_circle
from geopy.exc import GeopyError
from geopy.geocoders import get_geocoder_for_service
from timezonefinder import TimezoneFinder

from field_ops.core.errors import field_error
from field_ops.geocoding.models import Located

log = logging.getLogger(__name__)

GIVEN = "given"
GEOCODER = "geocoder"
POSTAL_CODE_CENTROID = "postal_code_centroid"
CHECK_IN = "check_in"  # learned where a rep stood at the door (see accounts.service.learn_pin_from_check_in)


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    timezone: str
    geocode_source: str


@lru_cache(maxsize=1)
def _timezone_finder() -> TimezoneFinder:
    return TimezoneFinder()


@lru_cache(maxsize=1)
def _iana_zones() -> frozenset[str]:
    return frozenset(available_timezones())


MAX_KM_FROM_ZIP = 150


def is_iana_zone(name: str) -> bool:
    """An Area/Location zone such as America/Chicago (not "localtime", "Factory" or Etc/ offsets)."""
    if "/" not in name or name.startswith(("Etc/", "posix/", "right/")) or name not in _iana_zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone_for_coordinates(latitude: float, longitude: float) -> str | None:
    return _timezone_finder().timezone_at(lat=latitude, lng=longitude)


def _zip_record(postal_code: str) -> dict[str, Any] | None:
    try:
        matches = zipcodes.matching(postal_code[:5])
    except (TypeError, ValueError):
        return None
    return matches[0] if matches else None


def _geocode(address: dict[str, Any]) -> tuple[float, float] | None:
    """Street-level coordinates from the configured geopy backend, or None when off or failing."""
    config = current_app.config
    service = config.get("GEOCODER")
    if not service:
        return None
    query = ", ".join(
        part
        for part in (address.get("line1"), address.get("city"), address.get("state"), address.get("postal_code"))
        if part
    )
    try:
        options: dict[str, Any] = {"timeout": config["GEOCODER_TIMEOUT_SECONDS"]}
        if config.get("GEOCODER_URL"):
            parts = urlsplit(config["GEOCODER_URL"])
            options.update(domain=parts.netloc + parts.path.rstrip("/"), scheme=parts.scheme or "https")
        if service == "nominatim":
            options["user_agent"] = config["GEOCODER_USER_AGENT"]
        geocoder = get_geocoder_for_service(service)(**options)
        found = geocoder.geocode(query, exactly_one=True)
    except (GeopyError, OSError, ValueError, TypeError) as exc:
        log.warning("geocoder %s failed for %r: %s; using the ZIP centroid", service, query, exc)
        return None
    if found is None:
        return None
    return float(found.latitude), float(found.longitude)


def resolve_location(
    address: dict[str, Any],
    *,
    latitude: float | None = None,
    longitude: float | None = None,
    timezone: str | None = None,
    field_prefix: str = "address",
) -> Location:
    """Check the address against its ZIP code and derive what was not given.

    Raises ValidationFailed naming the field: an unknown ZIP, a state that does not match
    the ZIP, half a coordinate pair, or a zone that is not an IANA name.
    """
    record = _zip_record(address["postal_code"])
    if record is None:
        raise field_error(f"{field_prefix}.postal_code", f"Unknown US ZIP code {address['postal_code']}.")
    if record["state"] != address["state"]:
        raise field_error(
            f"{field_prefix}.state",
            f"ZIP code {address['postal_code']} is in {record['state']}, not {address['state']}.",
        )
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        raise field_error(missing, "Give both latitude and longitude, or neither.")
    if timezone is not None and not is_iana_zone(timezone):
        raise field_error("timezone", f"{timezone!r} is not an IANA time zone name (such as America/Chicago).")

    if latitude is not None and longitude is not None:
        km_from_zip = great_circle((latitude, longitude), (float(record["lat"]), float(record["long"]))).km
        if km_from_zip > MAX_KM_FROM_ZIP:
            raise field_error(
                "latitude",
                f"The point is {km_from_zip:.0f} km from ZIP code {address['postal_code']}: check the coordinates "
                "(a flipped sign?) or the address.",
            )
        source = GIVEN
    else:
        geocoded = _geocode(address)
        if geocoded is not None:
            (latitude, longitude), source = geocoded, GEOCODER
        else:
            latitude, longitude = float(record["lat"]), float(record["long"])
            source = POSTAL_CODE_CENTROID
    if timezone is None:
        timezone = record["timezone"] if source == POSTAL_CODE_CENTROID else None
        timezone = timezone or zone_for_coordinates(latitude, longitude) or record["timezone"]
    return Location(latitude=latitude, longitude=longitude, timezone=timezone, geocode_source=source)


LOCATION_FIELDS = frozenset({"address", "latitude", "longitude", "timezone"})


def locate(record: Located, values: dict[str, Any]) -> None:
    """Set a new record's address, pin and zone from `values` (deriving what is not given)."""
    location = resolve_location(
        values["address"], latitude=values.get("latitude"), longitude=values.get("longitude"),
        timezone=values.get("timezone"),
    )  # fmt: skip
    record.set_address(values["address"])
    _apply(record, location)


def relocate(record: Located, changes: dict[str, Any]) -> None:
    """Apply a PATCH's address, coordinates or zone; a new address without coordinates is geocoded again."""
    if not LOCATION_FIELDS & changes.keys():
        return
    address = changes.get("address", record.address)
    moved = "address" in changes and "latitude" not in changes
    location = resolve_location(
        address,
        latitude=None if moved else changes.get("latitude", record.latitude),
        longitude=None if moved else changes.get("longitude", record.longitude),
        timezone=changes.get("timezone"),
    )
    record.set_address(address)
    _apply(record, location)


def _apply(record: Located, location: Location) -> None:
    record.latitude, record.longitude = location.latitude, location.longitude
    record.timezone, record.geocode_source = location.timezone, location.geocode_source
