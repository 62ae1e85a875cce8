"""The serving benchmark behind `make bench` (`python -m bench`): the real ml_server under wrk,
the model runtimes in-process, and a minimal FastAPI + LiteRT peer, in one run and one report."""
