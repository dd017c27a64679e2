"""``python -m pmrisk`` is the ``pmrisk`` command."""

from pmrisk.cli import main

if __name__ == "__main__":
    main()
