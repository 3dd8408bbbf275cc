"""Stand-in for the packages the real Jane installs with `pip install --user` (djangoplugins and
friends). The sandbox installs it into the production user base (~/.local); the clone copies it."""
__version__ = "1.2.0"
