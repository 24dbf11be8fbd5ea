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
from tracking.models.queue import IngestDrained, IngestQueueItem
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
    "IngestDrained",
    "IngestQueueItem",
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
