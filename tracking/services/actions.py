"""Writes for actions: create, update, delete."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tracking.dataversion import data_changed
from tracking.matching.actions import ActionError, validate_steps
from tracking.models import Action, Project, User

MAX_NAME = 200


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"name": ["Give the action a name."]})
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise ValidationError({"name": [f"Keep the name under {MAX_NAME} characters."]})
    return name


def _clean_steps(steps: Any) -> list[dict]:
    try:
        return validate_steps(steps)
    except ActionError as error:
        raise ValidationError({field: [message] for field, message in error.errors.items()}) from None


def _check_name_free(*, project: Project, name: str, exclude_id: int | None = None) -> None:
    taken = Action.objects.filter(project=project, name=name)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    if taken.exists():
        raise ValidationError({"name": [f"An action named “{name}” already exists in this project."]})


def _save(action: Action) -> Action:
    try:
        with transaction.atomic():
            action.save()
    except IntegrityError:
        # two saves racing for one name; the unique constraint decides
        raise ValidationError(
            {"name": [f"An action named “{action.name}” already exists in this project."]}
        ) from None
    return action


def action_create(
    *, project: Project, user: User | None, name: str, steps: list, description: str = ""
) -> Action:
    """Create an action; raise ValidationError keyed by field (`name`, `steps[0].selector`, …)."""
    name = _clean_name(name)
    steps = _clean_steps(steps)
    _check_name_free(project=project, name=name)
    action = Action(
        project=project, created_by=user, name=name, description=(description or "").strip(), steps=steps
    )
    return _save(action)


def action_update(
    *, action: Action, name: str | None = None, description: str | None = None, steps: list | None = None
) -> Action:
    """Change the given fields; validation as for `action_create`. Nothing changes unless all are valid."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _clean_name(name)
        _check_name_free(project=action.project, name=changes["name"], exclude_id=action.pk)
    if description is not None:
        changes["description"] = description.strip()
    if steps is not None:
        changes["steps"] = _clean_steps(steps)
    for field, value in changes.items():
        setattr(action, field, value)
    if "steps" in changes:
        data_changed(action.project_id)  # what the action matches moved: results cached before are stale
    return _save(action)


def action_delete(*, action: Action) -> None:
    data_changed(action.project_id)
    action.delete()
