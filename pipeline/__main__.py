"""``python -m pipeline`` is the ``geopark`` command."""

from pipeline.cli.main import cli

if __name__ == "__main__":
    cli()
