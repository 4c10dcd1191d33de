from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('archive', '0004_source_counts_and_sort_keys'),
    ]

    operations = [
        migrations.AddField(
            model_name='importjob',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, editable=False, help_text='Last sign of life of the worker running it (archive.jobs); a stale one means it stopped.', null=True),
        ),
    ]
