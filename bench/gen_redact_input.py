#!/usr/bin/env python3
"""Writes the inputs of bench/redact.sh into DIR: `values.tsv` (NAME, tab,
value), `dotenv` (the same values for dotenvx) and `deploy.log`, a synthetic
Kamal deploy log of SIZE_MIB MiB in which about one line in 200 carries a
secret, as is or base64-encoded."""

import base64
import random
import string
import sys

out_dir, count, size_mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20261204)

def value(i):
    kind = i % 5
    if kind == 0:
        return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32))
    if kind == 1:
        return "".join(rng.choice("0123456789abcdef") for _ in range(64))
    if kind == 2:
        raw = bytes(rng.getrandbits(8) for _ in range(32))
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
    if kind == 3:
        return "".join(rng.choice(string.ascii_letters + string.digits + "@:/+!%&*-_.")
                       for _ in range(rng.randint(12, 24)))
    return "postgres://app:" + "".join(rng.choice(string.ascii_letters) for _ in range(20)) + "@db.internal:5432/app"

values = [(f"SECRET_{i:04d}", value(i)) for i in range(count)]
with open(f"{out_dir}/values.tsv", "w") as f:
    for name, v in values:
        f.write(f"{name}\t{v}\n")
with open(f"{out_dir}/dotenv", "w") as f:
    for name, v in values:
        f.write(f"{name}='{v}'\n")

hosts = [f"10.0.{rng.randint(0, 9)}.{rng.randint(2, 250)}" for _ in range(8)]
templates = [
    "  INFO [{id}] Running docker run --detach --restart unless-stopped --name app-web-{sha} --network kamal --hostname {host}-{id} -e KAMAL_CONTAINER_NAME=\"app-web-{sha}\" --env-file .kamal/apps/app/env/roles/web.env --health-cmd \"curl -f http://localhost:3000/up\" --log-opt max-size=\"10m\" registry.example.com/app:{sha} on {host}",
    "  INFO [{id}] Finished in {secs} seconds with exit status 0 (successful).",
    "  DEBUG [{id}] Command: /usr/bin/env docker login registry.example.com -u deploy -p [REDACTED]",
    "  INFO [{id}] Running docker container ls --all --filter name=^app-web-{sha}$ --quiet on {host}",
    "  DEBUG [{id}] \t#12 [build 4/7] RUN bundle install --jobs 4 && rm -rf ~/.bundle/ \"${{BUNDLE_PATH}}\"/ruby/*/cache",
    "  DEBUG [{id}] \t#14 writing image sha256:{sha}{sha}{sha} done",
    "Releasing the deploy lock...",
    "  INFO [{id}] Running /usr/bin/env mkdir -p .kamal/apps/app/env/roles on {host}",
    "  DEBUG [{id}] \tI, [2026-12-04T06:{mm}:{ss} #1]  INFO -- : [{id}] Completed 200 OK in {secs}ms (Views: 3.1ms | ActiveRecord: 0.4ms)",
]

def line(ctx):
    t = rng.choice(templates)
    return t.format(id="%08x" % rng.getrandbits(32), sha="%012x" % rng.getrandbits(48),
                    host=rng.choice(hosts), secs="%.3f" % rng.random(), mm="%02d" % rng.randint(0, 59),
                    ss="%02d" % rng.randint(0, 59))

def secret_line():
    name, v = rng.choice(values)
    if rng.random() < 0.5:
        return f"  DEBUG [{rng.getrandbits(32):08x}] export {name}=\"{v}\""
    return f"  DEBUG [{rng.getrandbits(32):08x}] Authorization: Basic {base64.b64encode(('deploy:' + v).encode()).decode()}"

# One 16 MiB block, written as many times as needed.
block = []
size = 0
while size < 16 * 1024 * 1024:
    l = secret_line() if rng.random() < 0.005 else line(None)
    block.append(l)
    size += len(l) + 1
data = ("\n".join(block) + "\n").encode()
with open(f"{out_dir}/deploy.log", "wb") as f:
    written = 0
    while written < size_mib * 1024 * 1024:
        chunk = data[: size_mib * 1024 * 1024 - written]
        f.write(chunk)
        written += len(chunk)
