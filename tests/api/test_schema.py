"""The OpenAPI schema lists every endpoint of the URL conf; the docs page renders."""

from __future__ import annotations

import re

import yaml
from rest_framework.test import APIClient

from .test_access_matrix import api_endpoints

DOC_ROUTES = {"api/v1/schema/", "api/v1/docs/"}


def openapi_path(route: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def test_schema_lists_every_endpoint(db):
    resp = APIClient().get("/api/v1/schema/")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.oai.openapi")
    schema = yaml.safe_load(resp.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Chat server API"
    served = {(m.lower(), openapi_path(r)) for m, r in api_endpoints() if r not in DOC_ROUTES}
    documented = {(m, p) for p, ops in schema["paths"].items() for m in ops
                  if m in {"get", "post", "put", "patch", "delete"}}
    assert served - documented == set()
    assert documented - served == set()
    # Integer ids are typed as integers.
    params = schema["paths"]["/api/v1/rooms/{room_id}/members/{user_id}"]["delete"]["parameters"]
    assert {(p["name"], p["in"], p["schema"]["type"]) for p in params} == {
        ("room_id", "path", "integer"), ("user_id", "path", "integer")}


def test_schema_documents_both_ways_to_sign_in(db):
    schema = yaml.safe_load(APIClient().get("/api/v1/schema/").content)
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["type"] == "http"
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert (schemes["cookieAuth"]["in"], schemes["cookieAuth"]["name"]) == ("cookie", "sessionid")
    rooms = schema["paths"]["/api/v1/rooms"]["get"]["security"]
    assert rooms == [{"bearerAuth": []}, {"cookieAuth": []}]
    # Login needs no credentials.
    assert schema["paths"]["/api/v1/auth/login"]["post"]["security"] == [{}]


def test_schema_as_json(db):
    resp = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert resp.status_code == 200
    assert "/api/v1/rooms/{room_id}/messages" in resp.json()["paths"]


def test_docs_page(db):
    resp = APIClient().get("/api/v1/docs/")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/html")
    html = resp.content.decode()
    assert "swagger-ui" in html
    assert "/api/v1/schema/" in html
