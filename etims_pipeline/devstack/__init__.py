"""The local development stack: supervising the sandbox, dagster-webserver and dagster-daemon processes."""
