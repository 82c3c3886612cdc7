"""Gazetteers and entity extraction: countries, places, organisations and people in news text."""

from monitor.entities.extract import EntityExtractor, Mention, build_extractor

__all__ = ["EntityExtractor", "Mention", "build_extractor"]
