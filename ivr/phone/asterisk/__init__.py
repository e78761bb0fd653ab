"""Asterisk as a phone system: the AGI protocol (pure), the blocking line and its driver,
the FastAGI server and its route table, callback call files, the generated configuration
and Debian's Asterisk 22 unpacked into a cache folder (``provision``). ``channel.py`` is
what the composition root sees of it; the private sandbox Asterisk, which needs the whole
hotline, is ``ivr.app.asterisk_sandbox``."""
