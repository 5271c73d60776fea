#!/usr/bin/env bash
# Install THUNES as a systemd service: a dedicated user, the code in /opt/thunes with its own
# virtualenv, settings in /etc/thunes/thunes.env (mode 0640), and the unit file.
# Usage: sudo scripts/install-service.sh [--prefix /opt/thunes]
set -euo pipefail

PREFIX=/opt/thunes
if [[ "${1:-}" == "--prefix" ]]; then PREFIX=$2; fi
SRC=$(cd "$(dirname "$0")/.." && pwd)

if [[ $EUID -ne 0 ]]; then
    echo "run as root (sudo $0)" >&2
    exit 1
fi

id thunes >/dev/null 2>&1 || useradd --system --home-dir "$PREFIX" --shell /usr/sbin/nologin thunes
mkdir -p "$PREFIX" /etc/thunes
rsync -a --delete --exclude .venv --exclude .git --exclude state --exclude logs "$SRC"/ "$PREFIX"/
python3 -m venv "$PREFIX/.venv"
"$PREFIX/.venv/bin/pip" install --quiet -r "$PREFIX/requirements.txt"
"$PREFIX/.venv/bin/pip" install --quiet --no-deps "$PREFIX"
if [[ ! -f /etc/thunes/thunes.env ]]; then
    install -m 0640 -g thunes "$SRC/.env.example" /etc/thunes/thunes.env
    echo "edit /etc/thunes/thunes.env (mode, keys, Telegram) before starting"
fi
sed "s#/opt/thunes#$PREFIX#g" "$SRC/thunes.service" > /etc/systemd/system/thunes.service
systemd-analyze verify /etc/systemd/system/thunes.service || true
systemctl daemon-reload
echo "installed; check with: sudo -u thunes $PREFIX/.venv/bin/thunes doctor --env-file /etc/thunes/thunes.env"
echo "then: systemctl enable --now thunes && journalctl -u thunes -f"
