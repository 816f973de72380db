"""``python -m backend COMMAND``: the app's commands without the Flask CLI (see :func:`backend.cli.main`)."""

from backend.cli import main

main()
