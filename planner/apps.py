from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_audit_chain(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """After every migrate (run as the owner role): chain triggers on new event tables and
    ENABLE ALWAYS on audit triggers that a migration re-created. Infrastructure, not domain
    logic; ``provision_runtime_role`` does the same and grants the runtime role its rights."""
    from django.db import connections

    from planner.security.audit_chain import install_chain

    install_chain(connections[using])


class PlannerConfig(AppConfig):
    name = "planner"
    verbose_name = "Planner"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_install_audit_chain, sender=self, dispatch_uid="vivolog_audit_chain")
        from planner.api import schema  # noqa: F401  (OpenAPI security schemes)
        from planner.security import signals  # noqa: F401  (auth signals → security log)
