#!/usr/bin/env bash
# One-shot set-up run by the `airflow-init` service of docker-compose.yml, as root (like the official
# compose's airflow-init): folders and their owner, Airflow metadata migration, the admin login, pools,
# and a check that the connections given in the environment resolve. Safe to run again.
set -euo pipefail

if [[ -z "${AIRFLOW_UID:-}" ]]; then
  echo "WARNING: AIRFLOW_UID is not set; files on the volumes will belong to uid 50000." >&2
  echo "         On Linux put 'AIRFLOW_UID=$(id -u)' into .env next to docker-compose.yml." >&2
fi
uid="${AIRFLOW_UID:-50000}"

# Named volumes (logs, config, inbox, out) are written by every Airflow container, which run as
# ${AIRFLOW_UID}:0. The bind-mounted dags/ and plugins/ are only read, so they are left as they are
# on the host (the official script chowns them too; we would rather not touch a working copy).
mkdir -p /opt/airflow/{logs,config,inbox,out}
chown -R "${uid}:0" /opt/airflow/{logs,config,inbox,out}
chmod -R g+rwX /opt/airflow/{logs,config,inbox,out}

# Every airflow call goes through the image's /entrypoint: it waits for the metadata database and
# finds the airflow user's installation even though this script runs as root.
echo "Airflow metadata database: migrate"
/entrypoint airflow db migrate

# SimpleAuthManager (Airflow 3's default) keeps its passwords in a JSON file; the api-server reads it
# from the shared config volume (AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE). Writing it here
# gives a known password instead of a random one printed in the api-server log. Rewritten on every
# run, so changing _AIRFLOW_WWW_USER_PASSWORD and re-running airflow-init changes the login.
passwords_file="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-/opt/airflow/config/simple_auth_manager_passwords.json}"
username="${_AIRFLOW_WWW_USER_USERNAME:-airflow}"
password="${_AIRFLOW_WWW_USER_PASSWORD:-airflow}"
echo "Admin login: ${username} (password from _AIRFLOW_WWW_USER_PASSWORD)"
USERNAME="${username}" PASSWORD="${password}" python -c \
  'import json, os; print(json.dumps({os.environ["USERNAME"]: os.environ["PASSWORD"]}))' >"${passwords_file}"
# The api-server opens it read-write (it adds any user that lacks a password), so owner and group write.
chown "${uid}:0" "${passwords_file}"
chmod 0660 "${passwords_file}"

# A task in a pool that does not exist is never scheduled: create the DAGs' pools before they run.
export CONNECTION_CHECK_MAX_COUNT=0  # the database was checked above; skip the wait from here on
echo "Pools: import /opt/monitor/docker/pools.json"
/entrypoint airflow pools import /opt/monitor/docker/pools.json

# The connections live in the environment (AIRFLOW_CONN_MONITOR_DB, AIRFLOW_CONN_SMTP_DEFAULT), not in
# the metadata database: nothing to create, but fail here, loudly, if one is missing or malformed.
# Output is discarded because it would print the passwords.
for conn_id in monitor_db smtp_default; do
  if /entrypoint airflow connections get "${conn_id}" -o json >/dev/null 2>&1; then
    echo "Connection ${conn_id}: ok (from the environment)"
  else
    echo "ERROR: connection ${conn_id} does not resolve; check AIRFLOW_CONN_${conn_id^^}" >&2
    exit 1
  fi
done

echo "airflow-init done"
