import json

from field_ops.core.db import get_session
from field_ops.users.models import User


def new_user_body(**overrides):
    body = {"email": "New.Rep@Example.com", "name": "New Rep", "role": "rep", "password": "s3cret-enough"}
    body.update(overrides)
    return body


def count_users(app) -> int:
    with app.app_context():
        return get_session().query(User).count()


def test_admin_creates_a_user_with_location_and_no_password_in_the_answer(client, admin_headers, make_dealership):
    lot = make_dealership()
    response = client.post("/api/v1/users", json=new_user_body(dealership_ids=[lot.id]), headers=admin_headers)
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"].endswith(f"/api/v1/users/{body['id']}")
    assert body["email"] == "new.rep@example.com"
    assert body["dealership_ids"] == [lot.id]
    assert body["active"] is True
    assert "password" not in body and "password_hash" not in body
    assert body["created_at"].endswith("+00:00")
    # The new user can sign in with the password given.
    token = client.post("/api/v1/auth/token", json={"email": "new.rep@example.com", "password": "s3cret-enough"})
    assert token.status_code == 200


def test_creating_a_user_is_audited(client, admin_headers):
    created = client.post("/api/v1/users", json=new_user_body(), headers=admin_headers).json
    trail = client.get(f"/api/v1/audit?entity_type=user&entity_id={created['id']}", headers=admin_headers).json
    assert [entry["action"] for entry in trail] == ["user.created"]
    assert trail[0]["changes"]["role"] == [None, "rep"]
    assert "password" not in json.dumps(trail)


def test_a_taken_email_is_409_and_nothing_is_written(client, app, admin_headers, make_user):
    make_user(email="taken@example.com")
    before = count_users(app)
    response = client.post("/api/v1/users", json=new_user_body(email="TAKEN@example.com"), headers=admin_headers)
    assert response.status_code == 409
    assert response.json["code"] == "email_taken"
    assert count_users(app) == before


def test_bad_user_bodies_are_422_naming_each_field_and_write_nothing(client, app, admin_headers):
    before = count_users(app)
    cases = [
        (new_user_body(nickname="x"), "nickname"),
        (new_user_body(role="boss"), "role"),
        (new_user_body(dealership_ids=[999]), "dealership_ids"),
        (new_user_body(dealership_ids="1"), "dealership_ids"),
        (new_user_body(password="short"), "password"),
        ({"email": "a@b.co"}, "name"),
        (new_user_body(email="not-an-email"), "email"),
        (new_user_body(active="maybe"), "active"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/users", json=body, headers=admin_headers)
        assert response.status_code == 422, (body, response.json)
        assert response.content_type == "application/problem+json"
        assert response.json["code"] == "validation_error"
        assert field in response.json["errors"], (field, response.json)
    assert count_users(app) == before


def test_only_admins_manage_users(client, make_user, login):
    for role in ("specialist", "manager", "rep"):
        headers = login(make_user(role))
        assert client.get("/api/v1/users", headers=headers).status_code == 403
        assert client.post("/api/v1/users", json=new_user_body(), headers=headers).status_code == 403


def test_user_list_is_paginated_with_the_x_pagination_header(client, admin_headers, make_user):
    for _ in range(24):
        make_user("rep")
    first = client.get("/api/v1/users", headers=admin_headers)
    assert first.status_code == 200
    assert len(first.json) == 20
    pagination = json.loads(first.headers["X-Pagination"])
    assert pagination["total"] == 25
    assert pagination["total_pages"] == 2
    assert pagination["next_page"] == 2
    second = client.get("/api/v1/users?page=2", headers=admin_headers)
    assert len(second.json) == 5
    assert client.get("/api/v1/users?page_size=100", headers=admin_headers).status_code == 200
    too_big = client.get("/api/v1/users?page_size=101", headers=admin_headers)
    assert too_big.status_code == 422
    assert "page_size" in too_big.json["errors"]


def test_user_list_filters_by_role(client, admin_headers, make_user):
    make_user("rep")
    make_user("manager")
    reps = client.get("/api/v1/users?role=rep", headers=admin_headers).json
    assert {u["role"] for u in reps} == {"rep"}


def test_single_user_has_an_etag_and_answers_304_when_unchanged(client, admin_headers, make_user):
    user = make_user("rep")
    first = client.get(f"/api/v1/users/{user.id}", headers=admin_headers)
    etag = first.headers["ETag"]
    again = client.get(f"/api/v1/users/{user.id}", headers={**admin_headers, "If-None-Match": etag})
    assert again.status_code == 304


def test_patch_needs_a_current_if_match(client, admin_headers, make_user):
    user = make_user("rep")
    url = f"/api/v1/users/{user.id}"
    etag = client.get(url, headers=admin_headers).headers["ETag"]
    missing = client.patch(url, json={"name": "Renamed"}, headers=admin_headers)
    assert missing.status_code == 428
    assert missing.json["code"] == "precondition_required"
    ok = client.patch(url, json={"name": "Renamed"}, headers={**admin_headers, "If-Match": etag})
    assert ok.status_code == 200
    assert ok.json["name"] == "Renamed"
    stale = client.patch(url, json={"name": "Again"}, headers={**admin_headers, "If-Match": etag})
    assert stale.status_code == 412
    assert stale.json["code"] == "precondition_failed"
    assert client.get(url, headers=admin_headers).json["name"] == "Renamed"


def test_patch_changes_role_and_dealerships_and_audits_the_fields(client, admin_headers, make_user, make_dealership):
    lot = make_dealership()
    user = make_user("rep")
    url = f"/api/v1/users/{user.id}"
    etag = client.get(url, headers=admin_headers).headers["ETag"]
    response = client.patch(
        url, json={"role": "manager", "dealership_ids": [lot.id]}, headers={**admin_headers, "If-Match": etag}
    )
    assert response.json["role"] == "manager"
    assert response.json["dealership_ids"] == [lot.id]
    trail = client.get(f"/api/v1/audit?entity_type=user&entity_id={user.id}", headers=admin_headers).json
    assert trail[0]["action"] == "user.updated"
    assert trail[0]["changes"] == {"role": ["rep", "manager"], "dealership_ids": [[], [lot.id]]}


def test_an_unknown_user_is_404(client, admin_headers):
    response = client.get("/api/v1/users/99999", headers=admin_headers)
    assert response.status_code == 404
    assert response.json["code"] == "not_found"


def test_an_admin_renaming_themselves_is_written_and_read_back(client, make_user, login):
    """The request's own user is the record the change is made on: it must be written."""
    admin = make_user("admin", name="Ada Admin")
    headers = login(admin)
    url = f"/api/v1/users/{admin.id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    response = client.patch(url, json={"name": "Ada Lovelace"}, headers={**headers, "If-Match": etag})
    assert response.status_code == 200, response.json
    assert client.get("/api/v1/me", headers=headers).json["name"] == "Ada Lovelace"
    assert client.get(url, headers=headers).headers["ETag"] != etag
