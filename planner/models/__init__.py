from planner.models.platform import IdempotencyRecord, OutboundMessage, OutboundStatus
from planner.models.studies import Study, StudyMember, StudyStatus
from planner.models.tenancy import Lab, Membership, PersonalToken, Role

__all__ = [
    "IdempotencyRecord",
    "Lab",
    "Membership",
    "OutboundMessage",
    "OutboundStatus",
    "PersonalToken",
    "Role",
    "Study",
    "StudyMember",
    "StudyStatus",
]
