"""`dermis manage seed_demo`: create (or refresh) the demo clinics and print their logins."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dermis.web.clinic.demo import DemoError, build_demo, format_logins


class Command(BaseCommand):
    help = (
        "Add two demo clinics with staff and 50 patients at every stage (once: a second run only "
        "resets the demo passwords), then print the logins. Refused when DERMIS_ENV=production. "
        "The password is DERMIS_DEMO_PASSWORD, or a new random one each run."
    )

    def handle(self, *args, **options) -> None:
        def progress(done: int, total: int) -> None:
            if done % 10 == 0 or done == total:
                self.stderr.write(f"seeding demo data: {done}/{total} patients")

        try:
            result = build_demo(progress=progress)
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        if not result.patients_created:
            self.stderr.write("demo data already there: passwords reset")
        self.stdout.write(format_logins(result))
