#!/usr/bin/env bash
# The README's main command: starts two environments of examples/shop (nginx as ingress, a
# shared redis), then prints their URLs, a DNS lookup through cilo's DNS server and the page.
set -euo pipefail
cd "$(dirname "$0")/.."
cilo() { node dist/cilo.js "$@"; }

if ! docker compose version >/dev/null 2>&1; then
  echo "demo: Docker with Compose v2 is required (\`docker compose version\` must work)." >&2
  exit 1
fi
for image in nginx:alpine redis:7-alpine; do
  if ! docker image inspect "$image" >/dev/null 2>&1 && ! docker pull -q "$image" >/dev/null 2>&1; then
    echo "demo: the image $image is not here and cannot be pulled; pull it (or tag a stand-in with that name) and retry." >&2
    exit 1
  fi
done

for env in demo-1 demo-2; do
  cilo up "$env" --from examples/shop
  echo
done
cilo shared list
echo

port=$(cilo dns status --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).port))')
for env in demo-1 demo-2; do
  url=$(cilo status "$env" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).url))')
  host=${url#http://}
  ip=$(node -e '
    const { Resolver } = require("node:dns").promises;
    const r = new Resolver(); r.setServers([`127.0.0.1:${process.argv[2]}`]);
    r.resolve4(process.argv[1]).then((a) => console.log(a[0]), (e) => { console.error(e.message); process.exit(1); });
  ' "$host" "$port")
  echo "$env: $url"
  echo "  DNS (127.0.0.1:$port): $host -> $ip"
  page=$(node -e 'fetch(`http://${process.argv[1]}/`).then(r=>r.text()).then(t=>console.log((t.match(/<h1>(.*)<\/h1>/)||[])[1]||t.slice(0,60)), e=>{console.error(e.message);process.exit(1)})' "$ip")
  echo "  GET http://$ip/ -> <h1>$page</h1>"
done
echo
echo "Resolve *.test names system-wide with: sudo node dist/cilo.js dns setup   (or: node dist/cilo.js dns setup --print-manual)"
echo "Clean up with: node dist/cilo.js destroy demo-1 --force && node dist/cilo.js destroy demo-2 --force"
