"""The package's own exception for invalid settings."""


class ConfigError(ValueError):
    """An optimizer hyperparameter or variant flag is outside its allowed range."""
