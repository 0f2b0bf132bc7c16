import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import field_ops.models  # noqa: F401
from field_ops.core.db import Base, get_engine

# The schema is read on a connection of its own.
pytestmark = pytest.mark.real_commits


def test_the_migrations_build_exactly_the_schema_the_models_describe(app):
    with app.app_context(), get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
