from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("segments", "0004_segment_versions")]

    operations = [
        migrations.AddField(
            model_name="segment",
            name="origin",
            field=models.JSONField(blank=True, null=True),
        ),
    ]
