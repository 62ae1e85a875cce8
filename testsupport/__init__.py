"""What the tests and the benchmarks start: free loopback ports, either service under gunicorn, and
throwaway PostgreSQL and Redis servers. Never shipped in an image (see .dockerignore)."""
