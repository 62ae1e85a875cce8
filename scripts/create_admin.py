"""`make admin`: create the ml_server's first admin login (Django's `createsuperuser`, which asks for
a name and a password), in the database `make run` uses (DATABASE_URL, default the SQLite file)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

from scripts.run import ensure_secret_key
from scripts.services import manage, services_from_env


def main(argv: Sequence[str] | None = None) -> int:
    """Apply migrations (the login tables), then run createsuperuser with this terminal; extra
    arguments go to it (`make admin ARGS="--username ops"`)."""
    ml_server, _ = services_from_env(os.environ)
    env = dict(os.environ)
    if not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = ensure_secret_key()  # the one make run uses
    manage(ml_server, env, "migrate", "--noinput", "--verbosity", "0")
    command = [sys.executable, "manage.py", "createsuperuser", *(sys.argv[1:] if argv is None else argv)]
    return subprocess.run(command, cwd=ml_server.folder, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
