# The shape of Jane's documents 0001_initial: Document's type and modifier are added after the
# model (AddField), so they are its last columns.

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('djangoplugins', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='Document',
            fields=[
                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(db_index=True, max_length=255)),
                ('content_type', models.CharField(max_length=255)),
                ('data', models.BinaryField()),
                ('filesize', models.IntegerField()),
                ('sha1', models.CharField(db_index=True, max_length=40, unique=True)),
                ('created_at', models.DateTimeField(default=None)),
                ('modified_at', models.DateTimeField(default=None)),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='documents_created', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='DocumentIndex',
            fields=[
                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('json', models.JSONField()),
                ('geometry', models.BinaryField(blank=True, null=True)),
                ('document', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='indices', to='documents.document')),
            ],
        ),
        migrations.CreateModel(
            name='DocumentType',
            fields=[
                ('name', models.SlugField(max_length=20, primary_key=True, serialize=False)),
                ('definition', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='documenttype_definition', to='djangoplugins.plugin')),
                ('indexer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='documenttype_indexer', to='djangoplugins.plugin')),
                ('retrieve_permissions', models.ManyToManyField(blank=True, related_name='documenttype_retrieve_permissions', to='djangoplugins.Plugin')),
                ('upload_permissions', models.ManyToManyField(blank=True, related_name='documenttype_upload_permissions', to='djangoplugins.Plugin')),
                ('validators', models.ManyToManyField(blank=True, related_name='documenttype_validators', to='djangoplugins.Plugin')),
            ],
        ),
        migrations.CreateModel(
            name='DocumentIndexAttachment',
            fields=[
                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('category', models.SlugField(max_length=20)),
                ('content_type', models.CharField(max_length=255)),
                ('data', models.BinaryField()),
                ('created_at', models.DateTimeField(default=None)),
                ('modified_at', models.DateTimeField(default=None)),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='attachments_created', to=settings.AUTH_USER_MODEL)),
                ('index', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='documents.documentindex')),
                ('modified_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='attachments_modified', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.AddField(
            model_name='document',
            name='document_type',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='documents', to='documents.documenttype'),
        ),
        migrations.AddField(
            model_name='document',
            name='modified_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='documents_modified', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterUniqueTogether(
            name='document',
            unique_together={('document_type', 'name')},
        ),
    ]
