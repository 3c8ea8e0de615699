"""Root conftest: pytester drives the plugin's own tests through real pytest runs."""

pytest_plugins = ["pytester"]
