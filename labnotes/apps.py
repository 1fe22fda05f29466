from django.apps import AppConfig


class LabnotesConfig(AppConfig):
    name = "labnotes"
    verbose_name = "Lab notes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from labnotes.scoping import register_labnotes_scopes
        from labnotes.selectors_sample_size import default_sd_log
        from labnotes.services.schedule import regenerate_tasks_after_amendment
        from planner.preview import register_sd_log_source
        from planner.services.amendments import register_approval_listener

        register_labnotes_scopes()
        # The planner never imports labnotes: labnotes plugs its parts in here.
        # An approved amendment regenerates the runs' tasks from its effective date on;
        register_approval_listener(regenerate_tasks_after_amendment)
        # the sample-size helper's default SD of log volume comes from past control arms.
        register_sd_log_source(default_sd_log)
