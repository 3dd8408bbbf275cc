# The shape of Jane's documents 0002: longer attachment categories.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('documents', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='documentindexattachment',
            name='category',
            field=models.SlugField(max_length=50),
        ),
    ]
