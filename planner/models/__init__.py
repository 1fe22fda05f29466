from planner.models.calendar import Closure, Holiday
from planner.models.ethics import EthicsApproval, EthicsProtocol, Severity
from planner.models.platform import IdempotencyRecord, OutboundMessage, OutboundStatus
from planner.models.protocols import ProtocolTemplate, ProtocolVersion, ProtocolVersionStatus
from planner.models.security import (
    AuditChainLink,
    AuditChainPending,
    SecurityEvent,
    SecurityEventKind,
)
from planner.models.signatures import ChangePolicy, Signature, SignatureMeaning
from planner.models.studies import (
    Amendment,
    AmendmentScope,
    AmendmentStatus,
    Arm,
    ProcedureRole,
    RegimenItem,
    SatelliteCohort,
    Sex,
    Study,
    StudyMember,
    StudyProcedure,
    StudyStatus,
)
from planner.models.tenancy import Lab, Membership, PersonalToken, Role

__all__ = [
    "Amendment",
    "AmendmentScope",
    "AmendmentStatus",
    "Arm",
    "AuditChainLink",
    "AuditChainPending",
    "ChangePolicy",
    "Closure",
    "EthicsApproval",
    "EthicsProtocol",
    "Holiday",
    "IdempotencyRecord",
    "Lab",
    "Membership",
    "OutboundMessage",
    "OutboundStatus",
    "PersonalToken",
    "ProcedureRole",
    "ProtocolTemplate",
    "ProtocolVersion",
    "ProtocolVersionStatus",
    "RegimenItem",
    "Role",
    "SatelliteCohort",
    "SecurityEvent",
    "SecurityEventKind",
    "Severity",
    "Sex",
    "Signature",
    "SignatureMeaning",
    "Study",
    "StudyMember",
    "StudyProcedure",
    "StudyStatus",
]
