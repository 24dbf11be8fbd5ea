"""`manage.py seed_demo`: fill a project with Tasklane's generated world, at any scale.

    manage.py seed_demo --persons 2000 --days 60 --seed 1 --until 2026-11-29 --project 3

The same --seed and --until give the same data. Without --project the demo
project is seeded (it must be empty); --new-project NAME creates a fresh
project in the demo organization first, which is what benchmarks want.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.services import demo_ensure
from demo.world.seed import (
    ProjectNotEmpty,
    SeedReport,
    WorldOptions,
    timeline_bounds,
    until_parse,
    world_seed,
)
from demo.world.starter import seed_if_empty, starters_create
from tracking.models import Project


class Command(BaseCommand):
    help = (
        "Generate realistic Tasklane behaviour (companies, persons, sessions, events) into an empty project."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, default=2000, help="Persons to generate (default 2000).")
        parser.add_argument(
            "--days", type=int, default=60, help="Days of history before --until (default 60)."
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed: the same seed gives the same world."
        )
        parser.add_argument(
            "--until",
            default=None,
            help="The world's end: a date (its midnight, UTC) or an ISO datetime. Default: today's midnight, UTC.",
        )
        target = parser.add_mutually_exclusive_group()
        target.add_argument(
            "--project", type=int, help="Id of an empty project to fill (default: the demo project)."
        )
        target.add_argument(
            "--new-project", metavar="NAME", help="Create a project of this name in the demo organization."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Seed the demo project with the default world, its starters and recordings only when it is empty.",
        )
        parser.add_argument(
            "--ensure-only",
            action="store_true",
            help="Only make sure the demo user, organization and project exist.",
        )
        parser.add_argument(
            "--starters",
            action="store_true",
            help="Also create the starter actions, segments, surveys and lifecycle model, and compute the segments.",
        )

    def handle(self, *args, **options) -> None:
        if options["ensure_only"]:
            demo_ensure()
            return
        if options["if_empty"]:
            seed_if_empty(demo_ensure().project, self.stdout)
            return
        try:
            world = WorldOptions(
                persons=options["persons"],
                days=options["days"],
                seed=options["seed"],
                until=until_parse(options["until"]),
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        project = self._project(options)
        first, last = timeline_bounds(world)
        self.stdout.write(
            f"Seeding project {project.pk} ({project.name}): {world.persons:,} persons, "
            f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC, seed {world.seed}"
        )
        try:
            report = world_seed(project=project, options=world, progress=self._progress())
        except ProjectNotEmpty as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {report.seconds:.1f} s: {report.events:,} events ({report.events_per_second:,.0f}/s), "
                f"{report.sessions:,} sessions, {report.persons:,} persons, {report.companies:,} companies."
            )
        )
        if options["starters"]:
            started = time.monotonic()
            starters_create(project=project, stdout=self.stdout)
            self.stdout.write(f"Starters ready in {time.monotonic() - started:.1f} s.")

    def _project(self, options: dict) -> Project:
        demo = demo_ensure()
        if options["new_project"]:
            return Project.objects.create(
                organization=demo.organization,
                name=options["new_project"],
                recording_enabled=True,
                recording_sample_rate=1.0,
            )
        if options["project"] is None:
            return demo.project
        project = Project.objects.filter(pk=options["project"]).first()
        if project is None:
            raise CommandError(f"no project {options['project']}")
        return project

    def _progress(self):
        last = [0.0]

        def report(progress: SeedReport) -> None:
            now = time.monotonic()
            if now - last[0] < 1.0 and progress.persons_generated < progress.persons_total:
                return
            last[0] = now
            self.stdout.write(
                f"  persons {progress.persons_generated:,}/{progress.persons_total:,} · "
                f"events written {progress.events:,} · {progress.events_per_second:,.0f} events/s"
            )

        return report
