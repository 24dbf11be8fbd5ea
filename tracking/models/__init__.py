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
    "Invitation",
    "Membership",
    "Organization",
    "PersonalApiKey",
    "Project",
    "Role",
    "User",
]
