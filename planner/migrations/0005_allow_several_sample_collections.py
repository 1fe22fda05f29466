"""A design may have several sample-collection procedures (one per protocol version); every other
procedure role stays one per design."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("planner", "0004_log_role_and_token_changes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="studyprocedure",
            options={"ordering": ["study", "role", "pk"]},
        ),
        migrations.RemoveConstraint(
            model_name="studyprocedure",
            name="study_procedure_one_per_role",
        ),
        migrations.AddConstraint(
            model_name="studyprocedure",
            constraint=models.UniqueConstraint(
                condition=models.Q(("role", "sample_collection"), _negated=True),
                fields=("study", "role"),
                name="study_procedure_one_per_role",
            ),
        ),
        migrations.AddConstraint(
            model_name="studyprocedure",
            constraint=models.UniqueConstraint(
                condition=models.Q(("role", "sample_collection")),
                fields=("study", "protocol_version"),
                name="study_sample_collection_once_per_version",
            ),
        ),
    ]
