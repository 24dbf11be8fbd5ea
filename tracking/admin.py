from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from tracking.models import Action, Invitation, Membership, Organization, PersonalApiKey, Project, User
from tracking.services.accounts import api_key_revoke


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]})]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class ProjectInline(admin.TabularInline):
    model = Project
    extra = 0
    fields = ["name", "public_key", "recording_enabled", "created_at"]
    readonly_fields = ["public_key", "created_at"]
    show_change_link = True


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "project_count", "created_at"]
    search_fields = ["name", "memberships__user__email"]
    date_hierarchy = "created_at"
    inlines = [MembershipInline, ProjectInline]

    @admin.display(description="members")
    def member_count(self, obj: Organization) -> int:
        return obj.memberships.count()

    @admin.display(description="projects")
    def project_count(self, obj: Organization) -> int:
        return obj.projects.count()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "organization",
        "public_key",
        "recording_enabled",
        "data_retention_days",
        "created_at",
    ]
    list_filter = ["recording_enabled", "ip_handling", "respect_dnt"]
    search_fields = ["name", "organization__name", "public_key"]
    readonly_fields = ["public_key", "created_at"]
    autocomplete_fields = ["organization"]


@admin.register(PersonalApiKey)
class PersonalApiKeyAdmin(admin.ModelAdmin):
    list_display = ["label", "prefix", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["label", "prefix", "user__email"]
    readonly_fields = ["prefix", "secret_hash", "created_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # keys are minted in the app, where the secret is shown once

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset) -> None:
        for key in queryset:
            api_key_revoke(key=key)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "invited_by", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role", ("accepted_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "organization__name"]
    readonly_fields = ["token_hash"]


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "created_by", "updated_at"]
    search_fields = ["name", "project__name"]
    list_select_related = ["project", "created_by"]
    raw_id_fields = ["project", "created_by"]
    readonly_fields = ["created_at", "updated_at"]
