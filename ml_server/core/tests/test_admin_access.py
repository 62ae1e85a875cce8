"""The admin: on by default, removed from the URL space by ADMIN_ENABLED=0, and guarded by django-axes,
whose lockout answers in the contract's JSON and is logged."""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Iterator

import config.urls
import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.urls import clear_url_caches

PASSWORD = "a-long-test-password-4711"


def reload_urls() -> None:
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.fixture
def admin_disabled() -> Iterator[None]:
    with override_settings(ADMIN_ENABLED=False):
        reload_urls()
        yield
    reload_urls()


def test_the_admin_login_is_served_by_default(client: Client) -> None:
    assert client.get("/admin/login/").status_code == 200


@pytest.mark.usefixtures("admin_disabled")
@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/admin/feedback/"])
def test_admin_disabled_leaves_no_admin_url(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_repeated_failures_lock_the_user_out_with_a_logged_json_429(client: Client, settings, caplog) -> None:
    get_user_model().objects.create_superuser("admin", "admin@example.com", PASSWORD)
    with caplog.at_level(logging.WARNING, logger="ml_server.security"):
        answers = [
            client.post("/admin/login/", {"username": "admin", "password": f"wrong-{n}"})
            for n in range(settings.AXES_FAILURE_LIMIT + 1)
        ]
        locked = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert [answer.status_code for answer in answers[: settings.AXES_FAILURE_LIMIT - 1]] == [200] * (
        settings.AXES_FAILURE_LIMIT - 1
    )
    assert locked.status_code == 429
    assert json.loads(locked.content)["error"]["code"] == "locked_out"
    assert int(locked["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert any("admin login locked out: user 'admin'" in record.getMessage() for record in caplog.records)
