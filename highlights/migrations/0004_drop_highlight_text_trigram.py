"""Drop the trigram index on highlight text: no query reads it (substring searches of highlights
go through the CJK bigram index), and keeping it up to date cost half of every highlight insert."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("highlights", "0003_search_and_counts"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="highlight",
            name="highlight_text_trigram",
        ),
    ]
