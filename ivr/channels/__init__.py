"""Drivers that connect a phone line to the engine: the terminal phone today."""
