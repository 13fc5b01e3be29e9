# The django-migration-review GitHub Action: `migration-review github` with its own Python
# environment, git, and the PostgreSQL 17 server binaries for the embedded scratch cluster.
FROM debian:trixie-slim

ARG PG_MAJOR=17

ENV DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PATH=/usr/lib/postgresql/${PG_MAJOR}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Docs, man pages and translations are dead weight in an action image; postgresql-common would
# otherwise create (and keep in the image) a "main" cluster the action never starts: the tool
# runs its own throwaway cluster as the unprivileged "postgres" user the package creates.
# The workspace is mounted from the runner and owned by another uid than the container's root:
# git must accept it (safe.directory).
# Versions are not pinned: the Debian suite is the pin, and its point releases carry the fixes.
# hadolint ignore=DL3008
RUN printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
        'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' \
        'path-exclude /usr/share/lintian/*' \
        > /etc/dpkg/dpkg.cfg.d/migration-review-slim \
    && mkdir -p /etc/postgresql-common/createcluster.d \
    && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/no-main.conf \
    && apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates git "postgresql-${PG_MAJOR}" python3 python3-venv \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log \
    && initdb --version \
    && id postgres \
    && git config --system --add safe.directory '*'

COPY pyproject.toml README.md LICENSE /tmp/src/
COPY bot /tmp/src/bot

# The bot's own environment; the reviewed project gets a separate one at run time
# (bot/project_env.py), so the two sets of dependencies never meet.
RUN python3 -m venv /opt/migration-review \
    && /opt/migration-review/bin/pip install /tmp/src \
    && /opt/migration-review/bin/pip uninstall -y pip \
    && rm -rf /tmp/src \
    && ln -s /opt/migration-review/bin/migration-review /usr/local/bin/migration-review \
    && migration-review --version

ENV MIGRATION_REVIEW_CONTAINER=1

ENTRYPOINT ["migration-review", "github"]
