from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpResponse, JsonResponse

from jane.documents.models import Document
from jane.waveforms.models import File


def plugins_version():
    # A user-installed package (pip install --user, i.e. ~/.local or $PYTHONUSERBASE): without the
    # right PYTHONUSERBASE every page fails, as the real Jane does without its plugins. Imported
    # here, not at module level, so that management commands (showmigrations, run by the runbook
    # engine's migrations_applied guard without the step's environment) work without it.
    import janeplugins

    return janeplugins.__version__


def _status():
    applied = MigrationRecorder(connection).applied_migrations()
    return {
        "database": connection.settings_dict["NAME"],
        "files": File.objects.count(),
        "documents": Document.objects.count(),
        "waveforms_migrations": sorted(name for app, name in applied if app == "waveforms"),
        "plugins": plugins_version(),
    }


def index(request):
    s = _status()
    rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in s.items())
    return HttpResponse(
        f"<html><head><title>Jane</title></head><body><h1>Jane</h1><table>{rows}</table>"
        f"</body></html>")


def health(request):
    return JsonResponse(_status())
