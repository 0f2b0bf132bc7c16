"""JSON responses encoded by orjson: Flask's output (sorted keys, compact, dates through Flask's
`default`) at a fraction of the cost, which counts on the large reads (a route, a sync page).
Non-ASCII text is sent as UTF-8 rather than as \\u escapes; both are the same JSON."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE


class OrjsonProvider(DefaultJSONProvider):
    def response(self, *args: Any, **kwargs: Any) -> Response:
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)  # indented, for a person reading
        body = self._prepare_response_obj(args, kwargs)
        options = _OPTIONS | orjson.OPT_SORT_KEYS if self.sort_keys else _OPTIONS
        try:
            encoded = orjson.dumps(body, default=self.default, option=options)
        except TypeError:  # orjson.JSONEncodeError is one
            # What orjson refuses and the standard library writes: integers beyond 64 bits, lone
            # surrogates, float subclasses (a batch item may echo back any such value it was sent).
            return super().response(*args, **kwargs)
        return self._app.response_class(encoded, mimetype=self.mimetype)
