"""Schema changes of this step; operations are filled in as the models land."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("labnotes", "0009_samples_notebook")]

    operations: list[migrations.operations.base.Operation] = []
