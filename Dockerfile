# The monitor on the official Apache Airflow image, extended the documented way
# (https://airflow.apache.org/docs/docker-stack/build.html): Airflow, the Celery executor and the
# providers come with the image; this adds the monitor package, pinned by constraints.txt, and its SQL
# migrations. DAGs and plugins are not baked in: docker-compose.yml bind-mounts dags/ and plugins/,
# like the official compose file.
#
# The python3.11 variant because constraints.txt was frozen on Python 3.11.
FROM apache/airflow:3.3.2-python3.11

USER root
# /opt/monitor holds the build inputs and the migrations; inbox/ and out/ exist in the image so that a
# fresh named volume mounted there starts with these owners. Group 0 with group write: the containers
# run as ${AIRFLOW_UID}:0, whatever uid that is (the image's OpenShift-style convention).
RUN mkdir -p /opt/monitor /opt/airflow/inbox /opt/airflow/out \
 && chown -R airflow:0 /opt/monitor /opt/airflow/inbox /opt/airflow/out \
 && chmod -R g+rwX /opt/monitor /opt/airflow/inbox /opt/airflow/out

USER airflow
# README.md: pyproject.toml names it as the readme, and the build fails without it.
COPY --chown=airflow:0 pyproject.toml constraints.txt README.md /opt/monitor/
COPY --chown=airflow:0 src/ /opt/monitor/src/
COPY --chown=airflow:0 sql/ /opt/monitor/sql/
COPY --chown=airflow:0 docker/ /opt/monitor/docker/

# "apache-airflow==${AIRFLOW_VERSION}" (AIRFLOW_VERSION is set by the base image) keeps pip from
# moving Airflow itself, as the official docs ask; -c constraints.txt pins every other dependency to
# the versions the test suite ran with. pip check fails the build, not a task at run time, when a
# pinned version disagrees with something the image already had.
RUN pip install --no-cache-dir -c /opt/monitor/constraints.txt \
        "apache-airflow==${AIRFLOW_VERSION}" /opt/monitor \
 && pip check

# The package is installed into site-packages, so its default (<repo>/sql) does not exist here.
ENV MONITOR_MIGRATIONS=/opt/monitor/sql
