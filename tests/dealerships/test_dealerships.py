def dealership_body(**overrides):
    body = {
        "code": "tul",
        "name": "Green Country Auto - Tulsa",
        "address": {"line1": "5100 S Peoria Ave", "city": "Tulsa", "state": "ok", "postal_code": "74105"},
    }
    body.update(overrides)
    return body


def test_creating_a_dealership_derives_its_location_and_zone(client, admin_headers):
    response = client.post("/api/v1/dealerships", json=dealership_body(), headers=admin_headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["code"] == "TUL"
    assert body["address"]["state"] == "OK"
    assert body["timezone"] == "America/Chicago"
    assert body["geocode_source"] == "postal_code_centroid"
    assert 35.9 < body["latitude"] < 36.2
    assert response.headers["Location"].endswith(f"/api/v1/dealerships/{body['id']}")


def test_a_duplicate_code_is_409(client, admin_headers, make_dealership):
    make_dealership(code="TUL")
    response = client.post("/api/v1/dealerships", json=dealership_body(), headers=admin_headers)
    assert response.status_code == 409
    assert response.json["code"] == "dealership_code_taken"


def test_managers_see_only_their_dealerships(client, make_user, login, make_dealership):
    mine, other = make_dealership(), make_dealership()
    headers = login(make_user("manager", dealerships=[mine]))
    assert [d["id"] for d in client.get("/api/v1/dealerships", headers=headers).json] == [mine.id]
    assert client.get(f"/api/v1/dealerships/{other.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/dealerships/{mine.id}", headers=headers).status_code == 200
    assert client.post("/api/v1/dealerships", json=dealership_body(), headers=headers).status_code == 403


def test_patching_a_dealership_zone_checks_the_name_and_etag(client, admin_headers, make_dealership):
    lot = make_dealership()
    url = f"/api/v1/dealerships/{lot.id}"
    etag = client.get(url, headers=admin_headers).headers["ETag"]
    bad = client.patch(url, json={"timezone": "CST"}, headers={**admin_headers, "If-Match": etag})
    assert bad.status_code == 422
    assert "timezone" in bad.json["errors"]
    ok = client.patch(url, json={"name": "Renamed Lot"}, headers={**admin_headers, "If-Match": etag})
    assert ok.status_code == 200
    assert ok.json["name"] == "Renamed Lot"
