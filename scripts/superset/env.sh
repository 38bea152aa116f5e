# Sourced by scripts/superset/*.sh: the environment Superset runs with (config, home, secret).
# Expects HOME_DIR (the Superset home folder) to be set.
export SUPERSET_HOME=$HOME_DIR
export SUPERSET_CONFIG_PATH=${SUPERSET_CONFIG_PATH:-$HOME_DIR/superset_config.py}
if [ ! -f "$HOME_DIR/secret_key" ]; then
  (umask 077 && head -c 32 /dev/urandom | base64 >"$HOME_DIR/secret_key")
fi
SUPERSET_SECRET_KEY=$(cat "$HOME_DIR/secret_key")
export SUPERSET_SECRET_KEY
cp "$(dirname "${BASH_SOURCE[0]}")/superset_config.py" "$HOME_DIR/superset_config.py"
export DO_NOT_TRACK=1 SUPERSET_LOAD_EXAMPLES=no
