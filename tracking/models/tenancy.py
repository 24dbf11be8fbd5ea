"""Tenancy: users, organizations, their members, projects and keys.

Organization -> Project -> everything. A user sees a project because they are a
member of its organization; every query that serves a request goes through
`Project.objects.for_user(user)`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


def _token(prefix: str, nbytes: int = 24) -> str:
    return prefix + secrets.token_urlsafe(nbytes).replace("-", "x").replace("_", "y")


def hash_secret(raw: str) -> str:
    """Keys are 190 random bits, so a fast hash is enough; nothing to brute-force."""
    return hashlib.sha256(raw.encode()).hexdigest()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("Users need an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs into Sightline (not a tracked person: see Person)."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False, help_text="Can log into Django admin.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class Organization(models.Model):
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(User, through="Membership", related_name="organizations")

    def __str__(self) -> str:
        return self.name

    def role_of(self, user: User) -> str | None:
        membership = self.memberships.filter(user=user).first()
        return membership.role if membership else None


class Membership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def can_manage(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)


def zone_named(name: str | None) -> ZoneInfo:
    """The time zone of this name, or UTC for an empty or unknown name (a zone can leave the tz database)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class ProjectQuerySet(models.QuerySet):
    def for_user(self, user) -> ProjectQuerySet:
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(organization__memberships__user=user)


class IpHandling(models.TextChoices):
    DISCARD = "discard", "Discard (derive geography, then drop the address)"
    STORE = "store", "Store the IP address on events"


class Project(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    public_key = models.CharField(max_length=64, unique=True, editable=False)
    timezone = models.CharField(max_length=64, default="UTC")
    allowed_origins = models.TextField(
        blank=True,
        help_text="One origin per line (https://www.example.com). Empty accepts events from any site.",
    )
    recording_enabled = models.BooleanField(default=False, help_text="Record sessions for replay.")
    recording_sample_rate = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of sessions recorded, between 0 and 1.",
    )
    recording_mask_all_text = models.BooleanField(
        default=False, help_text="Mask all page text in recordings."
    )
    recording_mask_inputs = models.BooleanField(
        default=True, help_text="Mask what people type. Password fields are always masked."
    )
    data_retention_days = models.PositiveIntegerField(
        default=365, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    recording_retention_days = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    ip_handling = models.CharField(max_length=10, choices=IpHandling.choices, default=IpHandling.DISCARD)
    respect_dnt = models.BooleanField(
        default=False,
        help_text="Do not track visitors whose browser sends Do Not Track or Global Privacy Control.",
    )
    ingest_rate_limit = models.PositiveIntegerField(
        default=2000, help_text="Events per second accepted before answering 429."
    )
    internal_users = models.JSONField(
        default=dict,
        blank=True,
        help_text="Internal and test users, kept out of counts by default (tracking.traffic.internal).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.public_key:
            self.public_key = _token("pk_", 18)
        super().save(*args, **kwargs)

    @property
    def zone(self) -> ZoneInfo:
        """The project's time zone: days, weeks and windows are counted in it (UTC when it is unknown)."""
        return zone_named(self.timezone)

    @property
    def allowed_origin_list(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()]


class PersonalApiKeyQuerySet(models.QuerySet):
    def active(self) -> PersonalApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class PersonalApiKey(models.Model):
    """A secret key for the management API, acting as its user. Only the hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    label = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise the key.")
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = PersonalApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "personal API key"

    def __str__(self) -> str:
        return f"{self.label} ({self.prefix}…)"

    @staticmethod
    def generate() -> str:
        return _token("sk_", 32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())


def _invitation_expiry():
    return timezone.now() + timedelta(days=7)


class Invitation(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.email} to {self.organization}"

    @staticmethod
    def generate_token() -> str:
        return secrets.token_urlsafe(32)

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
