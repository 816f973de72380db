"""Services: the operations the API, the jobs and the CLI share."""
