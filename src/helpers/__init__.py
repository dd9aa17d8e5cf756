"""Helpers behind the fazhi notebooks.

Each module owns one step of a one-way flow (see README, "Folder map"):
corpus -> clean -> structure/metadata -> segment/terms, quantities/indicators -> plots -> report.
"""

__version__ = "0.1.0"
