"""Writes for accounts and tenancy: sign-up, invitations, projects, API keys."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from tracking.models import Invitation, Membership, Organization, PersonalApiKey, Project, Role, User
from tracking.models.tenancy import hash_secret


@transaction.atomic
def account_signup(
    *, email: str, password: str, name: str, organization_name: str, project_name: str
) -> Project:
    """Create a user, their organization (they own it) and its first project."""
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "An account with this e-mail address already exists."})
    user = User.objects.create_user(email=email, password=password, name=name)
    organization = Organization.objects.create(name=organization_name)
    Membership.objects.create(organization=organization, user=user, role=Role.OWNER)
    return project_create(organization=organization, name=project_name)


def project_create(*, organization: Organization, name: str, **fields) -> Project:
    project = Project(organization=organization, name=name, **fields)
    project.full_clean()
    project.save()
    return project


@transaction.atomic
def project_update(*, project: Project, **fields) -> Project:
    """Change a project's settings. A new time zone recounts the daily rollup in it after commit,
    because "active days" are days in the project's zone."""
    stored_zone = Project.objects.filter(pk=project.pk).values_list("timezone", flat=True).first()
    for name, value in fields.items():
        setattr(project, name, value)
    project.full_clean()
    project.save()
    if project.timezone != stored_zone:
        transaction.on_commit(lambda: async_task("tracking.tasks.person_days_rebuild", project.pk))
    return project


@dataclass(frozen=True)
class MintedKey:
    key: PersonalApiKey
    secret: str  # shown to the user once, never stored


def api_key_create(*, user: User, label: str) -> MintedKey:
    secret = PersonalApiKey.generate()
    key = PersonalApiKey.objects.create(
        user=user, label=label.strip() or "API key", prefix=secret[:10], secret_hash=hash_secret(secret)
    )
    return MintedKey(key=key, secret=secret)


def api_key_revoke(*, key: PersonalApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])


def api_key_authenticate(*, secret: str) -> PersonalApiKey | None:
    """Find the active key for a presented secret, recording its use at most once a minute."""
    key = (
        PersonalApiKey.objects.active()
        .select_related("user")
        .filter(secret_hash=hash_secret(secret), user__is_active=True)
        .first()
    )
    if key is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        PersonalApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    url: str


def invitation_create(
    *, organization: Organization, email: str, role: str, invited_by: User, base_url: str
) -> SentInvitation:
    """Invite someone by e-mail; the link carries a token whose hash only is stored."""
    email = email.strip().lower()
    if organization.memberships.filter(user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {organization}."})
    if role not in Role.values:
        raise ValidationError({"role": "Choose owner, admin or member."})
    token = Invitation.generate_token()
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=hash_secret(token),
        invited_by=invited_by,
    )
    url = f"{base_url}{reverse('invitation_accept', args=[token])}"
    transaction.on_commit(
        lambda: send_mail(
            subject=f"{invited_by.get_full_name()} invited you to {organization} on Sightline",
            message=f"Join {organization} on Sightline: {url}\n\nThis link expires in 7 days.",
            from_email=None,
            recipient_list=[email],
        )
    )
    return SentInvitation(invitation=invitation, url=url)


def invitation_find(*, token: str) -> Invitation | None:
    return Invitation.objects.select_related("organization").filter(token_hash=hash_secret(token)).first()


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    if invitation.accepted_at is not None:
        raise ValidationError("This invitation has already been used.")
    if invitation.is_expired:
        raise ValidationError("This invitation has expired. Ask for a new one.")
    if user.email.lower() != invitation.email.lower():
        raise ValidationError(
            f"This invitation is for {invitation.email}; you are logged in as {user.email}."
        )
    membership, _ = Membership.objects.get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership
