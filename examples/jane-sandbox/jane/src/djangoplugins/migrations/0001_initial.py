# The shape of django-plugins' 0001_initial: the plugin's point is added last (AddField).

from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name='PluginPoint',
            fields=[
                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('pythonpath', models.CharField(max_length=255)),
                ('title', models.CharField(max_length=255)),
                ('status', models.SmallIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='Plugin',
            fields=[
                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('pythonpath', models.CharField(max_length=255, unique=True)),
                ('name', models.CharField(blank=True, max_length=255, null=True)),
                ('title', models.CharField(blank=True, default='', max_length=255)),
                ('index', models.IntegerField(default=0)),
                ('status', models.SmallIntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name='plugin',
            name='point',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='djangoplugins.pluginpoint'),
        ),
        migrations.AlterUniqueTogether(
            name='plugin',
            unique_together={('point', 'name')},
        ),
    ]
