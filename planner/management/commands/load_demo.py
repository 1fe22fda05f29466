from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load or upgrade the demo lab, users and studies (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        from planner.demo import DEMO_PASSWORD, load_demo

        result = load_demo()
        if apps.is_installed("labnotes"):
            from importlib import import_module

            labnotes_demo = import_module("labnotes.demo")
            labnotes_demo.load_demo(result)
        users = result["users"]
        assert isinstance(users, dict)
        self.stdout.write(
            f"demo version {result['version']} loaded: lab '{result['lab']}', users "
            f"{', '.join(users)} (password {DEMO_PASSWORD})"
        )
        self.stdout.write(str(result["second_factor"]))
