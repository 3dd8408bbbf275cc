"""The document tables of Jane (trimmed): types, documents, their JSON indices and attachments."""
from django.conf import settings
from django.db import models


class DocumentType(models.Model):
    name = models.SlugField(max_length=20, primary_key=True)
    definition = models.CharField(max_length=255)
    indexer = models.CharField(max_length=255, blank=True)


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


class DocumentIndexAttachment(models.Model):
    index = models.ForeignKey(DocumentIndex, related_name="attachments", on_delete=models.CASCADE)
    category = models.SlugField(max_length=20, db_index=True)
    content_type = models.CharField(max_length=255)
    data = models.BinaryField()
    created_at = models.DateTimeField(default=None)
    modified_at = models.DateTimeField(default=None)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="attachments_created", on_delete=models.PROTECT)
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="attachments_modified", on_delete=models.PROTECT)
