#!/usr/bin/env bash
# A fake remote machine on this one, for test/integration/remote.test.ts (run as root):
#   fake-remote.sh up DIR ID IDX     make it; DIR is new and empty, ID names it, IDX picks its /30 of 192.0.2.0/24
#   fake-remote.sh down DIR          remove everything `up` made (also after a half-done up)
# The machine is a network namespace joined to this one by a veth pair (a documentation range),
# with its own mount namespace (private /run, /tmp and /root, its own /etc/docker) where a second
# dockerd (own data root, engine ID, socket and address pool) and an sshd run. Every process it
# starts is in that mount namespace, so `down` finds and ends them all by PID.
set -euo pipefail
cmd=$1 dir=$2

inner() {
  # In the new mount and network namespaces. Private /run (own docker.sock, so `docker system
  # dial-stdio` over ssh reaches this engine), own /etc/docker (own engine ID); /tmp and /root
  # private too, so the host sees nothing of this machine's files and the reverse.
  mount --make-rprivate /
  mount -t tmpfs tmpfs /run
  mkdir -p /run/sshd /run/netns
  mount --bind "$dir/etc-docker" /etc/docker
  mount -t tmpfs tmpfs /tmp
  mount -t tmpfs tmpfs /root
  chmod 700 /root
  ip link set lo up
  dockerd --data-root "$dir/data" --default-address-pool base=10.239.0.0/16,size=24 --bip 10.238.255.1/24 \
    -H unix:///var/run/docker.sock --pidfile /run/docker.pid >"$dir/dockerd.log" 2>&1 &
  echo $! >"$dir/dockerd.pid"
  /usr/sbin/sshd -D -e -f "$dir/sshd_config" >"$dir/sshd.log" 2>&1 &
  echo $! >"$dir/sshd.pid"
  echo ready >"$dir/inner.ready"
  wait
}

up() {
  local id=$1 idx=$2
  local ns="cilo-rt-$id" vh="crt${id:0:6}h" vr="crt${id:0:6}r"
  local host_ip="192.0.2.$((idx * 4 + 1))" remote_ip="192.0.2.$((idx * 4 + 2))"
  printf '%s\n' "ns=$ns" "vh=$vh" "host_ip=$host_ip" "remote_ip=$remote_ip" >"$dir/env"
  ip netns add "$ns"
  ip link add "$vh" type veth peer name "$vr"
  ip link set "$vr" netns "$ns"
  ip addr add "$host_ip/30" dev "$vh"
  ip link set "$vh" up
  ip -n "$ns" addr add "$remote_ip/30" dev "$vr"
  ip -n "$ns" link set "$vr" up
  mkdir -p "$dir/etc-docker" "$dir/data" "$dir/ssh"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh/id"
  cp "$dir/ssh/id.pub" "$dir/ssh/authorized_keys"
  cat >"$dir/sshd_config" <<CONF
ListenAddress $remote_ip
Port 22
HostKey $dir/ssh/host_key
AuthorizedKeysFile $dir/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile /run/sshd.pid
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
MaxSessions 50
MaxStartups 50
CONF
  # setsid: its own session, so the test's process group signals never reach it; `down` ends it.
  setsid nsenter --net="/run/netns/$ns" unshare --mount --propagation private "$0" inner "$dir" </dev/null >"$dir/inner.log" 2>&1 &
  echo $! >"$dir/inner.pid"
  # Polled with generous deadlines: a loaded machine starts a dockerd slowly, not wrongly.
  local end=$((SECONDS + 180))
  until [ -f "$dir/inner.ready" ] && [ -S "/proc/$(cat "$dir/dockerd.pid" 2>/dev/null)/root/run/docker.sock" ]; do
    [ "$SECONDS" -lt "$end" ] || break
    sleep 0.1
  done
  end=$((SECONDS + 180))
  while [ "$SECONDS" -lt "$end" ]; do
    nsenter -t "$(cat "$dir/dockerd.pid")" -m -n docker -H unix:///run/docker.sock info >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "the fake remote's dockerd did not start:" >&2
  tail -5 "$dir/dockerd.log" >&2 || true
  return 1
}

# Every process whose mount namespace is the fake machine's (dockerd, containerd, shims,
# containers, sshd and its sessions, wireguard-go): all started by `up` or through it.
members() {
  local pid mnt
  [ -f "$dir/inner.pid" ] || return 0
  mnt=$(readlink "/proc/$(cat "$dir/inner.pid")/ns/mnt" 2>/dev/null) || mnt=${saved_mnt:-}
  [ -n "$mnt" ] || return 0
  for pid in /proc/[0-9]*; do
    pid=${pid#/proc/}
    [ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$mnt" ] && echo "$pid"
  done
  return 0
}

down() {
  [ -f "$dir/env" ] && . "$dir/env"
  saved_mnt=$(readlink "/proc/$(cat "$dir/inner.pid" 2>/dev/null || echo 0)/ns/mnt" 2>/dev/null || true)
  if [ -f "$dir/dockerd.pid" ] && kill -0 "$(cat "$dir/dockerd.pid")" 2>/dev/null; then
    local d
    d=$(cat "$dir/dockerd.pid")
    ids=$(nsenter -t "$d" -m -n docker -H unix:///run/docker.sock ps -aq 2>/dev/null || true)
    [ -n "$ids" ] && nsenter -t "$d" -m -n docker -H unix:///run/docker.sock rm -f $ids >/dev/null 2>&1 || true
    kill -TERM "$d" 2>/dev/null || true
    local end=$((SECONDS + 60))
    while kill -0 "$d" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
  fi
  local pids
  pids=$(members)
  [ -n "$pids" ] && kill -TERM $pids 2>/dev/null || true
  local end=$((SECONDS + 10))
  while [ "$SECONDS" -lt "$end" ]; do
    pids=$(members)
    [ -z "$pids" ] && break
    sleep 0.1
  done
  pids=$(members)
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
  end=$((SECONDS + 60))
  while [ -n "$(members)" ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
  [ -n "${vh:-}" ] && ip link del "$vh" 2>/dev/null || true
  [ -n "${ns:-}" ] && ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir" 2>/dev/null || { sleep 1; rm -rf "$dir" || true; }
}

case "$cmd" in
  up) up "$3" "$4" ;;
  inner) inner ;;
  down) down ;;
  *) echo "usage: $0 up DIR ID IDX | down DIR" >&2; exit 2 ;;
esac
