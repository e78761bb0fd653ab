"""The contact center's pure rules: no I/O, nothing but values in and values out.

``lifecycle`` holds the one transition table of queue entries, agents and callbacks.
"""
