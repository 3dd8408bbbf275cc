"""Stand-in for Jane's waveform indexer: a long-running process that polls the database.

It keeps its database connection open between scans, as the real indexer does, so that it shows
up in pg_stat_activity. SIGHUP or SIGTERM (the seed stops indexers with `pkill --signal 1`) ends
it after the current scan."""
import signal
import time

from django.core.management.base import BaseCommand
from django.db import connection

from jane.waveforms.models import File, Path


class Command(BaseCommand):
    help = "Scan a waveform directory tree and keep the database index in sync (sandbox)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default="/data/waveforms")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between scans")

    def handle(self, *args, **options):
        stop = []
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: stop.append(signum))
        self.stdout.write(f"indexing {options['path']} every {options['interval']}s", ending="\n")
        self.stdout.flush()
        scans = 0
        while not stop:
            newest = Path.objects.order_by("-mtime").values_list("mtime", flat=True).first()
            files = File.objects.filter(path__name__startswith=options["path"]).count()
            scans += 1
            if scans == 1 or scans % 30 == 0:
                self.stdout.write(f"scan {scans}: {files} files, newest path {newest}")
                self.stdout.flush()
            deadline = time.monotonic() + options["interval"]
            while not stop and time.monotonic() < deadline:
                time.sleep(0.1)
        connection.close()
        self.stdout.write(f"stopped by signal {stop[0]} after {scans} scans")
