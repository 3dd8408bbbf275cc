"""Stand-in for the django-plugins package Jane uses (djangoplugins): plugin points and the
plugins registered under them. Jane's document types reference plugins by id, so their tables
are part of Jane's database. Kept in the project tree rather than in the user packages, so that
manage.py (showmigrations, run by the runbooks' guards without the user base) works without it."""
from django.db import models


class PluginPoint(models.Model):
    pythonpath = models.CharField(max_length=255)
    title = models.CharField(max_length=255)
    status = models.SmallIntegerField(default=0)  # 0 enabled, 1 disabled, 2 removed


class Plugin(models.Model):
    pythonpath = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255, null=True, blank=True)
    title = models.CharField(max_length=255, default="", blank=True)
    index = models.IntegerField(default=0)
    status = models.SmallIntegerField(default=0)
    point = models.ForeignKey(PluginPoint, on_delete=models.CASCADE)

    class Meta:
        unique_together = [("point", "name")]
