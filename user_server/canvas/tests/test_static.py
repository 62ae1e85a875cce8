"""Static files: collected with hashed names and served by whitenoise, compressed and cached for good."""

import gzip
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

PRODUCTION_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "canvas.storage.StaticStorage"},
}


@pytest.fixture
def collected(tmp_path: Path):
    """collectstatic with the production storage into a temporary STATIC_ROOT; yields the manifest."""
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=PRODUCTION_STORAGES):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield json.loads((tmp_path / "staticfiles.json").read_text())["paths"]


def test_collectstatic_gives_every_file_a_hashed_name(collected: dict) -> None:
    for name in ("canvas/app.js", "canvas/api.js", "canvas/drawing.js", "canvas/results.js", "canvas/style.css"):
        assert re.fullmatch(
            re.escape(name[:-3] if name.endswith(".js") else name[:-4]) + r"\.[0-9a-f]{12}\.\w+", collected[name]
        ), collected[name]


def test_page_links_the_hashed_files(collected: dict) -> None:
    page = Client().get("/").content.decode()
    assert f"/static/{collected['canvas/app.js']}" in page
    assert f"/static/{collected['canvas/style.css']}" in page


def test_module_imports_point_at_hashed_names(collected: dict) -> None:
    app = Client().get(f"/static/{collected['canvas/app.js']}")
    body = b"".join(app.streaming_content).decode()
    for module in ("api", "drawing", "results"):
        hashed = Path(collected[f"canvas/{module}.js"]).name
        assert f'from "./{hashed}"' in body


def test_whitenoise_serves_hashed_files_compressed_and_immutable(collected: dict) -> None:
    response = Client().get(f"/static/{collected['canvas/app.js']}", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "immutable" in response.headers["Cache-Control"]
    assert b"MlClient" in gzip.decompress(b"".join(response.streaming_content))
    assert response.headers["Content-Type"].startswith("text/javascript")
