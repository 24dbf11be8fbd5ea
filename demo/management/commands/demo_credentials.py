import json

from django.core.management.base import BaseCommand

from demo.services import DEMO_PASSWORD, demo_ensure
from tracking.services.accounts import api_key_create


class Command(BaseCommand):
    help = "Print the demo login and keys, creating the demo project if missing; mints a fresh API key each call."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument("--no-key", action="store_true", help="Do not mint an API key (login only).")

    def handle(self, *args, **options):
        demo = demo_ensure()
        data = {
            "email": demo.user.email,
            "password": DEMO_PASSWORD,
            "organization": demo.organization.name,
            "project_id": demo.project.pk,
            "public_key": demo.project.public_key,
        }
        if not options["no_key"]:
            data["api_key"] = api_key_create(user=demo.user, label="demo_credentials").secret
        if options["json"]:
            self.stdout.write(json.dumps(data))
        else:
            for key, value in data.items():
                self.stdout.write(f"{key:>13}: {value}")
