"""The committed OpenAPI document is the one the code generates, and its pages are served
to staff without any CDN."""

from __future__ import annotations

import difflib
import io
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

from tests.api.conftest import authorized

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi" / "api-v1.yaml"
REGENERATE = ".venv/bin/python manage.py spectacular --file docs/openapi/api-v1.yaml --validate"


def generated_document(tmp_path: Path) -> str:
    target = tmp_path / "api-v1.yaml"
    call_command("spectacular", file=str(target), validate=True, stdout=io.StringIO())
    return target.read_text()


def test_the_committed_document_matches_the_code(tmp_path):
    committed = DOCUMENT.read_text()
    generated = generated_document(tmp_path)
    if committed != generated:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                generated.splitlines(keepends=True),
                "docs/openapi/api-v1.yaml (committed)",
                "generated from the code",
                n=2,
            )
        )
        pytest.fail(
            "The API changed but docs/openapi/api-v1.yaml did not. If the change is meant, "
            f"regenerate it with\n    {REGENERATE}\nreview the diff and commit it.\n\n"
            + diff[:6000]
        )


def test_every_operation_is_authenticated_and_answers_problems():
    document = yaml.safe_load(DOCUMENT.read_text())
    assert document["openapi"].startswith("3.")
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    assert operations and all(path.startswith("/api/v1/") for path, _, _ in operations)
    for path, method, operation in operations:
        assert operation["security"] == [{"apiKey": []}], (path, method)
        for code in ("401", "403", "404", "429"):
            [media_type] = operation["responses"][code]["content"]
            assert media_type == "application/problem+json", (path, method, code)
        names = {p["name"] for p in operation.get("parameters", [])}
        assert ("Idempotency-Key" in names) == (method == "post"), (path, method)


@pytest.mark.django_db
def test_the_schema_is_served_to_keys_and_staff_only(api_key):
    assert Client().get("/api/schema/").status_code == 401
    response = authorized(api_key).get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/v1/persons/" in response.json()["paths"]


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_documentation_pages_need_staff_and_load_nothing_from_elsewhere(page):
    anonymous = Client().get(page)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    staff = get_user_model().objects.create_user("staff", password="pw", is_staff=True)
    browser = Client()
    browser.force_login(staff)
    response = browser.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    asset = html.split('src="', 1)[1].split('"', 1)[0]
    assert asset.startswith(settings.STATIC_URL) or asset.startswith("/" + settings.STATIC_URL)
    assert finders.find(asset.split(settings.STATIC_URL, 1)[1]) is not None
    assert browser.get("/api/schema/").status_code == 200
