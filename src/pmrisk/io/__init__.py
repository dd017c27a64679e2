"""Readers (and later writers) of project files, one module per format."""

from pmrisk.io.load import load_project, read_project_data

__all__ = ["load_project", "read_project_data"]
