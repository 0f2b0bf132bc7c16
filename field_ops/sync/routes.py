from __future__ import annotations

from field_ops.core.api import Blueprint, requires_login
from field_ops.core.db import get_session
from field_ops.sync import capture, entities, service  # noqa: F401 - the registrations
from field_ops.sync.schemas import SyncQuerySchema, SyncSchema
from field_ops.users.current import current_user

blp = Blueprint("sync", __name__, url_prefix="/api/v1", description="Offline sync for the phone")
capture.install()


@blp.route("/sync")
@requires_login(blp, errors=(422,))
@blp.arguments(SyncQuerySchema, location="query")
@blp.response(200, SyncSchema)
def sync(query):
    """What changed in the caller's scope since the cursor, at most `limit` items a page

    Each changed entity comes in its current state (a cancelled visit with its status);
    `removed` lists what left the caller's scope. With `has_more`, ask again with the new
    cursor. A malformed, altered or someone else's cursor is 422 `invalid_cursor`.
    """
    page = service.sync_changes(get_session(), current_user(), since=query.get("since"), limit=query["limit"])
    return {"cursor": page.cursor, "has_more": page.has_more, **page.items, "removed": page.removed}
