from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def paginate(session: Session, stmt: Select, pagination_parameters: Any) -> list[Any]:
    """One page of `stmt`; sets the total so flask-smorest writes the X-Pagination header."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pagination_parameters.item_count = total
    page = stmt.limit(pagination_parameters.page_size).offset(pagination_parameters.first_item)
    return list(session.scalars(page).unique())
