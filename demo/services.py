"""The demo organization, user and project that `make run` opens onto."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from tracking.models import Membership, Organization, Project, Role, User

DEMO_EMAIL = "demo@sightline.local"
DEMO_PASSWORD = "sightline-demo"  # noqa: S105 - a published demo login, development only
DEMO_ORGANIZATION = "Sightline Demo"
DEMO_PROJECT = "Tasklane (demo SaaS)"


@dataclass(frozen=True)
class Demo:
    user: User
    organization: Organization
    project: Project
    created: bool


@transaction.atomic
def demo_ensure() -> Demo:
    """Create the demo user, organization and project if missing; idempotent."""
    user = User.objects.filter(email=DEMO_EMAIL).first()
    created = user is None
    if user is None:
        user = User.objects.create_user(email=DEMO_EMAIL, password=DEMO_PASSWORD, name="Demo User")
    organization = Organization.objects.filter(name=DEMO_ORGANIZATION, memberships__user=user).first()
    if organization is None:
        organization = Organization.objects.create(name=DEMO_ORGANIZATION)
        Membership.objects.create(organization=organization, user=user, role=Role.OWNER)
        created = True
    project = organization.projects.order_by("pk").first()
    if project is None:
        project = Project.objects.create(
            organization=organization,
            name=DEMO_PROJECT,
            recording_enabled=True,
            recording_sample_rate=1.0,
        )
        created = True
    return Demo(user=user, organization=organization, project=project, created=created)
