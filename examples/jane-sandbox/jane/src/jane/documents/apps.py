from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "jane.documents"
    label = "documents"
