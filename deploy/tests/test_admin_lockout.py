"""Password guessing on the Django admin, through `make run`'s front: after AXES_FAILURE_LIMIT wrong
passwords that user is locked out from that address (even with the right password) until the cool-off
ends; other addresses are not, and the lockout is logged."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.parse

import pytest

from scripts.services import ROOT
from testsupport.slow_clients import error_code, request

from .conftest import LOCKOUT_COOL_OFF_S

pytestmark = pytest.mark.slow

USER, PASSWORD = "admin", "a-long-test-password-4711"
GUESSES = 20
FAILURE_LIMIT = 5  # django-axes' AXES_FAILURE_LIMIT default in the ml_server's settings


@pytest.fixture(scope="module")
def admin_user(stack) -> str:
    """The stack's first admin login, made as `make admin` makes it (manage.py createsuperuser), here
    without a terminal: the password comes from the environment."""
    env = {**stack.env, "DJANGO_SUPERUSER_USERNAME": USER, "DJANGO_SUPERUSER_PASSWORD": PASSWORD}
    env["DJANGO_SUPERUSER_EMAIL"] = "admin@example.com"
    command = [sys.executable, "manage.py", "createsuperuser", "--noinput"]
    subprocess.run(command, cwd=ROOT / "ml_server", env=env, check=True, capture_output=True, timeout=120)
    return USER


class AdminLogin:
    """The admin login form as a browser at `source` submits it (CSRF cookie and token included)."""

    def __init__(self, port: int, source: str) -> None:
        self.port, self.source = port, source
        status, headers, body = request(port, "GET", "/admin/login/", source=source)
        assert status == 200, body[:300]
        self.cookie = re.search(r"csrftoken=([^;]+)", headers["set-cookie"]).group(1)
        self.token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()

    def attempt(self, password: str, **extra_headers: str) -> tuple[int, dict[str, str], bytes]:
        form = {"username": USER, "password": password, "csrfmiddlewaretoken": self.token, "next": "/admin/"}
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={self.cookie}"}
        headers.update(extra_headers)
        body = urllib.parse.urlencode(form).encode()
        return request(self.port, "POST", "/admin/login/", source=self.source, body=body, headers=headers)


@pytest.mark.usefixtures("admin_user")
def test_guessing_locks_that_user_and_address_out_until_the_cool_off_ends(stack) -> None:
    guesser = AdminLogin(stack.ml_port, source="127.0.0.6")
    statuses = [guesser.attempt(f"wrong-{n}")[0] for n in range(GUESSES)]
    assert statuses[: FAILURE_LIMIT - 1] == [200] * (FAILURE_LIMIT - 1)  # the form again, "wrong password"
    assert statuses[FAILURE_LIMIT:] == [429] * (GUESSES - FAILURE_LIMIT)

    status, headers, body = guesser.attempt(PASSWORD)
    assert (status, error_code(body)) == (429, "locked_out")
    assert headers["content-type"] == "application/json" and int(headers["retry-after"]) == LOCKOUT_COOL_OFF_S

    # Another address logs in as the same user: only the guessing pair is locked.
    assert AdminLogin(stack.ml_port, source="127.0.0.7").attempt(PASSWORD)[0] == 302

    logged = [line for line in stack.text().splitlines() if "admin login locked out" in line]
    assert logged and "'admin' from 127.0.0.6" in logged[-1]

    time.sleep(LOCKOUT_COOL_OFF_S + 1)  # each refused attempt restarts the cool-off, so it is waited out once
    status, headers, _ = guesser.attempt(PASSWORD)
    assert status == 302 and headers["location"] == "/admin/"


@pytest.mark.usefixtures("admin_user")
def test_a_guesser_claiming_another_address_is_still_counted_as_itself(stack) -> None:
    login = AdminLogin(stack.ml_port, source="127.0.0.8")
    for n in range(FAILURE_LIMIT):
        login.attempt(f"wrong-{n}", **{"X-Forwarded-For": f"203.0.113.{n}"})
    status, _, body = login.attempt(PASSWORD, **{"X-Forwarded-For": "203.0.113.99"})
    assert (status, error_code(body)) == (429, "locked_out")
