# The shape of Jane's waveforms 0002: mappings match a full path regex instead of a path and a
# file regex, and get indexes; traces keep their original codes (appended, alphabetically).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('waveforms', '0001_initial'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='mapping',
            name='file_regex',
        ),
        migrations.RemoveField(
            model_name='mapping',
            name='path_regex',
        ),
        migrations.AddField(
            model_name='continuoustrace',
            name='original_channel',
            field=models.CharField(blank=True, default='', max_length=3),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='continuoustrace',
            name='original_location',
            field=models.CharField(blank=True, default='', max_length=2),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='continuoustrace',
            name='original_network',
            field=models.CharField(blank=True, default='', max_length=2),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='continuoustrace',
            name='original_station',
            field=models.CharField(blank=True, default='', max_length=5),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='mapping',
            name='full_path_regex',
            field=models.CharField(default='^.*$', max_length=255),
        ),
        migrations.AlterField(
            model_name='mapping',
            name='channel',
            field=models.CharField(db_index=True, max_length=3),
        ),
        migrations.AlterField(
            model_name='mapping',
            name='location',
            field=models.CharField(db_index=True, max_length=2),
        ),
        migrations.AlterField(
            model_name='mapping',
            name='network',
            field=models.CharField(db_index=True, max_length=2),
        ),
        migrations.AlterField(
            model_name='mapping',
            name='station',
            field=models.CharField(db_index=True, max_length=5),
        ),
    ]
