"""The monitor's pages inside the Airflow UI: stored digests and a search over processed articles."""
