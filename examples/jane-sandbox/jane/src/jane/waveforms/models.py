"""The waveform tables of Jane (trimmed): paths on disk, files in them, traces in the files."""
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class Path(models.Model):
    name = models.CharField(max_length=255, unique=True, db_index=True)
    ctime = models.DateTimeField()
    mtime = models.DateTimeField()


class File(models.Model):
    path = models.ForeignKey(Path, related_name="files", on_delete=models.CASCADE)
    name = models.CharField(max_length=255, db_index=True)
    size = models.IntegerField()
    ctime = models.DateTimeField()
    mtime = models.DateTimeField()
    format = models.CharField(max_length=255, db_index=True, null=True, blank=True)
    gaps = models.IntegerField(default=0, db_index=True)
    overlaps = models.IntegerField(default=0, db_index=True)

    class Meta:
        unique_together = ["path", "name"]


class ContinuousTrace(models.Model):
    file = models.ForeignKey(File, related_name="traces", on_delete=models.CASCADE)
    pos = models.IntegerField(default=0)
    network = models.CharField(max_length=2, db_index=True, blank=True)
    station = models.CharField(max_length=5, db_index=True, blank=True)
    location = models.CharField(max_length=2, db_index=True, blank=True)
    channel = models.CharField(max_length=3, db_index=True, blank=True)
    starttime = models.DateTimeField(db_index=True)
    endtime = models.DateTimeField(db_index=True)
    duration = models.FloatField(db_index=True)
    calib = models.FloatField(default=1.0)
    sampling_rate = models.FloatField()
    npts = models.IntegerField()
    quality = models.CharField(max_length=1, null=True, blank=True)
    preview = ArrayField(models.FloatField(), null=True, blank=True)

    class Meta:
        unique_together = [
            "file", "network", "station", "location", "channel", "starttime", "endtime"]


class Mapping(models.Model):
    timerange_start = models.DateTimeField()
    timerange_end = models.DateTimeField()
    network = models.CharField(max_length=2)
    station = models.CharField(max_length=5)
    location = models.CharField(max_length=2)
    channel = models.CharField(max_length=3)
    new_network = models.CharField(max_length=2)
    new_station = models.CharField(max_length=5)
    new_location = models.CharField(max_length=2)
    new_channel = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)


class Restriction(models.Model):
    network = models.CharField(max_length=2, db_index=True)
    station = models.CharField(max_length=5, db_index=True)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        unique_together = ["network", "station"]
