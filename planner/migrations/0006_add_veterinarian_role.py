"""The veterinarian role (reads like a viewer; may unblind one animal in an emergency in labnotes)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("planner", "0005_allow_several_sample_collections"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="membership",
            name="membership_role_valid",
        ),
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(
                choices=[
                    ("viewer", "Viewer"),
                    ("technician", "Technician"),
                    ("scientist", "Scientist"),
                    ("study_director", "Study director"),
                    ("qa", "Quality assurance"),
                    ("lab_admin", "Lab admin"),
                    ("veterinarian", "Veterinarian"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="membershipevent",
            name="role",
            field=models.CharField(
                choices=[
                    ("viewer", "Viewer"),
                    ("technician", "Technician"),
                    ("scientist", "Scientist"),
                    ("study_director", "Study director"),
                    ("qa", "Quality assurance"),
                    ("lab_admin", "Lab admin"),
                    ("veterinarian", "Veterinarian"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "role__in",
                        [
                            "viewer",
                            "technician",
                            "scientist",
                            "study_director",
                            "qa",
                            "lab_admin",
                            "veterinarian",
                        ],
                    )
                ),
                name="membership_role_valid",
            ),
        ),
    ]
