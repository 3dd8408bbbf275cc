"""Rebuild the JSON indices of documents from their stored data.

The real Jane has no such command (the seed: "download all documents, delete them on server and
upload them again"); the sandbox has one so that the reindex step does real work: it recomputes
every index of the given document types inside one transaction."""
import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from jane.documents.models import Document, DocumentIndex, DocumentType


class Command(BaseCommand):
    help = "Recompute documents_documentindex rows for the given document types (default: all)."

    def add_arguments(self, parser):
        parser.add_argument("document_types", nargs="*")

    def handle(self, *args, **options):
        names = options["document_types"] or list(
            DocumentType.objects.values_list("name", flat=True))
        unknown = set(names) - set(DocumentType.objects.values_list("name", flat=True))
        if unknown:
            raise CommandError(f"unknown document type(s): {', '.join(sorted(unknown))}")
        with transaction.atomic():
            for name in names:
                docs = Document.objects.filter(document_type_id=name)
                DocumentIndex.objects.filter(document__document_type_id=name).delete()
                count = 0
                for doc in docs.only("id", "name", "filesize", "sha1").iterator():
                    DocumentIndex.objects.create(document=doc, json={
                        "name": doc.name, "size": doc.filesize, "sha1": doc.sha1,
                        "reindexed": True})
                    count += 1
                self.stdout.write(f"{name}: reindexed {count} documents")
        self.stdout.write(json.dumps({"document_types": names}))
