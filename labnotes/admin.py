from django.contrib import admin

from labnotes.models import BackgroundJob
from planner.admin_base import ReadOnlyLabDataAdmin


@admin.register(BackgroundJob)
class BackgroundJobAdmin(ReadOnlyLabDataAdmin):
    list_display = ["kind", "status", "lab", "requested_by", "requested_at", "finished_at"]
    list_filter = ["status", "kind"]
