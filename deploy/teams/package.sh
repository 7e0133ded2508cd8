#!/usr/bin/env bash
# Builds the Teams app package: a zip with manifest.json, color.png and outline.png at its
# root, the manifest's ids filled in from the environment. Upload it in Teams (Apps →
# Manage your apps → Upload an app), the Developer Portal or the admin centre.
#
#   MAILGUIDE_TEAMS_APP_ID=<Microsoft App ID> deploy/teams/package.sh [OUT.zip]
#
# Optional: MAILGUIDE_TEAMS_APP_VERSION (semver; bump it on every re-upload),
# MAILGUIDE_TEAMS_DEVELOPER_NAME, MAILGUIDE_TEAMS_WEBSITE_URL, MAILGUIDE_TEAMS_PRIVACY_URL,
# MAILGUIDE_TEAMS_TERMS_URL (https), MAILGUIDE_TEAMS_BOT_NAME (the short name, ≤ 30 chars).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$PWD/mailguide-teams.zip}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

app_id="${MAILGUIDE_TEAMS_APP_ID:-}"
if [[ ! "$app_id" =~ ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$ ]]; then
  echo "package.sh: set MAILGUIDE_TEAMS_APP_ID to the bot's Microsoft App ID (a GUID)" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# JSON is edited as JSON, never with sed, so names with quotes or slashes stay valid.
python3 - "$here/manifest.json" "$work/manifest.json" <<'PY'
import json, os, re, sys
src, dst = sys.argv[1], sys.argv[2]
m = json.load(open(src, encoding="utf-8"))
env = os.environ.get
app_id = env("MAILGUIDE_TEAMS_APP_ID").lower()
m["id"] = app_id
m["bots"][0]["botId"] = app_id
m["version"] = env("MAILGUIDE_TEAMS_APP_VERSION") or m["version"]
if not re.fullmatch(r"\d+\.\d+\.\d+", m["version"]):
    sys.exit("package.sh: MAILGUIDE_TEAMS_APP_VERSION must look like 1.2.3")
dev = m["developer"]
dev["name"] = env("MAILGUIDE_TEAMS_DEVELOPER_NAME") or dev["name"]
for key, var in (("websiteUrl", "MAILGUIDE_TEAMS_WEBSITE_URL"), ("privacyUrl", "MAILGUIDE_TEAMS_PRIVACY_URL"),
                 ("termsOfUseUrl", "MAILGUIDE_TEAMS_TERMS_URL")):
    dev[key] = env(var) or dev[key]
    if not dev[key].startswith("https://"):
        sys.exit(f"package.sh: {var} must be an https URL")
if len(dev["name"]) > 32:
    sys.exit("package.sh: MAILGUIDE_TEAMS_DEVELOPER_NAME is longer than 32 characters")
name = env("MAILGUIDE_TEAMS_BOT_NAME")
if name:
    if len(name) > 30:
        sys.exit("package.sh: MAILGUIDE_TEAMS_BOT_NAME is longer than 30 characters")
    m["name"]["short"] = name
json.dump(m, open(dst, "w", encoding="utf-8"), indent=2, ensure_ascii=False)
PY

cp "$here/color.png" "$here/outline.png" "$work/"
mkdir -p "$(dirname "$out")"
rm -f "$out"
if command -v zip >/dev/null 2>&1; then
  (cd "$work" && zip -q -X "$out" manifest.json color.png outline.png)
else
  python3 - "$work" "$out" <<'PY'
import sys, zipfile
work, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for f in ("manifest.json", "color.png", "outline.png"):
        z.write(f"{work}/{f}", f)
PY
fi
echo "package.sh: wrote $out (app id ${app_id,,}, version $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$work/manifest.json"))"
