from django.apps import AppConfig


class WaveformsConfig(AppConfig):
    name = "jane.waveforms"
    label = "waveforms"
