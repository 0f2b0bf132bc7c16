from __future__ import annotations

from datetime import date

from flask import Response, current_app, request, url_for

from field_ops.core.api import Blueprint, answers_also, answers_file, documents_errors, requires_login
from field_ops.core.db import get_session, writes_on_read
from field_ops.core.errors import field_error
from field_ops.dealerships.service import get_dealership
from field_ops.schedules import calendar, export, importing, service
from field_ops.schedules.errors import FileTooLarge
from field_ops.schedules.schemas import (
    CalendarTokenSchema,
    ImportFileSchema,
    ImportQuerySchema,
    ImportResultSchema,
    PublishQuerySchema,
    ScheduleFileQuerySchema,
    ScheduleQuerySchema,
    ScheduleSchema,
)
from field_ops.users.current import current_user
from field_ops.users.models import Role

blp = Blueprint("schedules", __name__, url_prefix="/api/v1", description="The shared daily schedule and calendar feed")

CSV, XLSX = "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _schedule_body(schedule: service.Schedule) -> dict:
    lots = []
    for lot in schedule.dealerships:
        publication = schedule.publications.get(lot.id)
        lots.append(
            {
                "dealership_id": lot.id,
                "version": publication.version if publication else 0,
                "published_at": publication.published_at if publication else None,
                "changed_since_publish": service.changed_since_publish(schedule, lot.id),
            }
        )
    single = lots[0] if schedule.dealership_id is not None else None
    return {
        "date": schedule.date,
        "dealership_id": schedule.dealership_id,
        "published_at": single["published_at"] if single else None,
        "version": single["version"] if single else None,
        "changed_since_publish": single["changed_since_publish"] if single else None,
        "lots": lots,
        "rows": schedule.rows,
    }


def _attachment(content: bytes, mimetype: str, name: str) -> Response:
    # content_type, not mimetype: Werkzeug would add "; charset=utf-8" to a text type a second time.
    response = Response(content, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@blp.route("/schedules/<date>")
@requires_login(blp, errors=(404, 422))
@blp.arguments(ScheduleQuerySchema, location="query")
@blp.response(200, ScheduleSchema)
@answers_also(blp, 200, CSV, XLSX, vary_accept=True)
def get_schedule(query, date: str):
    """The day's schedule: one row per visit, sorted by rep, stop and window (also CSV and Excel)

    JSON by default; CSV with `Accept: text/csv` or `?format=csv`; an Excel workbook with
    `?format=xlsx`.
    """
    wanted = query.get("format") or (
        "csv" if request.accept_mimetypes.best_match(["application/json", CSV]) == CSV else "json"
    )
    if wanted != "json":
        response = _schedule_file(date, query.get("dealership_id"), wanted)
        response.headers["Vary"] = "Accept"
        return response
    day = _parse_day(date)
    schedule = service.build_schedule(get_session(), current_user(), day, query.get("dealership_id"))
    return _schedule_body(schedule), 200, {"Vary": "Accept"}


def _schedule_file(date: str, dealership_id: int | None, wanted: str) -> Response:
    day = _parse_day(date)
    schedule = service.build_schedule(get_session(), current_user(), day, dealership_id)
    codes = [lot.code for lot in schedule.dealerships]
    if wanted == "csv":
        return _attachment(export.to_csv(schedule.rows), "text/csv; charset=utf-8", export.file_name(codes, day, "csv"))
    versions = [p.version if (p := schedule.publications.get(lot.id)) else 0 for lot in schedule.dealerships]
    title = export.title_for(codes, day, versions)
    return _attachment(export.to_xlsx(schedule.rows, title), XLSX, export.file_name(codes, day, "xlsx"))


@blp.route("/schedules/<date>.csv")
@requires_login(blp, errors=(404, 422))
@blp.arguments(ScheduleFileQuerySchema, location="query")
@answers_file(blp, CSV, "The schedule as CSV (UTF-8, one row per visit)")
def get_schedule_csv(query, date: str):
    """The day's schedule as a CSV file (the same as `Accept: text/csv` on the schedule)"""
    return _schedule_file(date, query.get("dealership_id"), "csv")


@blp.route("/schedules/<date>.xlsx")
@requires_login(blp, errors=(404, 422))
@blp.arguments(ScheduleFileQuerySchema, location="query")
@answers_file(blp, XLSX, "The schedule as an Excel workbook: an All sheet and one per rep")
def get_schedule_xlsx(query, date: str):
    """The day's schedule as an Excel workbook (the same as `?format=xlsx` on the schedule)"""
    return _schedule_file(date, query.get("dealership_id"), "xlsx")


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise field_error("date", f"{text!r} is not a date (YYYY-MM-DD).") from exc


@blp.route("/schedules/<date>/publish", methods=["POST"])
@requires_login(blp, Role.ADMIN, Role.SPECIALIST, errors=(404, 409, 422))
@blp.arguments(PublishQuerySchema, location="query")
@blp.response(200, ScheduleSchema)
def publish(query, date):
    """Publish a lot's schedule of a day: bumps `version`, sets `published_at`"""
    schedule = service.publish_schedule(
        get_session(), actor=current_user(), day=_parse_day(date), dealership_id=query["dealership_id"]
    )
    return _schedule_body(schedule)


@blp.route("/schedules/import", methods=["POST"])
@requires_login(blp, Role.ADMIN, Role.SPECIALIST, errors=(404, 413, 422))
@blp.arguments(ImportQuerySchema, location="query")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(200, ImportResultSchema)
def import_schedule(query, files):
    """Import the old spreadsheet (CSV or XLSX); each row is booked by the `POST /visits` rules

    Nothing is written on `dry_run=true`, or when any row fails unless `partial=true`; a failing
    import without `partial` answers 422 with the same `rows`. A sheet without a Date column takes
    `date`; a file over `IMPORT_MAX_BYTES` or `IMPORT_MAX_ROWS` rows answers 413.
    """
    upload = files["file"]
    content = upload.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
    if len(content) > current_app.config["IMPORT_MAX_BYTES"]:
        raise FileTooLarge(f"The file is over {current_app.config['IMPORT_MAX_BYTES'] // 1024} KiB: split it.")
    session = get_session()
    dealership = get_dealership(session, current_user(), query["dealership_id"])
    result = importing.import_schedule(
        session,
        actor=current_user(),
        dealership=dealership,
        content=content,
        filename=upload.filename or "",
        dry_run=query["dry_run"],
        partial=query["partial"],
        default_date=query.get("date"),
        max_rows=current_app.config["IMPORT_MAX_ROWS"],
    )
    return result.as_dict()


@blp.route("/me/calendar-token", methods=["GET", "POST"])
@writes_on_read
@requires_login(blp, Role.REP)
@blp.response(200, CalendarTokenSchema)
def calendar_token():
    """Your calendar feed's token and URL (GET); POST rotates it and the old URL stops at once"""
    session = get_session()
    user = current_user()
    token = (
        calendar.rotate_calendar_token(session, user)
        if request.method == "POST"
        else calendar.get_calendar_token(session, user)
    )
    return {"token": token, "url": url_for("schedules.calendar_feed", token=token, _external=True)}


@blp.route("/calendar/<token>.ics")
@documents_errors(blp, 404)
@blp.doc(
    parameters=["IF_NONE_MATCH"],
    responses={
        "200": {
            "description": "An RFC 5545 calendar",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
            "headers": {"ETag": {"$ref": "#/components/headers/ETAG"}},
        },
        "304": "NOT_MODIFIED",
    },
)
def calendar_feed(token):
    """A rep's visits from 7 days back to 14 ahead, for a phone's calendar to subscribe to

    Carries an ETag: a poll with `If-None-Match` gets 304 while nothing changed.
    """
    session = get_session()
    user = calendar.calendar_owner(session, token)
    response = Response(calendar.rep_calendar(session, user), mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.add_etag()
    return response
