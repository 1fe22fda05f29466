"""Schema changes of this step; operations are filled in as the models land."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("labnotes", "0007_dosing")]

    operations: list[migrations.operations.base.Operation] = []
