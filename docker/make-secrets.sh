#!/bin/sh
# The secret files docker/compose.yaml mounts: run once per deployment, keep a copy of
# docker/secrets/ with the database backups (without the keys a backup cannot be read or
# its checkpoints continued). Refuses to overwrite: a new KEK or ledger key is a rotation
# (`ebox admin kek rotate`, `ebox admin ledger-key rotate`), never a new file.
set -eu
dir="$(dirname "$0")/secrets"
umask 077
mkdir -p "$dir"
chmod 700 "$dir"
key() { python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'; }
for name in kek ledger_key api_token_key person_issuer_key; do
    [ -e "$dir/$name" ] && { echo "$dir/$name exists: not overwritten" >&2; continue; }
    key > "$dir/$name"
done
if [ ! -e "$dir/db_password" ]; then
    password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
    printf '%s\n' "$password" > "$dir/db_password"
    printf 'postgresql+psycopg2://ebox:%s@postgres:5432/ebox\n' "$password" > "$dir/database_url"
fi
# The operator's sealing certificate for the PDF certificates (production refuses to start
# without one). This one is self-signed: replace both files with the operator's CA-issued
# sealing certificate (PEM chain, sealing certificate first) and its key.
if [ ! -e "$dir/seal_cert" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
        -subj "/CN=eBox operator seal (self-signed: replace)/O=eBox operator/C=BE" \
        -addext "keyUsage=critical,digitalSignature,nonRepudiation" \
        -keyout "$dir/seal_key" -out "$dir/seal_cert" 2>/dev/null
fi
# Compose (without swarm) bind-mounts each file with its owner and mode: the containers'
# users (ebox 10001, postgres 999) must be able to read them. As root: owned by them, 0400.
# Otherwise 0444 inside this 0700 directory, which keeps the host's other users out.
if [ "$(id -u)" = 0 ]; then
    chown 999 "$dir/db_password"
    chown 10001 "$dir/database_url" "$dir/kek" "$dir/ledger_key" "$dir/api_token_key" \
        "$dir/person_issuer_key" "$dir/seal_cert" "$dir/seal_key"
    chmod 400 "$dir"/*
else
    chmod 444 "$dir"/*
fi
echo "secrets in $dir"
