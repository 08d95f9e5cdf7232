"""`dermis manage` and `dermis serve`: the Django web app from the command line.

Django is imported inside the command functions, so the other sub-commands start without it.
`dermis serve` runs gunicorn when DERMIS_ENV=production (after `collectstatic`) and Django's
development server otherwise, and says which. `dermis serve --demo` also fills the database with
the demo clinics and prints their logins.
"""

from __future__ import annotations

import argparse
import os
import sys

SETTINGS_MODULE = "dermis.web.settings"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEMO_REFUSED = (
    "dermis: error: --demo is refused when DERMIS_ENV=production (demo patients and logins)"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `manage` and `serve` sub-commands."""
    manage = subparsers.add_parser(
        "manage",
        help="run a Django management command, e.g. `dermis manage migrate`",
        description="Run a Django management command with the Dermis settings. "
        "`dermis manage help` lists the commands.",
    )
    manage.add_argument(
        "arguments",
        nargs=argparse.REMAINDER,
        help="the management command and its arguments, e.g. `createsuperuser`",
    )
    manage.set_defaults(func=manage_command)

    serve = subparsers.add_parser(
        "serve",
        help="apply database migrations and run the web server",
        description="Apply database migrations, then serve: with gunicorn when "
        "DERMIS_ENV=production (static files collected first; workers, backlog and timeouts "
        "from DERMIS_WORKERS, DERMIS_BACKLOG, DERMIS_TIMEOUT, see docs/deploy.md), otherwise "
        "with Django's development server. On a loopback address DERMIS_ENV defaults to "
        "development, so no secret key is needed; any other address needs the production "
        "settings (DERMIS_SECRET_KEY).",
    )
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})"
    )
    serve.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})"
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="add two demo clinics with staff and 50 patients (idempotent), print the demo "
        "logins, then serve; refused when DERMIS_ENV=production",
    )
    serve.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not apply migrations first (several web machines: migrate once, by hand)",
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="development server only: do not run `dermis worker` beside it (the worker sends "
        "sign-in links, reminders and offers, and runs background tasks)",
    )
    serve.set_defaults(func=serve_command)


def manage_command(args: argparse.Namespace) -> int:
    """Pass the remaining arguments to Django's command-line utility."""
    if not _setup_django(local_tool=True):
        return 2
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["dermis manage", *args.arguments])
    except SystemExit as exc:
        return _exit_code(exc)
    return 0


def serve_command(args: argparse.Namespace) -> int:
    """Migrate (and seed the demo), then serve on `args.host:args.port` without the reloader."""
    demo = getattr(args, "demo", False)
    if demo and os.environ.get("DERMIS_ENV", "").strip().lower() == "production":
        print(DEMO_REFUSED, file=sys.stderr)
        return 2
    if args.host in LOOPBACK_HOSTS:
        # Nothing off this machine can reach the server, so the public development key is enough.
        os.environ.setdefault("DERMIS_ENV", "development")
    if not _setup_django():
        return 2
    from django.conf import settings
    from django.core.management import call_command
    from django.db import DatabaseError

    if demo and settings.PRODUCTION:  # production by default off a loopback address
        print(DEMO_REFUSED, file=sys.stderr)
        return 2
    ipv6 = ":" in args.host
    address = f"[{args.host}]:{args.port}" if ipv6 else f"{args.host}:{args.port}"
    try:
        if not getattr(args, "no_migrate", False):
            call_command("migrate", interactive=False)
    except DatabaseError as exc:
        print(f"dermis: error: database: {exc}", file=sys.stderr)
        return 2
    if settings.PRODUCTION:
        return _exec_gunicorn(address)
    if demo:
        host = "localhost" if args.host in ("0.0.0.0", "::") else address.rsplit(":", 1)[0]
        if not _seed_demo(f"http://{host}:{args.port}/"):
            return 2
    print(
        f"dermis: serving with Django's development server on {address} "
        f"(DERMIS_ENV={settings.ENVIRONMENT}; not for production)",
        file=sys.stderr,
        flush=True,
    )
    worker = None if getattr(args, "no_worker", False) else _start_worker()
    try:
        # `insecure_serving` lets the development server serve the admin's CSS with DEBUG off.
        call_command("runserver", address, use_reloader=False, use_ipv6=ipv6, insecure_serving=True)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
    return 0


def _start_worker():
    """`dermis worker` beside the development server, so a sign-in link, a reminder or a
    background task is handled as in production; it stops with the server (on Linux even if the
    server is killed)."""
    import subprocess

    def stop_with_parent() -> None:
        try:
            import ctypes
            import signal

            ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    print("dermis: running `dermis worker` beside it (--no-worker: do not)", file=sys.stderr)
    return subprocess.Popen([sys.executable, "-m", "dermis", "worker"], preexec_fn=stop_with_parent)


def _exec_gunicorn(address: str) -> int:
    """Collect the static files, then replace this process with gunicorn listening on `address`.

    gunicorn takes this process's place (and id), so a service manager's stop signal reaches its
    master, which lets the workers finish their requests (DERMIS_GRACEFUL_TIMEOUT).
    """
    from django.db import connections

    from dermis.web import gunicorn_conf
    from dermis.web.static_storage import collect_if_changed

    if collect_if_changed():
        print("dermis: static files collected", file=sys.stderr)
    connections.close_all()  # nothing of this process's database connection reaches the workers
    os.environ["DERMIS_BIND"] = address
    print(
        f"dermis: serving with gunicorn on {address} (DERMIS_ENV=production): "
        f"{gunicorn_conf.workers} workers, backlog {gunicorn_conf.backlog}, "
        f"timeout {gunicorn_conf.timeout}s",
        file=sys.stderr,
        flush=True,
    )
    sys.stdout.flush()
    argv = [sys.executable, "-m", "gunicorn", "--config", "python:dermis.web.gunicorn_conf"]
    os.execv(sys.executable, argv)
    return 0  # not reached


def _seed_demo(url: str) -> bool:
    """Seed the demo (progress on stderr), print the logins and the URL; False on an error."""
    from django.db import DatabaseError

    from dermis.web.clinic.demo import DemoError, build_demo, format_logins

    def progress(done: int, total: int) -> None:
        # One line per step on a terminal; every tenth in a log.
        if sys.stderr.isatty():
            end = "\n" if done == total else ""
            print(f"\rseeding demo data: {done}/{total} patients", end=end, file=sys.stderr)
        elif done % 10 == 0 or done == total:
            print(f"seeding demo data: {done}/{total} patients", file=sys.stderr)
        sys.stderr.flush()

    try:
        result = build_demo(progress=progress)
    except DemoError as exc:
        print(f"dermis: error: {exc}", file=sys.stderr)
        return False
    except DatabaseError as exc:  # rolled back: nothing of the demo was written
        print(f"dermis: error: database: {exc}", file=sys.stderr)
        return False
    if not result.patients_created:
        print("demo data already there: passwords reset", file=sys.stderr)
    print("\nDemo logins (every account has the same password, shown only now):\n")
    print(format_logins(result))
    print(f"\nOpen {url} and log in with one of the accounts above.\n", flush=True)
    return True


def local_tool_environment() -> None:
    """Command-line tools (`manage`, `token`, `export-fhir`, `backup`, `restore`) default to the
    development settings when neither DERMIS_ENV nor DERMIS_SECRET_KEY is set: that is a
    workstation (a server's environment file sets both), and nothing they do is signed with the
    key. With either set, the settings' own default (production) stands."""
    if (
        not os.environ.get("DERMIS_ENV", "").strip()
        and not os.environ.get("DERMIS_SECRET_KEY", "").strip()
    ):
        os.environ["DERMIS_ENV"] = "development"


def _setup_django(local_tool: bool = False) -> bool:
    """Load the settings and apps; on a configuration error print it and return False."""
    if local_tool:
        local_tool_environment()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        print(f"dermis: error: {exc}", file=sys.stderr)
        return False
    return True


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0
    print(exc.code, file=sys.stderr)
    return 1


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (1-65535)")
    return port
