"""gunicorn's settings, read from the working directory by `gunicorn wsgi:app` (README, Deployment).
Only what the platform itself needs; workers, address and the rest stay on the command line."""


def post_worker_init(worker):
    """Before a worker serves its first request: rank the rounds being judged into its caches
    (judging.services.warm_at_start), so a worker that starts during a live final, or after a
    restart, does not rank 15,000 score sheets from nothing while the big screen waits."""
    from incubator.judging.services import warm_at_start

    warm_at_start(worker.wsgi)
