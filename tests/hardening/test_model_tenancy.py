"""Every model that holds customer data belongs to a project (or an organization)."""

from __future__ import annotations

from django.apps import apps

PRODUCT_APPS = {"tracking", "jobs", "segments", "analysis", "replay", "interventions"}
# The tenancy root itself, and accounts (a login belongs to a person, not to one project).
NOT_CUSTOMER_DATA = {"tracking.Organization", "tracking.User", "tracking.PersonalApiKey"}


def _owner_field(model) -> str | None:
    for field in model._meta.get_fields():
        if (
            field.name in ("project", "organization")
            and (field.many_to_one or field.one_to_one)
            and field.concrete
        ):
            return field.name
    return None


def test_every_customer_data_model_has_a_project_or_organization_foreign_key():
    missing = [
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in PRODUCT_APPS
        and model._meta.label not in NOT_CUSTOMER_DATA
        and _owner_field(model) is None
    ]
    assert missing == [], f"models without a project or organization: {missing}"


def test_the_list_of_product_apps_is_complete():
    # a new app holding data must be added to PRODUCT_APPS, or this test sees nothing of it;
    # apps without models (config, web, demo) hold no data of their own
    from django.conf import settings

    ours = {app for app in settings.INSTALLED_APPS if "." not in app and not app.startswith("django")}
    holding_data = {
        app for app in ours if app in {c.name for c in apps.get_app_configs() if list(c.get_models())}
    }
    assert holding_data - {"django_q"} == PRODUCT_APPS
    assert {"config", "demo"} <= ours - holding_data
