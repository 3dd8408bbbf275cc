"""The document tables of Jane: document types (keyed by their name, with the plugins that define,
index, validate and guard them), the documents, their JSON indices and the indices' attachments.
Fields, types, keys and the migrations' column order are Jane's own (see the sandbox README);
only the geometry is plain bytes, the sandbox having no PostGIS."""
from django.conf import settings
from django.db import models

from djangoplugins.models import Plugin


class DocumentType(models.Model):
    name = models.SlugField(max_length=20, primary_key=True)
    definition = models.ForeignKey(
        Plugin, related_name="documenttype_definition", on_delete=models.CASCADE)
    indexer = models.ForeignKey(
        Plugin, related_name="documenttype_indexer", on_delete=models.CASCADE)
    validators = models.ManyToManyField(
        Plugin, related_name="documenttype_validators", blank=True)
    retrieve_permissions = models.ManyToManyField(
        Plugin, related_name="documenttype_retrieve_permissions", blank=True)
    upload_permissions = models.ManyToManyField(
        Plugin, related_name="documenttype_upload_permissions", blank=True)


class Document(models.Model):
    document_type = models.ForeignKey(
        DocumentType, related_name="documents", on_delete=models.CASCADE)
    name = models.CharField(max_length=255, db_index=True)
    content_type = models.CharField(max_length=255)
    data = models.BinaryField()
    filesize = models.IntegerField()
    sha1 = models.CharField(max_length=40, db_index=True, unique=True)
    created_at = models.DateTimeField(default=None)
    modified_at = models.DateTimeField(default=None)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="documents_created", on_delete=models.PROTECT)
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="documents_modified", on_delete=models.PROTECT)

    class Meta:
        unique_together = ["document_type", "name"]


class DocumentIndex(models.Model):
    document = models.ForeignKey(Document, related_name="indices", on_delete=models.CASCADE)
    json = models.JSONField()
    # Jane: a PostGIS geography(GEOMETRYCOLLECTION, 4326).
    geometry = models.BinaryField(null=True, blank=True)


class DocumentIndexAttachment(models.Model):
    index = models.ForeignKey(DocumentIndex, related_name="attachments", on_delete=models.CASCADE)
    category = models.SlugField(max_length=50, db_index=True)
    content_type = models.CharField(max_length=255)
    data = models.BinaryField()
    created_at = models.DateTimeField(default=None)
    modified_at = models.DateTimeField(default=None)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="attachments_created", on_delete=models.PROTECT)
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="attachments_modified", on_delete=models.PROTECT)
