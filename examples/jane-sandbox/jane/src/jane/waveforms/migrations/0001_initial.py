# The shape of Jane's waveforms 0001_initial: the foreign keys of File and ContinuousTrace are
# added after their models (AddField), so path_id and file_id come after the other columns.

from django.conf import settings
import django.contrib.postgres.fields
import django.contrib.postgres.fields.ranges
from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ContinuousTrace',
            fields=[
                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('pos', models.IntegerField(default=0)),
                ('network', models.CharField(blank=True, db_index=True, max_length=2)),
                ('station', models.CharField(blank=True, db_index=True, max_length=5)),
                ('location', models.CharField(blank=True, db_index=True, max_length=2)),
                ('channel', models.CharField(blank=True, db_index=True, max_length=3)),
                ('timerange', django.contrib.postgres.fields.ranges.DateTimeRangeField(db_index=True)),
                ('duration', models.FloatField(db_index=True)),
                ('sampling_rate', models.FloatField()),
                ('npts', models.IntegerField()),
                ('preview_trace', django.contrib.postgres.fields.ArrayField(base_field=models.FloatField(), null=True, size=None)),
                ('quality', models.CharField(blank=True, db_index=True, max_length=1, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.CreateModel(
            name='File',
            fields=[
                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(db_index=True, max_length=255)),
                ('size', models.IntegerField()),
                ('gaps', models.IntegerField(db_index=True, default=0)),
                ('overlaps', models.IntegerField(db_index=True, default=0)),
                ('format', models.CharField(blank=True, db_index=True, max_length=255, null=True)),
                ('ctime', models.DateTimeField()),
                ('mtime', models.DateTimeField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.CreateModel(
            name='Mapping',
            fields=[
                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('timerange', django.contrib.postgres.fields.ranges.DateTimeRangeField(db_index=True)),
                ('network', models.CharField(max_length=2)),
                ('station', models.CharField(max_length=5)),
                ('location', models.CharField(max_length=2)),
                ('channel', models.CharField(max_length=3)),
                ('new_network', models.CharField(max_length=2)),
                ('new_station', models.CharField(max_length=5)),
                ('new_location', models.CharField(max_length=2)),
                ('new_channel', models.CharField(max_length=3)),
                ('path_regex', models.CharField(default='^.*$', max_length=255)),
                ('file_regex', models.CharField(default='^.*$', max_length=255)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('modified_at', models.DateTimeField(auto_now=True)),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='mappings_created', to=settings.AUTH_USER_MODEL)),
                ('modified_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='mappings_modified', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='Path',
            fields=[
                ('name', models.CharField(max_length=255, primary_key=True, serialize=False)),
                ('ctime', models.DateTimeField()),
                ('mtime', models.DateTimeField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.CreateModel(
            name='Restriction',
            fields=[
                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('network', models.CharField(db_index=True, max_length=2)),
                ('station', models.CharField(db_index=True, max_length=5)),
                ('comment', models.TextField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('modified_at', models.DateTimeField(auto_now=True)),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='restrictions_created', to=settings.AUTH_USER_MODEL)),
                ('modified_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='restrictions_modified', to=settings.AUTH_USER_MODEL)),
                ('users', models.ManyToManyField(blank=True, related_name='restrictions', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.AddField(
            model_name='file',
            name='path',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='files', to='waveforms.path'),
        ),
        migrations.AddField(
            model_name='continuoustrace',
            name='file',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='traces', to='waveforms.file'),
        ),
        migrations.AlterUniqueTogether(
            name='file',
            unique_together={('path', 'name')},
        ),
        migrations.AlterUniqueTogether(
            name='continuoustrace',
            unique_together={('file', 'network', 'station', 'location', 'channel', 'timerange')},
        ),
    ]
