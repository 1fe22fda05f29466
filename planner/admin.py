from django.contrib import admin

from planner.admin_base import ConfigurationAdmin, ReadOnlyLabDataAdmin
from planner.models import Lab, Membership, OutboundMessage, PersonalToken, Study, StudyMember


@admin.register(Lab)
class LabAdmin(ConfigurationAdmin):
    list_display = ["name", "slug", "time_zone"]


@admin.register(Membership)
class MembershipAdmin(ConfigurationAdmin):
    list_display = ["user", "lab", "role"]
    list_filter = ["role", "lab"]


@admin.register(Study)
class StudyAdmin(ReadOnlyLabDataAdmin):
    list_display = ["code", "title", "lab", "status", "blinded"]
    list_filter = ["status", "lab"]


@admin.register(StudyMember)
class StudyMemberAdmin(ReadOnlyLabDataAdmin):
    list_display = ["study", "user", "unblinded", "can_dose"]


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyLabDataAdmin):
    list_display = ["subject", "to_address", "status", "created_at", "sent_at"]
    list_filter = ["status"]


@admin.register(PersonalToken)
class PersonalTokenAdmin(ReadOnlyLabDataAdmin):
    list_display = ["name", "user", "prefix", "created_at", "expires_at", "revoked_at"]
    exclude = ["key_hash"]
