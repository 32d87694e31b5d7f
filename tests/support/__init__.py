"""Helpers the tests share: records made the way users make them, fakes of the feature tables."""
