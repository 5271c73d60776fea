#!/usr/bin/env bash
# Install THUNES as a systemd service: a dedicated user, the code in /opt/thunes with its own
# virtualenv, settings in /etc/thunes/thunes.env (mode 0640), and the unit file.
#
# The settings file is where the daemon AND the operator's commands (`thunes kill --env-file
# /etc/thunes/thunes.env`, ...) read their settings, so its THUNES_STATE_DIR and THUNES_LOG_DIR
# are always set to the unit's absolute directories (an EnvironmentFile= overrides the unit's
# Environment=): a relative `state` there would split the daemon and the commands apart.
#
# Usage: sudo scripts/install-service.sh [--prefix DIR] [--env-file FILE]
#        scripts/install-service.sh --root DIR [--prefix DIR] [--env-file FILE]
#   --prefix DIR    where the code goes (default /opt/thunes)
#   --env-file FILE settings to start from when /etc/thunes/thunes.env does not exist yet
#                   (default: the checkout's .env if present, else .env.example)
#   --root DIR      stage the files under DIR instead of /, for packaging or checking: no user,
#                   no virtualenv, no systemctl, and no root needed
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/opt/thunes
ROOT=
SEED=
ENV_FILE=/etc/thunes/thunes.env
UNIT_FILE=/etc/systemd/system/thunes.service

die() { echo "install-service.sh: $*" >&2; exit 2; }

while (($#)); do
    case $1 in
        --prefix) PREFIX=${2:-}; [[ -n $PREFIX ]] || die "--prefix needs a directory"; shift 2 ;;
        --root) ROOT=${2:-}; [[ -n $ROOT ]] || die "--root needs a directory"; shift 2 ;;
        --env-file) SEED=${2:-}; [[ -f $SEED ]] || die "--env-file: no such file: $SEED"; shift 2 ;;
        -h | --help) sed -n '2,16s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) die "unknown option: $1 (see --help)" ;;
    esac
done
[[ $PREFIX == /* ]] || die "--prefix must be an absolute path: $PREFIX"
if [[ -n $ROOT ]]; then
    mkdir -p "$ROOT"
    ROOT=$(cd "$ROOT" && pwd)
    ROOT=${ROOT%/}
elif [[ $EUID -ne 0 ]]; then
    echo "run as root (sudo $0), or stage the files with --root DIR" >&2
    exit 1
fi
if [[ -z $SEED ]]; then
    SEED="$SRC/.env.example"
    [[ -f $SRC/.env ]] && SEED="$SRC/.env"
fi

# The unit's own directories: the settings file must name exactly these.
unit_env() { sed -n "s/^Environment=$1=//p" "$SRC/thunes.service" | tail -n 1; }
STATE_DIR=$(unit_env THUNES_STATE_DIR)
LOG_DIR=$(unit_env THUNES_LOG_DIR)
[[ $STATE_DIR == /* && $LOG_DIR == /* ]] ||
    die "thunes.service must set absolute THUNES_STATE_DIR and THUNES_LOG_DIR"

# Print FILE with THUNES_STATE_DIR / THUNES_LOG_DIR set to the unit's directories.
pin_dirs() {
    awk -v state="$STATE_DIR" -v logs="$LOG_DIR" '
        function pin(name, value) {
            if (!(name in done)) {
                if (prev !~ /^# Under systemd/)
                    print "# Under systemd this must stay the unit'"'"'s directory (install-service.sh sets it)"
                print name "=" value
            }
            done[name] = 1
        }
        /^[[:space:]]*THUNES_STATE_DIR[[:space:]]*=/ { pin("THUNES_STATE_DIR", state); prev = $0; next }
        /^[[:space:]]*THUNES_LOG_DIR[[:space:]]*=/ { pin("THUNES_LOG_DIR", logs); prev = $0; next }
        { print; prev = $0 }
        END {
            if (!("THUNES_STATE_DIR" in done)) pin("THUNES_STATE_DIR", state)
            if (!("THUNES_LOG_DIR" in done)) pin("THUNES_LOG_DIR", logs)
        }' "$1"
}

# Say which of the two settings an existing file had differently.
report_changes() {
    local name want had
    for name in THUNES_STATE_DIR THUNES_LOG_DIR; do
        want=$([[ $name == THUNES_STATE_DIR ]] && echo "$STATE_DIR" || echo "$LOG_DIR")
        had=$(sed -n "s/^[[:space:]]*$name[[:space:]]*=[[:space:]]*//p" "$1" | tail -n 1)
        [[ $had == "$want" ]] || echo "$ENV_FILE: $name was '${had:-unset}', now $want (the unit's)"
    done
}

write_env_file() {
    local target="$ROOT$ENV_FILE" pinned
    pinned=$(mktemp)
    if [[ -f $target ]]; then
        report_changes "$target"
        pin_dirs "$target" > "$pinned"
        cat "$pinned" > "$target" # keeps the file's owner, group and mode
    else
        pin_dirs "$SEED" > "$pinned"
        if [[ -n $ROOT ]]; then
            install -m 0640 "$pinned" "$target"
        else
            install -m 0640 -g thunes "$pinned" "$target"
        fi
        echo "wrote $ENV_FILE from $SEED: edit it (mode, keys, Telegram) before starting"
    fi
    rm -f "$pinned"
}

copy_code() {
    # The code only: no virtualenv, history, local state, caches or the checkout's .env (secrets;
    # the daemon would also read it from its working directory behind the settings file's back).
    rm -rf "$ROOT$PREFIX/src"
    tar -C "$SRC" -cf - \
        --exclude=./.venv --exclude=./.git --exclude=./state --exclude=./logs --exclude=./.env \
        --exclude=__pycache__ --exclude=.mypy_cache --exclude=.pytest_cache \
        --exclude=.ruff_cache --exclude=.hypothesis . | tar -C "$ROOT$PREFIX" -xf -
}

if [[ -z $ROOT ]]; then
    id thunes >/dev/null 2>&1 ||
        useradd --system --home-dir "$PREFIX" --shell /usr/sbin/nologin thunes
fi
mkdir -p "$ROOT$PREFIX" "$ROOT/etc/thunes" "$ROOT/etc/systemd/system"
copy_code
if [[ -z $ROOT ]]; then
    python3 -m venv "$PREFIX/.venv"
    "$PREFIX/.venv/bin/pip" install --quiet -r "$PREFIX/requirements.txt" \
        -c "$PREFIX/constraints.txt"
    "$PREFIX/.venv/bin/pip" install --quiet --no-deps "$PREFIX"
fi
write_env_file
sed "s#/opt/thunes#$PREFIX#g" "$SRC/thunes.service" > "$ROOT$UNIT_FILE"
if [[ -n $ROOT ]]; then
    echo "staged under $ROOT (no user, virtualenv or systemctl)"
    exit 0
fi
systemd-analyze verify "$UNIT_FILE" || true
systemctl daemon-reload
echo "installed; check with: sudo -u thunes $PREFIX/.venv/bin/thunes doctor --env-file $ENV_FILE"
echo "then: systemctl enable --now thunes && journalctl -u thunes -f"
echo "operator commands: sudo -u thunes $PREFIX/.venv/bin/thunes status --env-file $ENV_FILE"
