#!/bin/bash
# ha-masters start-up script for a Debian 12 master VM (docs/vm-contract.md, "Start-up keys" and
# "Files and units on a Debian 12 master"). GCE's guest agent runs it as root on every boot, so every
# step is idempotent: a reboot with data on the disk only starts the services again.
# Needs bash, curl, coreutils, tar, gzip, e2fsprogs, util-linux, systemd, openssl (no jq, no python).
#
# Test hooks (environment): HA_METADATA_URL, HA_SECRETMANAGER_URL, HA_STORAGE_URL, HA_ROOT (prefix of every path
# written), HA_DISK_DEV, HA_DISK_WAIT_SECONDS, HA_DOWNLOAD_ATTEMPTS, HA_SECRET_ATTEMPTS, HA_BACKOFF_MS,
# HA_BACKOFF_MAX_MS, HA_POLL_SECONDS, HA_WORK (scratch dir for the metadata values; default a fresh
# one under /run, removed at exit).
#
# kube-env keys ENABLE_ETCD_QUORUM_READ and MULTIZONE are only recorded: no flag of v1.34 takes
# them (docs/vm-contract.md, "Old flags in current Kubernetes", has the history and references).

set -Eeuo pipefail
PATH=$PATH:/usr/sbin:/sbin # mkfs.ext4, blkid
# `cmd | put FILE` must run put in this shell: it records changed files in CHANGED.
shopt -s lastpipe
# $(...) keeps errexit (bash clears it there by default).
shopt -s inherit_errexit

MD=${HA_METADATA_URL:-http://metadata.google.internal/computeMetadata/v1}
SM=${HA_SECRETMANAGER_URL:-https://secretmanager.googleapis.com}
GCS=${HA_STORAGE_URL:-https://storage.googleapis.com}
R=${HA_ROOT:-}
ETC=$R/etc/ha-masters
PKI=$ETC/pki
BIN=$R/opt/ha-masters/bin
UNITS=$R/etc/systemd/system
CACHE=$R/var/cache/ha-masters
MNT=$R/mnt/disks/master-pd
ETCD_DATA=$MNT/var/etcd/data
ETCD_ENV=$ETC/etcd.env
FORCE_NONCE='' # set at boot when the action asks for --force-new-cluster (force_new_cluster_nonce)
RESTORE=''     # set at boot when the action asks for a restore from a snapshot (restore_request)
DISK_WAIT=${HA_DISK_WAIT_SECONDS:-60}
ATTEMPTS=${HA_DOWNLOAD_ATTEMPTS:-8}
SECRET_ATTEMPTS=${HA_SECRET_ATTEMPTS:-5}
BACKOFF_MS=${HA_BACKOFF_MS:-2000}
BACKOFF_MAX_MS=${HA_BACKOFF_MAX_MS:-60000}
POLL=${HA_POLL_SECONDS:-5}
UNIT_NAMES=(ha-etcd.service ha-kube-apiserver.service ha-kube-controller-manager.service ha-kube-scheduler.service ha-readyz.socket)

# Set by main (tests set them by hand): VM name, internal IP, scratch dir holding the metadata.
VM=${VM:-}
IP=${IP:-}
WORK=${HA_WORK:-}
WORK_TMP=
CHANGED=()   # files whose content changed in this run: their units get restarted

# Progress goes to the original stdout (fd 3), also from inside $(...).
exec 3>&1
log() { printf 'ha-masters-startup: %s\n' "$*" >&3; }

# Guest attribute ha-masters/startup. Best effort: the outcome is on the serial console too.
set_status() {
  curl -sS -o /dev/null --max-time 10 -X PUT -H 'Metadata-Flavor: Google' --data-binary "$1" \
    "$MD/instance/guest-attributes/ha-masters/startup" 2>/dev/null || true
}

step() { log "$1"; set_status "running: $1"; }

# fail WHY: also from a subshell; the reason is kept in $WORK so the caller's ERR trap repeats it
# instead of a generic one.
fail() {
  trap - ERR
  if [[ -n $WORK ]]; then
    [[ -s $WORK/failure && $(<"$WORK/failure") == "$1" ]] && exit 1 # a subshell reported it already
    printf '%s' "$1" >"$WORK/failure" 2>/dev/null || true
  fi
  log "failed: $1"
  set_status "failed: $1"
  exit 1
}

# ERR trap. In a subshell it only ends that: the caller reports if the failure matters to it.
on_err() {
  local why=$1
  ((BASH_SUBSHELL == 0)) || exit 1
  [[ -n $WORK && -s $WORK/failure ]] && why=$(<"$WORK/failure")
  fail "$why"
}

sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# retry_pause STEP WHY MAX: reports a failed attempt and sleeps, advancing the caller's `attempt`
# and `delay` (bash's dynamic scope). The action reads the status while it waits.
retry_pause() {
  log "$2 (attempt $attempt of $3), retrying in ${delay} ms"
  set_status "running: $1 ($2, attempt $attempt of $3)"
  sleep_ms "$delay"
  attempt=$((attempt + 1))
  delay=$((delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2))
}

# --- flat YAML (kube-up's `KEY: 'value'` lines; '' is a quote inside single quotes) -------------

# kv_get KEY < file: prints the value (the last line for KEY wins), status 1 when KEY is absent.
kv_get() {
  local line v found=1 out=
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*):[[:space:]]*(.*)$ ]] || continue
    [[ ${BASH_REMATCH[1]} == "$1" ]] || continue
    v=${BASH_REMATCH[2]}
    v=${v%"${v##*[![:space:]]}"}
    if [[ ${#v} -ge 2 && $v == \'*\' ]]; then
      v=${v:1:${#v}-2}
      v=${v//\'\'/\'}
    elif [[ ${#v} -ge 2 && $v == \"*\" ]]; then
      v=${v:1:${#v}-2}
    fi
    out=$v found=0
  done
  printf '%s' "$out"
  return "$found"
}

# kv FILE KEY [DEFAULT]: the value, the default when absent or empty.
kv() {
  local v
  v=$(kv_get "$2" <"$1") || true
  printf '%s' "${v:-${3:-}}"
}

# --- metadata server --------------------------------------------------------------------------

# md_fetch PATH OUT: prints the HTTP code (000 when the server did not answer).
md_fetch() {
  curl -sS -o "$2" -w '%{http_code}' --max-time 75 -H 'Metadata-Flavor: Google' "$MD/$1" 2>/dev/null || true
}

# md_get PATH OUT: a value that must exist; the metadata server may be briefly away early in boot.
md_get() {
  local code i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    code=$(md_fetch "$1" "$2")
    [[ $code == 200 ]] && return 0
    [[ $code == 404 ]] && fail "metadata $1 not set"
    sleep "$POLL"
  done
  fail "metadata $1: HTTP $code after $i tries"
}

# md_optional PATH OUT: 0 with the value in OUT, 1 when the key is not set (404). Any other answer
# (no answer, 5xx) is retried as md_get does, then fails the start-up: a key that asks for a
# recovery must never be taken as absent because the metadata server was briefly away.
md_optional() {
  local code i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    code=$(md_fetch "$1" "$2")
    [[ $code == 200 ]] && return 0
    [[ $code == 404 ]] && return 1
    sleep "$POLL"
  done
  fail "metadata $1: HTTP $code after $i tries"
}

read_metadata() {
  # Secrets stay in memory (/run is a tmpfs) and go at exit (see main).
  if [[ -z $WORK ]]; then
    WORK=$(mktemp -d "${R:-/run}/ha-masters-work.XXXXXX")
    WORK_TMP=1
  fi
  chmod 700 "$WORK"
  md_get instance/name "$WORK/name"
  md_get instance/network-interfaces/0/ip "$WORK/ip"
  VM=$(<"$WORK/name") IP=$(<"$WORK/ip")
  [[ -n $VM && $IP =~ ^[0-9.]+$ ]] || fail "metadata: bad instance name or IP"
  md_get instance/attributes/kube-env "$WORK/kube-env"
  md_get instance/attributes/kube-master-certs "$WORK/kube-master-certs"
  md_get instance/attributes/ha-masters-release "$WORK/release"
}

# The action sets etcd-member-certs right after the insert (it needs the internal IP). A plain GET
# first: wait_for_change without an etag blocks even when the key is already there (a reboot).
wait_member_certs() {
  local out=$WORK/etcd-member-certs code since=$SECONDS
  while :; do
    code=$(md_fetch instance/attributes/etcd-member-certs "$out")
    [[ $code == 200 ]] && return 0
    code=$(md_fetch 'instance/attributes/etcd-member-certs?wait_for_change=true&timeout_sec=60' "$out")
    [[ $code == 200 ]] && return 0
    if ((SECONDS - since >= 30)); then
      log "still waiting for etcd-member-certs (last answer HTTP $code)"
      since=$SECONDS
    fi
    # A 404 may come back at once (or the server is away): do not spin.
    sleep "$POLL"
  done
}

# --- data disk ----------------------------------------------------------------------------------

# blkid -p: 0 = something found, 2 = nothing (but also: cannot open), 8 = ambivalent.
has_filesystem() {
  local rc=0
  blkid -p "$1" >/dev/null 2>&1 || rc=$?
  case $rc in
    0 | 8) return 0 ;;
    2) return 1 ;;
    *) fail "blkid $1 failed ($rc)" ;;
  esac
}

prepare_disk() {
  local dev=${HA_DISK_DEV:-/dev/disk/by-id/google-$VM-pd} waited=0
  until [[ -e $dev ]]; do
    ((waited < DISK_WAIT)) || fail "data disk not found"
    sleep 1
    waited=$((waited + 1))
  done
  # Format only a disk that holds nothing (kube-up's safe_format_and_mount); an unreadable disk also
  # looks empty to blkid, so prove it is readable first.
  if ! has_filesystem "$dev"; then
    dd if="$dev" of=/dev/null bs=4096 count=1 status=none 2>/dev/null || fail "data disk unreadable"
    log "formatting $dev (ext4)"
    mkfs.ext4 -q -F -m 0 -E lazy_itable_init=0,lazy_journal_init=0,discard "$dev" || fail "data disk mkfs failed"
  fi
  mkdir -p "$MNT"
  if ! mountpoint -q "$MNT"; then
    mount -o discard,defaults "$dev" "$MNT" || fail "data disk mount failed"
  fi
  mkdir -p "$ETCD_DATA"
  chmod 0700 "$ETCD_DATA"
}

# --- binaries -----------------------------------------------------------------------------------

# parse_manifest < release: validated lines `artifact version algorithm digest url`.
parse_manifest() {
  local line a v alg d u extra
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    read -r a v alg d u extra <<<"$line"
    [[ -n $u && -z $extra ]] || fail "ha-masters-release: bad line: $line"
    [[ $a == kubernetes-server || $a == etcd ]] || fail "ha-masters-release: unknown artifact $a"
    [[ $v =~ ^v?[0-9A-Za-z.+-]+$ ]] || fail "ha-masters-release: bad version $v"
    case $alg in
      sha256) [[ $d =~ ^[0-9a-f]{64}$ ]] || fail "ha-masters-release: bad $a sha256" ;;
      sha512) [[ $d =~ ^[0-9a-f]{128}$ ]] || fail "ha-masters-release: bad $a sha512" ;;
      *) fail "ha-masters-release: unsupported algorithm $alg" ;;
    esac
    [[ $u =~ ^https?:// ]] || fail "ha-masters-release: bad url $u"
    printf '%s %s %s %s %s\n' "$a" "$v" "$alg" "$d" "$u"
  done
}

# The archive members (upstream layouts) and the binary names they install.
artifact_members() {
  case $1 in
    kubernetes-server) printf 'kubernetes/server/bin/%s\n' kube-apiserver kube-controller-manager kube-scheduler ;;
    etcd)
      printf "etcd-$2-linux-amd64/%s\n" etcd etcdctl
      # etcdutl (offline snapshot restore) ships from 3.5 on; 3.6's etcdctl no longer restores.
      if [[ $2 =~ ^v?([0-9]+)\.([0-9]+) ]] && ((BASH_REMATCH[1] > 3 || (BASH_REMATCH[1] == 3 && BASH_REMATCH[2] >= 5))); then
        printf 'etcd-%s-linux-amd64/etcdutl\n' "$2"
      fi
      ;;
  esac
}

verify_digest() { # ALG DIGEST FILE; sets `got`
  got=$("$1sum" <"$3") || return 1
  got=${got%% *}
  [[ $got == "$2" ]]
}

# fetch_artifact NAME ALG DIGEST URL OUT: download with bounded exponential back-off; a file whose
# digest is wrong is deleted at once and never reaches tar. The same wrong file twice is what the
# mirror serves, not a damaged download: no retry mends that.
fetch_artifact() {
  local name=$1 alg=$2 digest=$3 url=$4 out=$5 attempt=1 delay=$BACKOFF_MS why got seen=
  while :; do
    rm -f "$out"
    if curl -fsSL --connect-timeout 10 --max-time 900 -o "$out" "$url"; then
      verify_digest "$alg" "$digest" "$out" && return 0
      why="$name $alg mismatch"
      [[ $got == "$seen" ]] && rm -f "$out" && fail "$why (the mirror serves ${got:0:16}... every time)"
      seen=$got
    else
      why="$name download failed"
    fi
    rm -f "$out"
    ((attempt < ATTEMPTS)) || fail "$why"
    retry_pause "installing binaries" "$why" "$ATTEMPTS"
  done
}

# install_artifact LINE: skipped when the marker holds the same manifest line (a reboot).
install_artifact() {
  local a v alg d u marker members=() m tmp
  read -r a v alg d u <<<"$1"
  marker=$BIN/.installed-$a
  mapfile -t members < <(artifact_members "$a" "$v")
  if [[ -f $marker && $(<"$marker") == "$1" ]]; then
    for m in "${members[@]}" ''; do [[ -z $m || -x $BIN/${m##*/} ]] || break; done
    [[ -z $m ]] && { log "$a $v already installed"; return 0; }
  fi
  mkdir -p "$CACHE" "$BIN"
  log "downloading $a $v"
  fetch_artifact "$a" "$alg" "$d" "$u" "$CACHE/$a.tar.gz"
  tmp=$(mktemp -d "$CACHE/extract.XXXXXX")
  tar -xzf "$CACHE/$a.tar.gz" -C "$tmp" -- "${members[@]}" || { rm -rf "$tmp"; fail "$a archive lacks ${members[*]}"; }
  # Install beside, then rename: a running binary cannot be overwritten in place.
  for m in "${members[@]}"; do
    install -m 0755 "$tmp/$m" "$BIN/.${m##*/}.new"
    mv -f "$BIN/.${m##*/}.new" "$BIN/${m##*/}"
    CHANGED+=("$BIN/${m##*/}")
  done
  rm -rf "$tmp" "$CACHE/$a.tar.gz"
  printf '%s' "$1" >"$marker"
}

install_binaries() {
  local text lines=() l a
  text=$(parse_manifest <"$WORK/release")
  for a in kubernetes-server etcd; do
    case $(grep -c "^$a " <<<"$text" || true) in
      0) fail "ha-masters-release has no $a" ;;
      1) ;;
      *) fail "ha-masters-release repeats $a" ;;
    esac
  done
  mapfile -t lines <<<"$text"
  for l in "${lines[@]}"; do install_artifact "$l"; done
}

# --- private keys in Secret Manager (docs/vm-contract.md, "Private keys") ----------------------

# secret_keys SOURCE: the keys of that metadata value's secret, `KEY FILE CERT` (the file under
# $PKI, the certificate beside it in metadata, - for none).
secret_keys() {
  local k=(CA_KEY:ca:CA_CERT MASTER_KEY:apiserver:MASTER_CERT ETCD_APISERVER_CLIENT_KEY:etcd-client:ETCD_APISERVER_CLIENT_CERT
    SERVICE_ACCOUNT_KEY:service-account:- KUBE_CONTROLLER_MANAGER_KEY:kube-controller-manager:KUBE_CONTROLLER_MANAGER_CERT
    KUBE_SCHEDULER_KEY:kube-scheduler:KUBE_SCHEDULER_CERT)
  [[ $1 == kube-master-certs ]] || k=(ETCD_MEMBER_KEY:etcd-member:ETCD_MEMBER_CERT APISERVER_KEY:apiserver:APISERVER_CERT)
  printf '%s\n' "${k[@]//:/ }"
}

# same_public_key CERT_B64 KEY_FILE: whether the key belongs to the certificate.
same_public_key() {
  local a b
  a=$(base64 -d <<<"$1" | openssl x509 -noout -pubkey 2>/dev/null) || return 1
  b=$(openssl pkey -pubout -in "$2" 2>/dev/null) || return 1
  [[ -n $a && $a == "$b" ]]
}

# disk_keys SOURCE: the secret's lines from the keys a previous boot wrote, if each belongs to its
# certificate in metadata (else status 1); the service-account key has none: it must only exist.
disk_keys() {
  local key file cert c
  while read -r key file cert; do
    c=
    if [[ $cert != - ]]; then
      c=$(kv "$WORK/$1" "$cert")
      [[ -n $c ]] || continue # APISERVER_KEY without APISERVER_CERT
    fi
    # With APISERVER_CERT, apiserver.key is the replica's key: MASTER_KEY is not used.
    [[ $key == MASTER_KEY && -n $(kv "$WORK/etcd-member-certs" APISERVER_CERT) ]] && continue
    [[ -s $PKI/$file.key ]] || return 1
    [[ -z $c ]] || same_public_key "$c" "$PKI/$file.key" || return 1
    printf "%s: '%s'\n" "$key" "$(base64 -w0 "$PKI/$file.key")"
  done < <(secret_keys "$1")
}

# crc32c FILE: CRC-32C (Castagnoli) in decimal, as Secret Manager's dataCrc32c.
crc32c() {
  local t=() i j c crc=0xffffffff b bytes=()
  for ((i = 0; i < 256; i++)); do
    c=$i
    for ((j = 0; j < 8; j++)); do c=$((c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1)); done
    t[i]=$c
  done
  read -r -d '' -a bytes < <(od -An -v -tu1 "$1") || true # status 1 at the end of input
  for b in "${bytes[@]}"; do crc=$((t[(crc ^ b) & 255] ^ (crc >> 8))); done
  printf '%d' $((crc ^ 0xffffffff))
}

# secret_read NAME OUT: the version's payload (flat lines) into OUT, read with the VM's token,
# transient failures retried with back-off; else prints why, status 1. Token and payload stay in
# $WORK (tmpfs, owner-only), never in the log.
secret_read() {
  local name=$1 out=$2 code why attempt=1 delay=$BACKOFF_MS body sum
  while :; do
    code=$(md_fetch instance/service-accounts/default/token "$WORK/token")
    if [[ $code == 404 ]]; then
      printf 'the VM has no service account (the metadata server has no token for it); create the VM with one that has roles/secretmanager.secretAccessor on the secret'
      return 1
    fi
    why="no token from the metadata server (HTTP $code)"
    if [[ $code == 200 && $(<"$WORK/token") =~ \"access_token\"[[:space:]]*:[[:space:]]*\"([^\"]+)\" ]]; then
      printf 'Authorization: Bearer %s\n' "${BASH_REMATCH[1]}" >"$WORK/auth"
      code=$(curl -sS -o "$WORK/secret" -w '%{http_code}' --connect-timeout 10 --max-time 30 -H @"$WORK/auth" \
        "$SM/v1/$name:access" 2>/dev/null) || true
      rm -f "$WORK/auth"
      why="HTTP $code"
      [[ $code == 000 ]] && why="no answer from $SM"
    fi
    rm -f "$WORK/token"
    case $code in
      200)
        body=$(<"$WORK/secret")
        rm -f "$WORK/secret"
        if ! [[ $body =~ \"data\"[[:space:]]*:[[:space:]]*\"([A-Za-z0-9+/=]*)\" ]] || ! base64 -d <<<"${BASH_REMATCH[1]}" >"$out" 2>/dev/null; then
          printf 'no base64 payload.data in the answer'
          return 1
        fi
        if [[ $body =~ \"dataCrc32c\"[[:space:]]*:[[:space:]]*\"?([0-9]+) ]]; then
          sum=$(crc32c "$out")
          [[ $sum == "${BASH_REMATCH[1]}" ]] || { printf 'the payload fails its dataCrc32c check'; return 1; }
        fi
        return 0
        ;;
      403 | 404)
        md_fetch instance/service-accounts/default/email "$WORK/email" >/dev/null
        printf "HTTP %s (the VM's service account %s needs roles/secretmanager.secretAccessor on it)" "$code" "$(<"$WORK/email")"
        return 1
        ;;
      000 | 429 | 5??) ;;
      *) printf '%s' "$why"; return 1 ;;
    esac
    rm -f "$WORK/secret"
    if ((attempt >= SECRET_ATTEMPTS)); then
      printf '%s after %d tries' "$why" "$attempt"
      return 1
    fi
    retry_pause "reading the private keys" "cannot read $name: $why" "$SECRET_ATTEMPTS"
  done
}

# Contract v2: KEYS_SECRET in a metadata value names the version holding its keys; their lines are
# appended to it (the last wins). Without it the keys are inline (an older cluster).
read_keys() {
  local src name why lines
  for src in kube-master-certs etcd-member-certs; do
    name=$(kv "$WORK/$src" KEYS_SECRET)
    [[ -n $name ]] || continue
    [[ $name =~ ^projects/[^/]+/secrets/[^/]+/versions/[^/]+$ ]] ||
      fail "$src: KEYS_SECRET '$name' is not projects/P/secrets/S/versions/V"
    if why=$(secret_read "$name" "$WORK/$src.keys"); then
      log "read the keys of $src from $name"
    elif lines=$(disk_keys "$src"); then
      # A reboot of a VM whose account can no longer read them: its keys are still right.
      log "cannot read $name: $why; the keys on the boot disk match the certificates in metadata: using them"
      printf '%s\n' "$lines" >"$WORK/$src.keys"
    else
      fail "cannot read $name: $why"
    fi
    { printf '\n'; cat "$WORK/$src.keys"; } >>"$WORK/$src"
    rm -f "$WORK/$src.keys"
  done
}

# --- files --------------------------------------------------------------------------------------

# put FILE MODE < content: rewrites only when the content differs and records the change.
put() {
  local tmp
  mkdir -p "$(dirname "$1")"
  tmp=$(mktemp "$1.XXXXXX")
  chmod "$2" "$tmp"
  cat >"$tmp"
  if [[ -f $1 ]] && cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$1"
    CHANGED+=("$1")
  fi
}

# pem FILE KEY OUT MODE: a base64 PEM from flat YAML FILE; a missing key is a failure.
pem() {
  local v
  v=$(kv "$1" "$2")
  [[ -n $v ]] || fail "${1##*/} has no $2$(ks=$(kv "$1" KEYS_SECRET) && [[ -n $ks ]] && printf ' (nor has %s)' "$ks")"
  base64 -d <<<"$v" >/dev/null 2>&1 || fail "${1##*/} $2 is not base64"
  base64 -d <<<"$v" | put "$3" "$4"
}

kubeconfig() { # USER CERT KEY
  cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:443
    certificate-authority: $PKI/ca.crt
    # Verify the name every serving cert (MASTER_CERT or APISERVER_CERT) carries.
    tls-server-name: kubernetes
users:
- name: $1
  user:
    client-certificate: $2
    client-key: $3
contexts:
- name: default
  context:
    cluster: local
    user: $1
current-context: default
EOF
}

write_certs() {
  local env=$WORK/kube-env certs=$WORK/kube-master-certs member=$WORK/etcd-member-certs
  umask 077
  mkdir -p "$PKI"
  pem "$env" ETCD_CA_CERT "$PKI/etcd-ca.crt" 0644
  pem "$member" ETCD_MEMBER_CERT "$PKI/etcd-member.crt" 0644
  pem "$member" ETCD_MEMBER_KEY "$PKI/etcd-member.key" 0600
  pem "$certs" ETCD_APISERVER_CLIENT_CERT "$PKI/etcd-client.crt" 0644
  pem "$certs" ETCD_APISERVER_CLIENT_KEY "$PKI/etcd-client.key" 0600
  pem "$certs" CA_CERT "$PKI/ca.crt" 0644
  pem "$certs" CA_KEY "$PKI/ca.key" 0600
  # This replica's own serving cert (it names the internal IP) when the action made one.
  if [[ -n $(kv "$member" APISERVER_CERT) ]]; then
    pem "$member" APISERVER_CERT "$PKI/apiserver.crt" 0644
    pem "$member" APISERVER_KEY "$PKI/apiserver.key" 0600
  else
    pem "$certs" MASTER_CERT "$PKI/apiserver.crt" 0644
    pem "$certs" MASTER_KEY "$PKI/apiserver.key" 0600
  fi
  pem "$certs" SERVICE_ACCOUNT_KEY "$PKI/service-account.key" 0600
  pem "$certs" KUBE_CONTROLLER_MANAGER_CERT "$PKI/kube-controller-manager.crt" 0644
  pem "$certs" KUBE_CONTROLLER_MANAGER_KEY "$PKI/kube-controller-manager.key" 0600
  pem "$certs" KUBE_SCHEDULER_CERT "$PKI/kube-scheduler.crt" 0644
  pem "$certs" KUBE_SCHEDULER_KEY "$PKI/kube-scheduler.key" 0600
  local c
  for c in kube-controller-manager kube-scheduler; do
    kubeconfig "system:$c" "$PKI/$c.crt" "$PKI/$c.key" | put "$ETC/$c.kubeconfig" 0600
  done
}

# --- etcd join ----------------------------------------------------------------------------------

etcd_has_data() { [[ -d $ETCD_DATA/member ]] && [[ -n $(ls -A "$ETCD_DATA/member") ]]; }

# initial_cluster_from_list OWN_PEER_URL < `etcdctl member list -w simple`
# (`id, status, name, peerURLs, clientURLs, isLearner`; several URLs are joined by a bare comma).
# Prints the --initial-cluster value; status 1 when OWN_PEER_URL is not listed yet.
initial_cluster_from_list() {
  local line id name peers rest url urls=() self entries=() found=1
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    line=${line//, /$'\x1f'}
    IFS=$'\x1f' read -r id _ name peers rest <<<"$line"
    self=0
    [[ ,$peers, == *",$1,"* ]] && self=1 found=0
    # A member that never started has no name; etcd matches peers by URL, so any unique name does.
    if ((self)); then name=etcd-$VM; elif [[ -z $name ]]; then name=unstarted-$id; fi
    IFS=, read -r -a urls <<<"$peers"
    for url in "${urls[@]}"; do entries+=("$name=$url"); done
  done
  ((found == 0)) || return 1
  local IFS=,
  printf '%s' "${entries[*]}"
}

etcd_member_list() { # ENDPOINT
  ETCDCTL_API=3 "$BIN/etcdctl" --endpoints="$1" --cacert="$PKI/etcd-ca.crt" \
    --cert="$PKI/etcd-client.crt" --key="$PKI/etcd-client.key" \
    --dial-timeout=3s --command-timeout=5s -w simple member list
}

# The replicas that existed when this VM was made. ETCD_SEED_ENDPOINTS names them by IP; without
# it, the VM names of INITIAL_ETCD_CLUSTER (internal DNS; member certs carry DNS:<vm>).
seed_endpoints() {
  local env=$WORK/kube-env seeds vms=() v
  seeds=$(kv "$env" ETCD_SEED_ENDPOINTS)
  if [[ -n $seeds ]]; then
    tr ',' '\n' <<<"$seeds" | sed '/^$/d'
    return
  fi
  IFS=, read -r -a vms <<<"$(kv "$env" INITIAL_ETCD_CLUSTER)"
  for v in "${vms[@]}"; do [[ -n $v && $v != "$VM" ]] && printf 'https://%s:2379\n' "$v"; done
  return 0
}

# Polls until a seed lists this VM's peer URL (the action adds it as a learner); bounded only by the
# action's own timeout. Prints the --initial-cluster value.
join_existing() {
  local own=https://$IP:2380 eps=() ep list cluster reason=none logged=-30
  mapfile -t eps < <(seed_endpoints)
  ((${#eps[@]})) || fail "no etcd seed endpoints to join"
  while :; do
    for ep in "${eps[@]}"; do
      if list=$(etcd_member_list "$ep" 2>"$WORK/etcdctl.err"); then
        cluster=$(initial_cluster_from_list "$own" <<<"$list") && { printf '%s' "$cluster"; return 0; }
        reason="$ep does not list $own yet"
      else
        reason="$ep: $(tail -n 1 "$WORK/etcdctl.err" 2>/dev/null)"
      fi
    done
    if ((SECONDS - logged >= 30)); then
      log "waiting to be added as an etcd member ($reason)"
      logged=$SECONDS
    fi
    sleep "$POLL"
  done
}

# Quorum recovery (docs/vm-contract.md, etcd-force-new-cluster): the action sets a nonce on the
# survivor it chose and resets the VM; etcd then starts once with --force-new-cluster, a new
# one-member cluster from its own data. The nonce is recorded on the data disk once etcd answers,
# so a later boot (or a restart of the unit) never forces again.
FORCE_APPLIED=$MNT/var/etcd/force-new-cluster.applied

# Prints the nonce to apply at this boot, or nothing.
force_new_cluster_nonce() {
  local nonce
  md_optional instance/attributes/etcd-force-new-cluster "$WORK/force-new-cluster" || return 0
  nonce=$(<"$WORK/force-new-cluster")
  [[ -n $nonce && $nonce != "$(cat "$FORCE_APPLIED" 2>/dev/null || true)" ]] || return 0
  etcd_has_data || fail "etcd-force-new-cluster $nonce: this VM has no etcd data to form a new cluster from"
  printf '%s' "$nonce"
}

# After a forced start: wait until etcd answers, record the nonce, and drop the flag again.
finish_force_new_cluster() {
  local nonce=$1 i
  for ((i = 0; i < 60; i++)); do
    if etcd_member_list https://127.0.0.1:2379 >/dev/null 2>&1; then
      printf '%s' "$nonce" | put "$FORCE_APPLIED" 0600
      printf 'ETCD_INITIAL_FLAGS=""\n' | put "$ETCD_ENV" 0600
      log "etcd formed a new one-member cluster from its own data (etcd-force-new-cluster $nonce)"
      return 0
    fi
    sleep 1
  done
  fail "etcd-force-new-cluster $nonce: etcd did not answer within 60 s of its forced start"
}

# Restore from a snapshot (docs/vm-contract.md, etcd-restore-from): when no etcd member survived,
# the action sets `<nonce> <bucket> <object, URL-encoded> <generation> <md5 base64 or ->` on one VM
# and resets it. Before etcd starts, this downloads exactly that version of the object with the VM's
# own token, checks its MD5, restores it into a new one-member cluster (the data found before is kept
# beside it as data.before-restore) and records the nonce, so that a later boot never restores again.
RESTORE_APPLIED=$MNT/var/etcd/restore-from.applied

# Prints the request to apply at this boot, or nothing.
restore_request() {
  local value nonce
  md_optional instance/attributes/etcd-restore-from "$WORK/restore-from" || return 0
  value=$(<"$WORK/restore-from")
  read -r nonce _ <<<"$value"
  [[ -n $nonce && $nonce != "$(cat "$RESTORE_APPLIED" 2>/dev/null || true)" ]] || return 0
  printf '%s' "$value"
}

# download_snapshot BUCKET OBJECT GENERATION OUT: transient failures retried with back-off.
download_snapshot() {
  local url="$GCS/storage/v1/b/$1/o/$2?alt=media&generation=$3" out=$4 code why attempt=1 delay=$BACKOFF_MS
  while :; do
    code=$(md_fetch instance/service-accounts/default/token "$WORK/token")
    [[ $code != 404 ]] || fail "etcd-restore-from: the VM has no service account to download gs://$1 with"
    why="no token from the metadata server (HTTP $code)"
    if [[ $code == 200 && $(<"$WORK/token") =~ \"access_token\"[[:space:]]*:[[:space:]]*\"([^\"]+)\" ]]; then
      printf 'Authorization: Bearer %s\n' "${BASH_REMATCH[1]}" >"$WORK/auth"
      # A transfer cut short (curl fails after the status line) counts as no answer: retried.
      code=$(curl -sS -o "$out" -w '%{http_code}' --connect-timeout 10 --max-time 3600 -H @"$WORK/auth" "$url" 2>/dev/null) || code=000
      rm -f "$WORK/auth"
      why="HTTP $code"
      [[ $code == 000 ]] && why="no answer from $GCS"
    fi
    rm -f "$WORK/token"
    case $code in
      200) return 0 ;;
      403 | 404)
        rm -f "$out"
        md_fetch instance/service-accounts/default/email "$WORK/email" >/dev/null
        fail "etcd-restore-from: gs://$1/$2 generation $3: HTTP $code (the object must exist at that generation, and the VM's service account $(<"$WORK/email") needs roles/storage.objectViewer on the bucket)"
        ;;
      000 | 429 | 5??) ;;
      *) rm -f "$out"; fail "etcd-restore-from: gs://$1/$2: $why" ;;
    esac
    rm -f "$out"
    ((attempt < ATTEMPTS)) || fail "etcd-restore-from: gs://$1/$2: $why after $attempt tries"
    retry_pause "restoring etcd from a snapshot" "download: $why" "$ATTEMPTS"
  done
}

# restore_snapshot REQUEST: etcd is not running yet (its unit starts only from this script).
restore_snapshot() {
  local nonce bucket object generation md5 extra db got restoring=$MNT/var/etcd/data.restoring tool
  read -r nonce bucket object generation md5 extra <<<"$1"
  [[ -n $md5 && -z $extra && $generation =~ ^[0-9]+$ && $bucket =~ ^[a-z0-9._-]+$ && $object =~ ^[A-Za-z0-9%._~!*\'()-]+$ ]] ||
    fail "etcd-restore-from: bad value '$1' (want: nonce bucket object generation md5)"
  db=$MNT/var/etcd/restore.db
  mkdir -p "${db%/*}"
  log "downloading the snapshot gs://$bucket/$object (generation $generation)"
  download_snapshot "$bucket" "$object" "$generation" "$db"
  if [[ $md5 != - ]]; then
    got=$(openssl dgst -md5 -binary "$db" | base64)
    [[ $got == "$md5" ]] || { rm -f "$db"; fail "etcd-restore-from: the download's MD5 is $got, Cloud Storage said $md5: damaged on the way; re-run recover"; }
  fi
  rm -rf "$restoring"
  # etcd 3.5+ has etcdutl: move revisions past any a client saw, and mark them compacted, so that
  # watchers re-list instead of silently missing changes. etcd 3.4's etcdctl cannot.
  local common=(--data-dir="$restoring" --name="etcd-$VM" --initial-cluster="etcd-$VM=https://$IP:2380"
    --initial-advertise-peer-urls="https://$IP:2380")
  if [[ -x $BIN/etcdutl ]]; then
    tool=etcdutl
    "$BIN/etcdutl" snapshot restore "$db" "${common[@]}" --bump-revision=1000000000 --mark-compacted >"$WORK/restore.out" 2>&1 ||
      fail "etcd-restore-from: etcdutl snapshot restore failed: $(tail -n 1 "$WORK/restore.out")"
  else
    tool=etcdctl
    ETCDCTL_API=3 "$BIN/etcdctl" snapshot restore "$db" "${common[@]}" >"$WORK/restore.out" 2>&1 ||
      fail "etcd-restore-from: etcdctl snapshot restore failed: $(tail -n 1 "$WORK/restore.out")"
  fi
  rm -rf "$MNT/var/etcd/data.before-restore"
  [[ ! -d $ETCD_DATA ]] || mv "$ETCD_DATA" "$MNT/var/etcd/data.before-restore"
  mv "$restoring" "$ETCD_DATA"
  chmod 0700 "$ETCD_DATA"
  rm -f "$db"
  printf '%s' "$nonce" | put "$RESTORE_APPLIED" 0600
  printf 'ETCD_INITIAL_FLAGS=""\n' | put "$ETCD_ENV" 0600
  log "etcd restored from gs://$bucket/$object generation $generation with $tool: a new one-member cluster (etcd-restore-from $nonce)"
}

# etcd_initial_flags: the flags that depend on the cluster's state (docs/vm-contract.md step 2).
etcd_initial_flags() {
  local state cluster
  if [[ -n $FORCE_NONCE ]]; then
    printf -- '--force-new-cluster'
    return 0
  fi
  if etcd_has_data; then
    # A reboot: etcd ignores --initial-* with data; keep what the first boot chose.
    [[ ! -f $ETCD_ENV ]] || printf '%s' "$(sed -n 's/^ETCD_INITIAL_FLAGS="\(.*\)"$/\1/p' "$ETCD_ENV")"
    return 0
  fi
  # No default: guessing `new` on a joining replica would found a second cluster.
  state=$(kv "$WORK/kube-env" INITIAL_ETCD_CLUSTER_STATE)
  case $state in
    new) printf -- '--initial-cluster=etcd-%s=https://%s:2380 --initial-cluster-state=new' "$VM" "$IP" ;;
    existing)
      cluster=$(join_existing)
      printf -- '--initial-cluster=%s --initial-cluster-state=existing' "$cluster"
      ;;
    *) fail "kube-env INITIAL_ETCD_CLUSTER_STATE is '$state', not new or existing" ;;
  esac
}

# --- flags (one per line) -----------------------------------------------------------------------

etcd_flags() {
  printf '%s\n' \
    "--name=etcd-$VM" \
    "--data-dir=$ETCD_DATA" \
    "--listen-client-urls=https://$IP:2379,https://127.0.0.1:2379" \
    "--advertise-client-urls=https://$IP:2379" \
    "--listen-peer-urls=https://$IP:2380" \
    "--initial-advertise-peer-urls=https://$IP:2380" \
    "--cert-file=$PKI/etcd-member.crt" "--key-file=$PKI/etcd-member.key" \
    "--trusted-ca-file=$PKI/etcd-ca.crt" --client-cert-auth \
    "--peer-cert-file=$PKI/etcd-member.crt" "--peer-key-file=$PKI/etcd-member.key" \
    "--peer-trusted-ca-file=$PKI/etcd-ca.crt" --peer-client-cert-auth
}

# Only flags kube-apiserver v1.34 has (no --etcd-quorum-read, no --insecure-port).
apiserver_flags() {
  printf '%s\n' \
    "--advertise-address=$IP" --bind-address=0.0.0.0 --secure-port=443 \
    --etcd-servers=https://127.0.0.1:2379 \
    "--etcd-cafile=$PKI/etcd-ca.crt" "--etcd-certfile=$PKI/etcd-client.crt" "--etcd-keyfile=$PKI/etcd-client.key" \
    "--tls-cert-file=$PKI/apiserver.crt" "--tls-private-key-file=$PKI/apiserver.key" \
    "--client-ca-file=$PKI/ca.crt" \
    "--service-account-key-file=$PKI/service-account.key" \
    "--service-account-signing-key-file=$PKI/service-account.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    "--service-cluster-ip-range=$(kv "$WORK/kube-env" SERVICE_CLUSTER_IP_RANGE 10.0.0.0/16)" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --storage-backend=etcd3 --endpoint-reconciler-type=lease
}

component_flags() { # NAME: shared by kube-controller-manager and kube-scheduler
  printf '%s\n' "--kubeconfig=$ETC/$1.kubeconfig" "--authentication-kubeconfig=$ETC/$1.kubeconfig" \
    "--authorization-kubeconfig=$ETC/$1.kubeconfig" --leader-elect=true --bind-address=127.0.0.1
}

controller_manager_flags() {
  component_flags kube-controller-manager
  printf '%s\n' \
    "--service-account-private-key-file=$PKI/service-account.key" \
    "--root-ca-file=$PKI/ca.crt" \
    "--cluster-signing-cert-file=$PKI/ca.crt" "--cluster-signing-key-file=$PKI/ca.key" \
    --use-service-account-credentials=true \
    "--cluster-name=$(kv "$WORK/kube-env" INSTANCE_PREFIX kubernetes)"
}

scheduler_flags() { component_flags kube-scheduler; }

# --- units --------------------------------------------------------------------------------------

exec_start() { # BINARY [EXTRA] < flags
  local f
  printf 'ExecStart=%s' "$1"
  while IFS= read -r f; do printf ' \\\n  %s' "$f"; done
  [[ -z ${2:-} ]] || printf ' \\\n  %s' "$2"
  printf '\n'
}

# service_unit DESCRIPTION AFTER BINARY [EXTRA-ARG [UNIT-LINES [SERVICE-LINES]]] < flags
service_unit() {
  cat <<EOF
[Unit]
Description=$1
Wants=network-online.target${2:+ $2}
After=network-online.target${2:+ $2}
# Never stop restarting (the contract's "restarted with back-off").
StartLimitIntervalSec=0
${5:-}

[Service]
$(exec_start "$3" "${4:-}")
Restart=always
RestartSec=5
LimitNOFILE=65536
${6:-}

[Install]
WantedBy=multi-user.target
EOF
}

readyz_handler() {
  cat <<'EOF'
#!/bin/bash
# ha-readyz: one HTTP/1.0 exchange per connection on :3990 (ha-readyz.socket, Accept=yes) for the
# target pool's legacy HTTP health check: 200 "ok" when the local kube-apiserver's /readyz says ok.
read -r -t 5 _request || exit 0
while IFS= read -r -t 5 line && [[ -n ${line%$'\r'} ]]; do :; done
if [[ $(curl -sk --max-time 2 "${HA_READYZ_URL:-https://127.0.0.1:443/readyz}") == ok ]]; then
  status='200 OK' body=ok
else
  status='503 Service Unavailable' body='not ready'
fi
printf 'HTTP/1.0 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
  "$status" "${#body}" "$body"
EOF
}

write_units() {
  umask 022
  printf 'ETCD_INITIAL_FLAGS="%s"\n' "$1" | put "$ETCD_ENV" 0600
  # etcd must never start on the boot disk: at boot, before this script has mounted the data disk,
  # the enabled unit is skipped (a failed condition is no error); this script then starts it.
  # shellcheck disable=SC2016 # $ETCD_INITIAL_FLAGS is for systemd: split into words, maybe none
  etcd_flags | service_unit "etcd member etcd-$VM" "" "$BIN/etcd" '$ETCD_INITIAL_FLAGS' \
    "ConditionPathIsMountPoint=$MNT" "EnvironmentFile=$ETCD_ENV" | put "$UNITS/ha-etcd.service" 0644
  apiserver_flags | service_unit "kube-apiserver" ha-etcd.service "$BIN/kube-apiserver" "" |
    put "$UNITS/ha-kube-apiserver.service" 0644
  controller_manager_flags | service_unit "kube-controller-manager" ha-kube-apiserver.service \
    "$BIN/kube-controller-manager" "" | put "$UNITS/ha-kube-controller-manager.service" 0644
  scheduler_flags | service_unit "kube-scheduler" ha-kube-apiserver.service "$BIN/kube-scheduler" "" |
    put "$UNITS/ha-kube-scheduler.service" 0644
  readyz_handler | put "$BIN/ha-readyz" 0755
  put "$UNITS/ha-readyz.socket" 0644 <<EOF
[Unit]
Description=ha-masters health check sidecar (:3990)

[Socket]
ListenStream=3990
Accept=yes

[Install]
WantedBy=sockets.target
EOF
  put "$UNITS/ha-readyz@.service" 0644 <<EOF
[Unit]
Description=ha-masters /readyz answer

[Service]
ExecStart=$BIN/ha-readyz
StandardInput=socket
StandardOutput=socket
StandardError=journal
EOF
}

# A unit restarts when its unit file or a file it names (also through a kubeconfig) changed in this
# run; otherwise `enable --now` only starts what is not running (a reboot).
unit_changed() {
  local u=$UNITS/$1 text f
  text=$(cat "$u")
  while IFS= read -r f; do text+=$(cat "$f"); done < <(grep -o "$ETC/[^ ]*\.kubeconfig" "$u" || true)
  for f in "${CHANGED[@]}"; do
    [[ $f == "$u" || $text == *"$f"* ]] && return 0
  done
  [[ $1 == ha-readyz.socket && " ${CHANGED[*]} " == *" $UNITS/ha-readyz@.service "* ]]
}

start_units() {
  local u restart=()
  systemctl daemon-reload
  systemctl enable "${UNIT_NAMES[@]}"
  for u in "${UNIT_NAMES[@]}"; do
    if unit_changed "$u"; then restart+=("$u"); fi
  done
  # --no-block: a unit that waits for its peers must not hold up the start-up script.
  ((${#restart[@]} == 0)) || systemctl restart --no-block "${restart[@]}"
  systemctl start --no-block "${UNIT_NAMES[@]}"
}

main() {
  trap 'on_err "${STEP:-start}: line $LINENO: $BASH_COMMAND"' ERR
  trap '[[ -z $WORK_TMP ]] || rm -rf "$WORK"' EXIT
  STEP='metadata'; step "reading metadata"
  read_metadata
  log "instance $VM, internal IP $IP"
  STEP='data-disk'; step "preparing the data disk"
  prepare_disk
  STEP='binaries'; step "installing binaries"
  install_binaries
  # Downloads first: the action sets this key while the VM boots.
  STEP='member-certs'; step "waiting for etcd-member-certs"
  wait_member_certs
  STEP='keys'; step "reading the private keys"
  read_keys
  STEP='certificates'; step "writing certificates and kubeconfigs"
  write_certs
  STEP='etcd'; step "choosing etcd's initial cluster"
  local initial
  RESTORE=$(restore_request)
  if [[ -n $RESTORE ]]; then
    STEP='restore'; step "restoring etcd from a snapshot"
    restore_snapshot "$RESTORE"
  fi
  FORCE_NONCE=$(force_new_cluster_nonce)
  initial=$(etcd_initial_flags)
  log "etcd initial flags: ${initial:-none (existing data)}"
  STEP='units'; step "writing and starting systemd units"
  write_units "$initial"
  start_units
  if [[ -n $FORCE_NONCE ]]; then
    STEP='force-new-cluster'; step "waiting for etcd's forced start"
    finish_force_new_cluster "$FORCE_NONCE"
  fi
  log "ok"
  set_status ok
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
