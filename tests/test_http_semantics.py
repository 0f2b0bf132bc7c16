"""What every client may rely on, whatever the endpoint: conditional GETs, the media types a
body may have, and an OpenAPI document a client can be generated from."""

from __future__ import annotations

from datetime import timedelta

from tests.timing import recent_daytime


def test_a_client_rereading_an_unchanged_visit_gets_304_with_its_etag(
    client, admin_headers, make_dealership, make_account, make_visit
):
    at = recent_daytime()
    visit = make_visit(make_account(make_dealership()), at - timedelta(hours=1), at + timedelta(hours=1))
    first = client.get(f"/api/v1/visits/{visit.id}", headers=admin_headers)
    etag = first.headers["ETag"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(f"/api/v1/visits/{visit.id}", headers={**admin_headers, "If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.headers["ETag"] == etag and again.data == b""
    other = client.get(f"/api/v1/visits/{visit.id}", headers={**admin_headers, "If-None-Match": '"other"'})
    assert other.status_code == 200 and other.json["id"] == visit.id


def test_a_json_body_sent_as_text_is_415_and_changes_nothing(client, admin_headers):
    body = '{"code": "L900", "name": "Lot 900"}'
    response = client.post("/api/v1/dealerships", data=body, headers={**admin_headers, "Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "unsupported_media_type" and "application/json" in response.json["detail"]
    assert client.get("/api/v1/dealerships", headers=admin_headers).json == []
    vendor = client.post(
        "/api/v1/auth/token", data='{"email": "x@example.com"}', headers={"Content-Type": "application/vnd.api+json"}
    )
    assert vendor.status_code == 422  # a +json body is read as JSON


def test_every_operation_in_the_document_is_ready_for_a_generated_client(client):
    spec = client.get("/openapi.json").json
    assert spec["servers"] and spec["components"]["responses"]["DEFAULT_ERROR"]["content"].keys() == {
        "application/problem+json"
    }
    ids = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            ids.append(operation["operationId"])
            assert "security" in operation, (method, path)
            responses = operation["responses"]
            if "201" in responses:
                assert "Location" in responses["201"]["headers"], (method, path)
            if "401" in responses:
                assert "WWW-Authenticate" in responses["401"]["headers"], (method, path)
    assert len(ids) == len(set(ids))
    assert spec["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    assert spec["paths"]["/api/v1/auth/token"]["post"]["operationId"] == "auth_issue_token"
    assert spec["paths"]["/api/v1/visits/{visit_id}"]["get"]["operationId"] == "visits_get_visit_by_id"
    outcome = spec["components"]["schemas"]["Outcome"]
    assert {"payment_method", "promise_date", "notes", "latitude", "longitude"} <= set(outcome["required"])
    assert all(outcome["properties"][name]["nullable"] for name in ("payment_method", "notes", "latitude"))
    assert outcome["properties"]["amount_collected"]["type"] == "string"
    assert outcome["properties"]["amount_collected"]["format"] == "decimal"
    assert "password" not in spec["components"]["schemas"]["User"]["properties"]
    assert "password" in spec["components"]["schemas"]["UserCreate"]["required"]
    schedule = spec["paths"]["/api/v1/schedules/{date}"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= schedule.keys()
    assert spec["paths"]["/api/v1/visits/{visit_id}/outcome"]["post"]["operationId"] == "visits_record_outcome"
    schemas = spec["components"]["schemas"]
    for figures in ("CollectionSummary", "VisitFigures", "PromiseFigures", "AgingBucket", "RepFigures"):
        assert set(schemas[figures]["required"]) == set(schemas[figures]["properties"]), figures
    changes = schemas["Sync"]["properties"]
    assert changes["lot_issues"]["items"] == {"$ref": "#/components/schemas/LotIssue"}
    assert changes["follow_ups"]["items"] == {"$ref": "#/components/schemas/FollowUp"}
