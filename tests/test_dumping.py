"""The compiled dumps (field_ops.core.dumping) in the corners the API's own schemas do not reach
yet; the API's responses themselves are checked against marshmallow over the whole suite."""

from __future__ import annotations

from datetime import date, datetime

from marshmallow import fields

from field_ops.core.schemas import StrictSchema


class Inner(StrictSchema):
    a = fields.Integer()
    secret = fields.String()


class Outer(StrictSchema):
    day = fields.Date()
    inner = fields.Nested(Inner(), only=("a",))


def test_a_date_field_given_a_datetime_writes_only_the_date():
    assert Outer().dump({"day": datetime(2024, 1, 2, 3, 4)})["day"] == "2024-01-02"
    assert Outer().dump({"day": date(2024, 1, 2)})["day"] == "2024-01-02"


def test_a_nested_instance_narrowed_with_only_keeps_out_the_other_fields_after_it_dumped_alone():
    already_used = Inner()
    assert already_used.dump({"a": 1, "secret": "x"}) == {"a": 1, "secret": "x"}

    class Narrowed(StrictSchema):
        inner = fields.Nested(already_used, only=("a",))

    assert Narrowed().dump({"inner": {"a": 1, "secret": "x"}}) == {"inner": {"a": 1}}
