"""The page view, the health check and the security headers."""

import re
from pathlib import Path

import pytest
from django.test import Client

from canvas.middleware import content_security_policy

CONTRACT_TEST_IDS = [
    "canvas",
    "prediction",
    "confidence",
    "probabilities",
    "model-select",
    "clear",
    "undo",
    "predict",
    "preview",
    "feedback",
    "error",
    "mode-number",
]
STATIC_DIR = Path(__file__).resolve().parents[1] / "static" / "canvas"
TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "canvas" / "index.html"
URL = re.compile(r"""(?:https?:)?//[\w.-]+(?::\d+)?[^\s"'<>)]*""")
XML_NAMESPACES = {"http://www.w3.org/2000/svg"}


@pytest.fixture
def page(client: Client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_page_carries_every_test_id_of_the_contract(page: str) -> None:
    for test_id in CONTRACT_TEST_IDS:
        assert f'data-testid="{test_id}"' in page, test_id


def test_page_is_told_where_the_ml_server_is(settings, client: Client) -> None:
    settings.ML_SERVER_URL = "http://127.0.0.1:9123"
    page = client.get("/").content.decode()
    assert 'data-ml-server-url="http://127.0.0.1:9123"' in page


def test_page_loads_its_script_as_a_module_from_its_own_static_files(page: str) -> None:
    assert re.search(r'<script type="module" src="/static/canvas/app[.\w]*\.js">', page)
    assert "<script>" not in page and "style=" not in page  # nothing inline: the CSP forbids it


def test_page_and_its_files_name_no_address_but_the_ml_server(settings, page: str) -> None:
    sources = {"page": page} | {path.name: path.read_text() for path in STATIC_DIR.iterdir()}
    for name, text in sources.items():
        found = set(URL.findall(text)) - XML_NAMESPACES - {settings.ML_SERVER_URL}
        assert not found, f"{name} names {found}"


def test_stylesheet_imports_nothing_and_loads_no_fonts() -> None:
    css = (STATIC_DIR / "style.css").read_text()
    assert "@import" not in css and "@font-face" not in css and "url(" not in css


def test_content_security_policy_allows_only_the_page_itself_and_the_ml_server(settings) -> None:
    settings.ML_SERVER_URL = "http://127.0.0.1:9123"
    response = Client().get("/")
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self' http://127.0.0.1:9123"
    assert policy["frame-ancestors"] == "'none'"


def test_policy_for_an_ml_server_behind_the_same_origin_allows_only_self() -> None:
    assert "connect-src 'self';" in content_security_policy("/api")


def test_policy_names_the_ml_server_origin_not_its_path() -> None:
    assert "connect-src 'self' https://digits.example:8443;" in content_security_policy(
        "https://digits.example:8443/api"
    )


def test_page_sends_the_security_headers(client: Client) -> None:
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_health_answers_ok(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_page_only_answers_reads(client: Client) -> None:
    assert client.post("/").status_code == 405


def test_template_names_no_script_but_the_module() -> None:
    assert TEMPLATE.read_text().count("<script") == 1
