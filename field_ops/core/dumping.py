"""Dumping without marshmallow's per-value machinery.

A schema instance compiles once into a plan, one (key, attribute, converter) step per field, built
from the schema's own fields: the JSON and the OpenAPI document still come from one definition.
The common field types convert inline; any other field (and any field with a `dump_default`)
goes through its own `_serialize`, so the output is marshmallow's, value for value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from marshmallow import fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import get_value

Converter = Callable[[Any, str, Any], Any]


def _value(obj: Any, key: str) -> Any:
    """marshmallow's `get_value` for one key, with a shortcut for plain objects and dicts."""
    if type(obj) is dict:
        return obj[key] if key in obj else getattr(obj, key, missing)
    if not hasattr(obj, "__getitem__"):
        return getattr(obj, key, missing)
    return get_value(obj, key)


def _getter(attribute: str) -> Callable[[Any], Any]:
    if "." not in attribute:
        return lambda obj: _value(obj, attribute)
    path = attribute.split(".")

    def get_path(obj: Any) -> Any:
        for key in path:
            obj = _value(obj, key)
        return obj

    return get_path


def _integer(value, attr, obj):
    return value if value is None or type(value) is int else int(value)


def _float(value, attr, obj):
    return value if value is None or type(value) is float else float(value)


def _string(value, attr, obj):
    if value is None or type(value) is str:
        return value
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _converter(field: fields.Field) -> Converter:
    """The fastest exact equivalent of `field._serialize`."""
    kind = type(field)
    if kind is fields.Integer and not field.as_string:
        return _integer
    if kind is fields.Float and not field.as_string:
        return _float
    if kind in (fields.String, fields.Email, fields.Url):
        return _string
    if kind is fields.Raw:
        return lambda value, attr, obj: value
    if kind is fields.Boolean:
        general = field._serialize
        return lambda value, attr, obj: value if value is None or type(value) is bool else general(value, attr, obj)
    if kind is fields.Date and field.format in (None, "iso", "iso8601"):
        return lambda value, attr, obj: None if value is None else dt.date.isoformat(value)
    if issubclass(kind, fields.DateTime) and getattr(kind, "_serialize_in_utc", False) and field.format == "iso":
        # Timestamp: an aware value is emitted in UTC.
        utc = dt.UTC
        general = field._serialize

        def timestamp(value, attr, obj):
            if value is None:
                return None
            if value.tzinfo is None:
                return general(value, attr, obj)
            return (value if value.tzinfo is utc else value.astimezone(utc)).isoformat()

        return timestamp
    if kind is fields.Nested:
        return _nested(field)
    if kind is fields.List:
        inner = _converter(field.inner)
        return lambda value, attr, obj: None if value is None else [inner(each, attr, obj) for each in value]
    return field._serialize


def _nested(field: fields.Nested) -> Converter:
    schema = field.schema
    many = schema.many or field.many
    if schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP] or not isinstance(schema, CompiledDump):
        return field._serialize
    holder: list[Callable[[Any], dict]] = []  # compiled on first use: schemas may nest each other

    def nested(value, attr, obj):
        if value is None:
            return None
        if not holder:
            holder.append(schema.compiled())
        dump_one = holder[0]
        return [dump_one(each) for each in value] if many else dump_one(value)

    return nested


# Converters simple enough to write inline in the generated code (`v` is the value).
_INLINE = {
    _integer: "v if v is None or type(v) is int else int(v)",
    _float: "v if v is None or type(v) is float else float(v)",
    _string: "v if v is None or type(v) is str else {call}",
}


def compile_schema(schema: Any) -> Callable[[Any], dict]:
    """One object -> its dict, as `schema.dump(obj, many=False)` gives it before any post_dump hook.

    Generates a function with one straight block per field for plain objects and for dicts (what
    views return); anything else (rows, mappings) takes the general loop over the same steps.
    """
    namespace: dict[str, Any] = {"MISSING": missing, "accessor": schema.get_attribute}
    steps = []
    for index, (name, field) in enumerate(schema.dump_fields.items()):
        key = field.data_key if field.data_key is not None else name
        attribute = field.attribute or name
        if not field._CHECK_ATTRIBUTE or field.dump_default is not missing:
            steps.append((index, key, name, None, None, field.serialize))
        else:
            steps.append((index, key, name, attribute, _getter(attribute), _converter(field)))
    namespace["general"] = _general_dump(steps, schema.get_attribute)
    blocks = {"obj": [], "dict": []}
    for index, key, name, attribute, get, convert in steps:
        namespace[f"convert{index}"], namespace[f"get{index}"] = convert, get
        call = f"convert{index}(v, {name!r}, obj)"
        for kind, lines in blocks.items():
            if attribute is None:
                lines.append(f"v = convert{index}({name!r}, obj, accessor=accessor)")
                lines.append(f"if v is not MISSING: out[{key!r}] = v")
                continue
            if "." in attribute:
                lines.append(f"v = get{index}(obj)")
            elif kind == "obj":
                lines.append(f"v = getattr(obj, {attribute!r}, MISSING)")
            else:
                lines.append(
                    f"v = obj[{attribute!r}] if {attribute!r} in obj else getattr(obj, {attribute!r}, MISSING)"
                )
            expression = _INLINE.get(convert, "{call}").format(call=call)
            lines.append(f"if v is not MISSING: out[{key!r}] = {expression}")
    indent = "\n        "
    source = (
        "def dump_one(obj):\n"
        "    out = {}\n"
        "    if type(obj) is dict:\n"
        f"        {indent.join(blocks['dict']) or 'pass'}\n"
        "    elif not hasattr(obj, '__getitem__'):\n"
        f"        {indent.join(blocks['obj']) or 'pass'}\n"
        "    else:\n"
        "        return general(obj)\n"
        "    return out\n"
    )
    exec(compile(source, f"<dump {type(schema).__name__}>", "exec"), namespace)  # noqa: S102 - our own fields
    return namespace["dump_one"]


def _general_dump(steps: list, accessor: Callable) -> Callable[[Any], dict]:
    def dump_one(obj: Any) -> dict:
        out = {}
        for _index, key, name, _attribute, get, convert in steps:
            if get is None:
                value = convert(name, obj, accessor=accessor)
            else:
                value = get(obj)
                if value is not missing:
                    value = convert(value, name, obj)
            if value is not missing:
                out[key] = value
        return out

    return dump_one


class CompiledDump:
    """Schema mixin: `dump` runs the compiled plan, then the schema's post_dump hooks as usual."""

    def compiled(self) -> Callable[[Any], dict]:
        # Keyed by the fields it was built from: a copy narrowed with `only` (as Nested makes
        # from a schema instance) gets its own plan.
        compiled_for, dump_one = self.__dict__.get("_compiled_dump", (None, None))
        if compiled_for is not self.dump_fields:
            dump_one = compile_schema(self)
            self.__dict__["_compiled_dump"] = (self.dump_fields, dump_one)
        return dump_one

    def dump(self, obj: Any, *, many: bool | None = None):
        if self._hooks[PRE_DUMP]:
            return super().dump(obj, many=many)
        many = self.many if many is None else bool(many)
        dump_one = self.compiled()
        result = [dump_one(each) for each in obj] if many and obj is not None else dump_one(obj)
        if self._hooks[POST_DUMP]:
            result = self._invoke_dump_processors(POST_DUMP, result, many=many, original_data=obj)
        return result
