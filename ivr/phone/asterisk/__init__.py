"""Asterisk for the hotline: its generated configuration, Debian's Asterisk 22 unpacked into
a cache folder (``provision``), and a private running Asterisk for trying and testing
(``sandbox``)."""
