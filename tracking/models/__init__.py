from tracking.models.actions import Action
from tracking.models.events import (
    Company,
    Event,
    IngestRejection,
    IngestSource,
    Person,
    PersonDay,
    PersonDistinctId,
    PersonEventDay,
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
from tracking.models.traits import CompanyTrait, PersonTrait
from tracking.models.versions import DataVersion

__all__ = [
    "Action",
    "Company",
    "CompanyTrait",
    "DataVersion",
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
    "PersonEventDay",
    "PersonTouch",
    "PersonTrait",
    "PersonalApiKey",
    "Project",
    "Role",
    "Session",
    "User",
]
