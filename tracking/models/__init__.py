from tracking.models.actions import Action
from tracking.models.events import (
    Company,
    Event,
    IngestRejection,
    IngestSource,
    Person,
    PersonDay,
    PersonDistinctId,
    PersonTouch,
    Session,
)
from tracking.models.tenancy import (
    Invitation,
    Membership,
    Organization,
    PersonalApiKey,
    Project,
    Role,
    User,
)

__all__ = [
    "Action",
    "Company",
    "Event",
    "IngestRejection",
    "IngestSource",
    "Invitation",
    "Membership",
    "Organization",
    "Person",
    "PersonDay",
    "PersonDistinctId",
    "PersonTouch",
    "PersonalApiKey",
    "Project",
    "Role",
    "Session",
    "User",
]
