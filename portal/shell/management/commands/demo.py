from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from portal.core import demo as demo_steps
from portal.shell import demo

SCALES = {
    # brokers and client logins beyond the named cast
    "small": {"brokers": 0, "clients": 0},
    "large": {"brokers": 500, "clients": 50_000},
}


class Command(BaseCommand):
    help = "Load demo data: the demo logins and every app's demo records. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")

    def handle(self, *args, scale, **options):
        demo.cast_ensure(stdout=self.stdout)
        size = SCALES[scale]
        if size["brokers"]:
            demo.large_population_ensure(brokers=size["brokers"], clients=size["clients"], stdout=self.stdout)
        for step in demo_steps.steps():
            self.stdout.write(f"Demo step: {step.name} ({scale})")
            step.run(scale=scale, stdout=self.stdout)
        # The address comes from PORTAL_BASE_URL, which `make demo` sets from PORT.
        login_url = settings.PORTAL_BASE_URL.rstrip("/") + reverse("account_login")
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Log in at {login_url} with any demo e-mail and 'partnerzone-demo'.")
        )
