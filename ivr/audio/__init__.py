"""Prompt audio: what a prompt sounds like on a phone line, and rendering it to WAV."""
