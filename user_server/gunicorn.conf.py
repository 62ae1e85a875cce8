"""gunicorn settings for the user_server: `gunicorn -c gunicorn.conf.py config.wsgi:application`.
The page is static apart from one template, so one worker with a couple of threads is plenty."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('USER_SERVER_PORT', '8000')}"
workers = int(os.environ.get("USER_SERVER_WORKERS", "1"))
threads = int(os.environ.get("USER_SERVER_THREADS", "4"))
timeout = 30
graceful_timeout = 10
accesslog = "-" if os.environ.get("ACCESS_LOG", "").lower() in {"1", "true", "yes", "on"} else None
errorlog = "-"
control_socket_disable = True  # gunicorn 27 puts its control socket at one default path; the ml_server runs beside us
