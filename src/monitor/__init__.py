"""Security media monitor: news in, classified and explained articles out, a daily digest for analysts."""

__version__ = "0.1.0"
