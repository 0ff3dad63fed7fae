"""The API's edges are as strict as its OpenAPI document says, on every operation with a body: a JSON body is an
object, unknown fields are refused, the Idempotency-Key header has the documented form, and every status an
operation can return is documented."""

import pytest

from tests.api.test_account_api import assert_error_shape, bearer


@pytest.fixture(scope="module")
def openapi():
    from intaglio.api.api import api

    return api.get_openapi_schema()


def _json_operations(openapi):
    """(method, concrete path) of every operation that takes a JSON body, its path parameters filled in."""
    found = []
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if "application/json" not in operation.get("requestBody", {}).get("content", {}):
                continue
            concrete = path
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    # A path value the schema accepts, so the body is what is judged (ids need not exist: the body is
                    # read before the operation looks anything up).
                    value = parameter["schema"].get("enum", [1])[0]
                    concrete = concrete.replace("{" + parameter["name"] + "}", str(value))
            found.append((method.upper(), concrete))
    return found


def _resolve(openapi, schema):
    while "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_operation_with_a_body_is_found(openapi):
    operations = _json_operations(openapi)
    assert len(operations) >= 20
    assert ("PATCH", "/api/v1/engrave/presets/1") in operations
    assert ("POST", "/api/v1/assets/1/signed-url") in operations


@pytest.mark.parametrize("body", ["[1, 2]", "5", "null", '"text"', "true"])
def test_a_body_that_is_not_a_json_object_is_a_422_on_every_operation(client, token, openapi, body):
    for method, path in _json_operations(openapi):
        response = client.generic(method, path, body, content_type="application/json", **bearer(token))
        assert response.status_code == 422, (method, path, response.content)
        assert_error_shape(response, 422, "validation_error")
        assert response.json()["error"]["details"][0]["loc"] == ["body"], (method, path)
        assert "JSON object" in response.json()["error"]["details"][0]["msg"]


def test_without_credentials_a_non_object_body_is_still_a_401(client, openapi):
    for method, path in _json_operations(openapi):
        response = client.generic(method, path, "[1, 2]", content_type="application/json")
        assert_error_shape(response, 401, "not_authenticated")


def test_malformed_json_stays_a_400(client, token):
    response = client.post("/api/v1/tokens", "{", content_type="application/json", **bearer(token))
    assert_error_shape(response, 400, "bad_request")


def test_an_unknown_field_is_refused_on_every_operation(client, token, openapi):
    for method, path in _json_operations(openapi):
        response = client.generic(
            method, path, '{"no_such_field": 1}', content_type="application/json", **bearer(token)
        )
        assert response.status_code == 422, (method, path, response.content)
        details = response.json()["error"]["details"]
        assert any(d["type"] == "extra_forbidden" and d["loc"][-1] == "no_such_field" for d in details), (path, details)


def test_every_input_schema_forbids_unknown_fields(openapi):
    """Every object a request body can hold, nested ones too, says additionalProperties: false."""
    seen, pending = set(), []
    for item in openapi["paths"].values():
        for operation in item.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                pending.append(content["schema"])
    objects = 0
    while pending:
        schema = pending.pop()
        if "$ref" in schema:
            if schema["$ref"] in seen:
                continue
            seen.add(schema["$ref"])
        schema = _resolve(openapi, schema)
        if schema.get("type") == "object" and "properties" in schema:
            objects += 1
            assert schema.get("additionalProperties") is False, schema.get("title", schema)
            pending.extend(schema["properties"].values())
        for key in ("anyOf", "oneOf", "allOf"):
            pending.extend(schema.get(key, []))
        if isinstance(schema.get("items"), dict):
            pending.append(schema["items"])
        if isinstance(schema.get("additionalProperties"), dict):
            pending.append(schema["additionalProperties"])
    assert objects >= 20


def test_optional_bodies_and_parameters_are_documented_as_omittable_not_nullable(openapi):
    signed = openapi["paths"]["/api/v1/assets/{asset_id}/signed-url"]["post"]["requestBody"]
    assert signed["required"] is False
    assert signed["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/SignedUrlIn"}
    for item in openapi["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                assert {"type": "null"} not in parameter["schema"].get("anyOf", []), parameter["name"]


def test_the_idempotency_key_is_documented_and_enforced_alike(client, token, openapi):
    keyed = [
        (method.upper(), path)
        for path, item in openapi["paths"].items()
        for method, operation in item.items()
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    ]
    assert len(keyed) >= 4
    for method, path in keyed:
        operation = openapi["paths"][path][method.lower()]
        header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
        assert header["in"] == "header" and header["required"] is False
        assert header["schema"]["type"] == "string"
        assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 100)
        assert header["schema"]["pattern"] == "^[!-~]+$"

    path = "/api/v1/jobs"
    body = '{"kind": "engrave.prepare"}'
    for bad in ("x" * 101, "has space", ""):
        response = client.post(path, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=bad, **bearer(token))
        assert_error_shape(response, 422, "validation_error")
        assert ["header", "Idempotency-Key"] in [d["loc"] for d in response.json()["error"]["details"]], bad


def test_every_operation_with_a_body_documents_413(openapi):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                assert "413" in operation["responses"], (method, path)


def test_a_json_body_over_the_limit_is_a_413(client, token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"name": "' + "x" * 2048 + '"}'
    response = client.post("/api/v1/tokens", body, content_type="application/json", **bearer(token))
    assert_error_shape(response, 413, "too_large")


def test_an_unknown_form_part_is_refused_on_every_upload_operation(client, token, openapi):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import jpeg_bytes

    # The operations on an object of yours (a card's readings, a version's burn reports) look it up first and read
    # their parts the same way (uploads._request_files); these two need no object.
    multipart = [
        (method.upper(), path)
        for path, item in openapi["paths"].items()
        for method, operation in item.items()
        if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}) and "{" not in path
    ]
    assert sorted(multipart) == [("POST", "/api/v1/jewellery/pieces"), ("POST", "/api/v1/uploads")]
    photo = jpeg_bytes(64, 48)
    for method, path in multipart:
        data = {"files": [SimpleUploadedFile("a.jpg", photo, content_type="image/jpeg")], "no_such_part": "1"}
        response = client.post(path, data, **bearer(token))
        assert_error_shape(response, 422, "validation_error")
        assert response.json()["error"]["details"][0]["loc"] == ["body", "no_such_part"], (method, path)


def test_a_number_without_a_fraction_is_an_integer_as_json_schema_says(client, token, uploaded_asset_id):
    path = f"/api/v1/assets/{uploaded_asset_id}/signed-url"
    ok = client.post(path, '{"seconds": 348.0}', content_type="application/json", **bearer(token))
    assert ok.status_code == 200, ok.content
    for refused in ('{"seconds": 348.5}', '{"seconds": "348"}', '{"seconds": true}'):
        response = client.post(path, refused, content_type="application/json", **bearer(token))
        assert_error_shape(response, 422, "validation_error")


@pytest.fixture
def uploaded_asset_id(client, token):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import jpeg_bytes

    photo = SimpleUploadedFile("a.jpg", jpeg_bytes(64, 48), content_type="image/jpeg")
    response = client.post("/api/v1/uploads", {"files": [photo]}, **bearer(token))
    assert response.status_code == 201, response.content
    return response.json()["jobs"][0]["inputs"][0]["id"]


def test_the_rate_limit_is_documented_with_its_headers_and_the_429_carries_them(client, token, settings):
    from intaglio.api.api import api

    settings.API_RATE = "3/m"
    openapi = api.get_openapi_schema()
    for item in openapi["paths"].values():
        for operation in item.values():
            documented = operation["responses"]["429"]
            assert "at most 3 per 60 s" in documented["description"]
            assert set(documented["headers"]) == {
                "Retry-After",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            }
    for _ in range(3):
        assert client.get("/api/v1/me", **bearer(token)).status_code == 200
    refused = client.get("/api/v1/me", **bearer(token))
    assert_error_shape(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) >= 1
    assert (refused["X-RateLimit-Limit"], refused["X-RateLimit-Remaining"]) == ("3", "0")
    assert int(refused["X-RateLimit-Reset"]) > 0
