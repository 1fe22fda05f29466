from django.contrib import admin

from labnotes.models import BackgroundJob, CaptureSettings
from planner.admin_base import ConfigurationAdmin, ReadOnlyLabDataAdmin


@admin.register(BackgroundJob)
class BackgroundJobAdmin(ReadOnlyLabDataAdmin):
    list_display = ["kind", "status", "lab", "requested_by", "requested_at", "finished_at"]
    list_filter = ["status", "kind"]


@admin.register(CaptureSettings)
class CaptureSettingsAdmin(ConfigurationAdmin):
    list_display = ["lab", "tag_prefix", "tag_suffix", "grid_order", "repeat_policy"]
