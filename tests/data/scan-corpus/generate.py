#!/usr/bin/env python3
"""Writes the labelled scan corpus: positives.tsv (code, tab, a line holding
one synthetic secret in that detector's format) and negatives.txt (lines
that look secret-ish but hold no secret). The tokens are random, made here,
and belong to no account. Run again to regenerate; the seed keeps the output
stable."""

import base64
import os
import random
import string

rng = random.Random(20261204)
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URL = ALNUM + "_-"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def r(chars, n):
    return "".join(rng.choice(chars) for _ in range(n))


def pem(kind):
    body = base64.b64encode(rng.randbytes(300)).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----"


def jwt():
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    payload = base64.urlsafe_b64encode(b'{"sub":"1234567890","name":"corpus"}').decode().rstrip("=")
    return f"{header}.{payload}.{r(URL, 43)}"


positives = [
    ("KS610", f"aws_access_key_id = AKIA{r('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}"),
    ("KS610", f"ASIA{r('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}"),
    ("KS611", f"aws_secret_access_key = {r(B64, 40)}"),
    ("KS611", f'AWS_SECRET_ACCESS_KEY: "{r(B64, 40)}"'),
    ("KS612", f"token: ghp_{r(ALNUM, 36)}"),
    ("KS613", f"gho_{r(ALNUM, 36)}"),
    ("KS614", f"ghu_{r(ALNUM, 36)}"),
    ("KS615", f"ghs_{r(ALNUM, 36)}"),
    ("KS616", f"ghr_{r(ALNUM, 76)}"),
    ("KS617", f"github_pat_{r(ALNUM, 22)}_{r(ALNUM, 59)}"),
    ("KS618", f"GITLAB_TOKEN=glpat-{r(URL, 20)}"),
    ("KS619", f"glrt-{r(URL, 20)}"),
    ("KS620", f"gldt-{r(URL, 20)}"),
    ("KS621", f"SLACK_BOT=xoxb-{r(string.digits, 12)}-{r(string.digits, 13)}-{r(ALNUM, 24)}"),
    ("KS622", f"xoxp-{r(string.digits, 12)}-{r(string.digits, 12)}-{r(string.digits, 13)}-{r(HEX, 32)}"),
    ("KS623", f"xapp-1-A{r(string.ascii_uppercase + string.digits, 10)}-{r(string.digits, 13)}-{r(HEX, 64)}"),
    ("KS624", f"https://hooks.slack.com/services/T{r(string.ascii_uppercase + string.digits, 10)}/B{r(string.ascii_uppercase + string.digits, 10)}/{r(ALNUM, 24)}"),
    ("KS625", f"Stripe.api_key = 'sk_live_{r(ALNUM, 99)}'"),
    ("KS626", f"rk_live_{r(ALNUM, 99)}"),
    ("KS627", f"STRIPE_WEBHOOK_SECRET=whsec_{r(ALNUM, 32)}"),
    ("KS628", f"SK{r(HEX, 32)}"),
    ("KS629", f"TWILIO_AUTH_TOKEN={r(HEX, 32)}"),
    ("KS630", f"SG.{r(URL, 22)}.{r(URL, 43)}"),
    ("KS631", f"mailgun: key-{r(HEX, 32)}"),
    ("KS632", f"GOOGLE_MAPS=AIza{r(URL, 35)}"),
    ("KS633", '{"type": "service_account", "project_id": "corpus", "private_key_id": "%s", "private_key": "%s"}'
        % (r(HEX, 40), pem("PRIVATE KEY").replace("\n", "\\n"))),
    ("KS634", pem("OPENSSH PRIVATE KEY")),
    ("KS635", pem("RSA PRIVATE KEY")),
    ("KS635", pem("EC PRIVATE KEY")),
    ("KS635", pem("PRIVATE KEY")),
    ("KS635", pem("ENCRYPTED PRIVATE KEY")),
    ("KS636", pem("PGP PRIVATE KEY BLOCK")),
    ("KS637", f"Authorization: Bearer {jwt()}"),
    ("KS638", f"dckr_pat_{r(URL, 27)}"),
    ("KS639", f"KAMAL_REGISTRY_PASSWORD={r(ALNUM, 24)}"),
    ("KS640", f"//registry.npmjs.org/:_authToken=npm_{r(ALNUM, 36)}"),
    ("KS641", f"password = pypi-AgEIcHlwaS5vcmc{r(URL, 70)}"),
    ("KS642", f"HRKU-{r(URL, 60)}"),
    ("KS643", f"HEROKU_API_KEY={r(HEX, 8)}-{r(HEX, 4)}-{r(HEX, 4)}-{r(HEX, 4)}-{r(HEX, 12)}"),
    ("KS644", f"dop_v1_{r(HEX, 64)}"),
    ("KS645", f"shpat_{r(HEX, 32)}"),
    ("KS646", f"shpss_{r(HEX, 32)}"),
    ("KS647", f"OPENAI_API_KEY=sk-proj-{r(URL, 40)}T3BlbkFJ{r(URL, 40)}"),
    ("KS648", f"sk-ant-api03-{r(URL, 93)}AA"),
    ("KS649", f"RAILS_MASTER_KEY={r(HEX, 32)}"),
    ("KS651", f"secret_key_base: {r(HEX, 128)}"),
    ("KS652", f"DATABASE_URL=postgres://app:{r(ALNUM, 16)}@db.internal:5432/app"),
    ("KS652", f"REDIS_URL=redis://:{r(ALNUM, 20)}@cache:6379/0"),
    ("KS653", f"amqp://worker:{r(ALNUM, 16)}@rabbit:5672/%2f"),
    ("KS654", f"VAULT_TOKEN=hvs.{r(URL, 90)}"),
    ("KS655", f"sntrys_{r(B64, 120)}"),
    ("KS656", f"AGE-SECRET-KEY-1{r(BECH32, 58).upper()}"),
    ("KS657", f"OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ{r(URL, 300)}"),
    ("KS658", f"DefaultEndpointsProtocol=https;AccountName=corpus;AccountKey={r(B64, 86)}==;EndpointSuffix=core.windows.net"),
    ("KS659", f"hf_{r(string.ascii_letters, 34)}"),
    ("KS660", f"lin_api_{r(ALNUM, 40)}"),
    ("KS661", f"{r(string.digits, 10)}:AA{r(URL, 33)}"),
    ("KS662", f"https://discord.com/api/webhooks/{r(string.digits, 19)}/{r(URL, 68)}"),
    ("KS663", f"GOCSPX-{r(URL, 28)}"),
    ("KS664", f"{r(HEX, 32)}-us21"),
    ("KS665", f"NRAK-{r(string.ascii_uppercase + string.digits, 27)}"),
    ("KS666", f"dapi{r(HEX, 32)}"),
    ("KS667", f"dp.pt.{r(ALNUM, 43)}"),
    ("KS668", f"glsa_{r(ALNUM, 32)}_{r(HEX, 8)}"),
    ("KS669", f"tskey-auth-k{r(ALNUM, 11)}-{r(ALNUM, 33)}"),
    ("KS670", f"pscale_tkn_{r(URL, 43)}"),
    ("KS671", f"FLY_API_TOKEN=fm2_{r(B64, 120)}"),
    ("KS672", f"PMAK-{r(HEX, 24)}-{r(HEX, 34)}"),
    ("KS673", f"pul-{r(HEX, 40)}"),
    ("KS674", f"{r(ALNUM, 14)}.atlasv1.{r(URL, 67)}"),
    ("KS675", f"https://deploy:{r(ALNUM, 18)}@git.internal.corp/app.git"),
    ("KS602", f"SIGNING_KEY={r(HEX, 32)}"),
    ("KS602", f'config.api_token = "{r(ALNUM, 32)}"'),
    ("KS602", f"smtp_password: {r(ALNUM, 20)}"),
    ("KS602", f'"client_secret": "{r(URL, 40)}"'),
]

negatives = [
    "DB_PASSWORD=$DB_PASSWORD",
    "DB_PASSWORD=${DB_PASSWORD}",
    "KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD",
    "KAMAL_REGISTRY_PASSWORD=$(kamal secrets extract KAMAL_REGISTRY_PASSWORD $SECRETS)",
    "SECRETS=$(kamal secrets fetch --adapter 1password --account acme --from Vault/App KAMAL_REGISTRY_PASSWORD DB_PASSWORD)",
    "RAILS_MASTER_KEY=$(cat config/master.key)",
    "DATABASE_URL=op://Production/Database/url",
    "password: <%= ENV.fetch(\"DB_PASSWORD\") %>",
    "secret_key_base: <%= Rails.application.credentials.secret_key_base %>",
    "api_key: ${{ secrets.API_KEY }}",
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "api_key: changeme",
    "password: <your-password>",
    "token = \"<your-token>\"",
    "SECRET_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "STRIPE_SECRET_KEY=sk_live_************************",
    "password = \"password\"",
    "token = params[:token]",
    "secret = ENV['SECRET']",
    "self.api_key = options.fetch(:api_key)",
    "const token = await getToken(req.headers.authorization);",
    "password_confirmation: password",
    "id: 123e4567-e89b-12d3-a456-426614174000",
    "request_id=6f1c2a4e-9b3d-4c7e-8f0a-1b2c3d4e5f60",
    "commit 3b18e512dba79e4c8300dd08aeb37f8e728b8dad",
    "parent: 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "sha256:5d41402abc4b2a76b9719d911017c592e1e3b2f4d8b6a2f7c1e9d0a8b7c6d5e4",
    "md5sum 9e107d9d372bb6826bd81d3542a419d6  file.tar.gz",
    "\"integrity\": \"sha512-Ru7Zs6gk7UxGH8P4yLkUQ7rKd3h4qFc9x0Gd5yA8zWw3Kc9bXn3fS5jT8r2mQ1vY7uD6pE4hL0oN9aI2gZ3xB==\"",
    "integrity sha1-Zlm3q7Ybb9mwh4vE9DvA1UHkKz8=",
    "checksum = \"2b4bd4ee8d1c1f46a6a1b1a39b1b0e0e6f06a2f8a1f1e3c0b8e8e6f8c4d0b3a1\"",
    "<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\">",
    "background: url(data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7)",
    "-----BEGIN PUBLIC KEY-----",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy@ci",
    "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
    "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----",
    "DATABASE_URL=postgres://app@db.internal:5432/app",
    "DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal:5432/app",
    "REDIS_URL=redis://localhost:6379/0",
    "https://user:password@example.com/",
    "amqp://guest:guest@localhost:5672/",
    "TOKEN_TTL=3600",
    "PASSWORD_MIN_LENGTH=12",
    "SECRET_KEY_BASE_DUMMY=1",
    "password_reset_token_expires_in: 2.hours",
    "task :secrets => :environment do",
    "key: value",
    "RAILS_MASTER_KEY=",
    "the passkey login flow is described in docs/auth.md",
    "version = \"4.2.1-alpha.3+build.20261204\"",
    "image: ghcr.io/acme/app:3b18e512dba79e4c8300dd08aeb37f8e728b8dad",
    "cache_key = \"views/products/index-20261204\"",
    "secret_name: production/db-password",
    "auth_method: oauth2_client_credentials",
    "credentials_path: /etc/app/credentials.json",
    "monkey: 0123456789abcdefABCDEF",
    "Use `kseal set STRIPE_KEY` and reference it as STRIPE_KEY=$STRIPE_KEY.",
]

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "positives.tsv"), "w") as f:
    f.write("# code\tline (\\n stands for a newline)\n")
    for code, line in positives:
        f.write(code + "\t" + line.replace("\n", "\\n") + "\n")
with open(os.path.join(here, "negatives.txt"), "w") as f:
    f.write("# one line each; none holds a secret\n")
    for line in negatives:
        f.write(line + "\n")
