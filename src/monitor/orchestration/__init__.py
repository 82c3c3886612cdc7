"""Glue between Airflow and the pipeline: what DAG tasks call, and the inbox event trigger.

DAG files stay declarations; every task body is one call into `tasks`. Nothing here is imported at a
DAG file's top level, so parsing DAGs never touches the database or heavy libraries.
"""
