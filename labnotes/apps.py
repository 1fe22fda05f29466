from django.apps import AppConfig


class LabnotesConfig(AppConfig):
    name = "labnotes"
    verbose_name = "Lab notes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from labnotes.scoping import register_labnotes_scopes

        register_labnotes_scopes()
