"""The waveform tables of Jane: directories on disk (keyed by their path string), the files in
them, the continuous traces in the files, and the mapping and restriction rules. Fields, types,
keys and the migrations' column order are Jane's own (see the sandbox README)."""
from django.conf import settings
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField
from django.db import models


class Path(models.Model):
    name = models.CharField(max_length=255, primary_key=True)
    ctime = models.DateTimeField()
    mtime = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)


class File(models.Model):
    path = models.ForeignKey(Path, related_name="files", on_delete=models.CASCADE)
    name = models.CharField(max_length=255, db_index=True)
    size = models.IntegerField()
    gaps = models.IntegerField(default=0, db_index=True)
    overlaps = models.IntegerField(default=0, db_index=True)
    format = models.CharField(max_length=255, db_index=True, null=True, blank=True)
    ctime = models.DateTimeField()
    mtime = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = ["path", "name"]


class ContinuousTrace(models.Model):
    file = models.ForeignKey(File, related_name="traces", on_delete=models.CASCADE)
    pos = models.IntegerField(default=0)
    network = models.CharField(max_length=2, db_index=True, blank=True)
    station = models.CharField(max_length=5, db_index=True, blank=True)
    location = models.CharField(max_length=2, db_index=True, blank=True)
    channel = models.CharField(max_length=3, db_index=True, blank=True)
    original_network = models.CharField(max_length=2, blank=True)
    original_station = models.CharField(max_length=5, blank=True)
    original_location = models.CharField(max_length=2, blank=True)
    original_channel = models.CharField(max_length=3, blank=True)
    timerange = DateTimeRangeField(db_index=True)
    duration = models.FloatField(db_index=True)
    sampling_rate = models.FloatField()
    npts = models.IntegerField()
    preview_trace = ArrayField(models.FloatField(), null=True)
    quality = models.CharField(max_length=1, db_index=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = [
            "file", "network", "station", "location", "channel", "timerange"]


class Mapping(models.Model):
    timerange = DateTimeRangeField(db_index=True)
    network = models.CharField(max_length=2, db_index=True)
    station = models.CharField(max_length=5, db_index=True)
    location = models.CharField(max_length=2, db_index=True)
    channel = models.CharField(max_length=3, db_index=True)
    new_network = models.CharField(max_length=2)
    new_station = models.CharField(max_length=5)
    new_location = models.CharField(max_length=2)
    new_channel = models.CharField(max_length=3)
    full_path_regex = models.CharField(max_length=255, default="^.*$")
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="mappings_created",
        on_delete=models.SET_NULL)
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="mappings_modified",
        on_delete=models.SET_NULL)


class Restriction(models.Model):
    network = models.CharField(max_length=2, db_index=True)
    station = models.CharField(max_length=5, db_index=True)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="restrictions")
    comment = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="restrictions_created",
        on_delete=models.SET_NULL)
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="restrictions_modified",
        on_delete=models.SET_NULL)
