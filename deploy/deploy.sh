#!/usr/bin/env bash
# deploy.sh - install the newest commit of a git branch as a Wildkat release.
#
# When the branch has moved: clone the commit into a fresh release folder,
# npm ci, build and test there, switch the `current` symlink atomically,
# restart the service, check that the tracker answers an announce, and roll
# back to the previous release if any step fails. The running service never
# sees a half-installed tree. Safe to run twice at once (a lock). Every step
# is logged with a timestamp (journald keeps it when run by the timer).
#
# Settings (environment, or /etc/default/wildkat-deploy for the timer):
#   WILDKAT_REPO         git remote (URL or path)                   required
#   WILDKAT_BRANCH       branch to follow                           main
#   WILDKAT_ROOT         holds releases/ and the current symlink    /opt/wildkat
#   WILDKAT_KEEP         releases to keep                           5
#   WILDKAT_RESTART_CMD  restarts the service                       systemctl restart wildkat-tracker
#   WILDKAT_CHECK_CMD    exits 0 when the tracker answers           wildkat-query announce to WILDKAT_CHECK_URL
#   WILDKAT_CHECK_URL    what the default check announces to        udp://127.0.0.1:6969/announce
#   WILDKAT_SKIP_TESTS   1: build but do not run the tests          0
#
# The tests run here are the fast lane (`npm run test:fast`: type-check,
# unit, store and in-process integration tests, about 20 s); the whole
# suite (real BitTorrent clients, Chromium, Redis) is CI's job, not the
# production host's.
#
# Exit status: 0 deployed or already current (or another deploy holds the
# lock), 1 the new commit failed and the previous release is running.
set -euo pipefail

REPO=${WILDKAT_REPO:?set WILDKAT_REPO to the git remote to deploy from}
BRANCH=${WILDKAT_BRANCH:-main}
ROOT=${WILDKAT_ROOT:-/opt/wildkat}
KEEP=${WILDKAT_KEEP:-5}
RESTART_CMD=${WILDKAT_RESTART_CMD:-systemctl restart wildkat-tracker}
CHECK_URL=${WILDKAT_CHECK_URL:-udp://127.0.0.1:6969/announce}
CHECK_CMD=${WILDKAT_CHECK_CMD:-node "$ROOT/current/bin/wildkat-query" -t "$CHECK_URL" --timeout 3 -R 5 -o json}
SKIP_TESTS=${WILDKAT_SKIP_TESTS:-0}

log() { printf '%s deploy: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
die() { log "FAILED: $*"; exit 1; }

mkdir -p "$ROOT/releases"
exec 9>"$ROOT/.deploy.lock"
if ! flock -n 9; then
  log "another deploy is running; nothing to do"
  exit 0
fi

commit=$(git ls-remote "$REPO" "refs/heads/$BRANCH" | cut -f1)
[ -n "$commit" ] || die "branch $BRANCH not found in $REPO"
previous=""
if [ -L "$ROOT/current" ]; then
  previous=$(readlink "$ROOT/current")
fi
if [ -n "$previous" ] && [ -f "$previous/.deployed-commit" ] && [ "$(cat "$previous/.deployed-commit")" = "$commit" ]; then
  log "already at $commit; nothing to do"
  exit 0
fi

release="$ROOT/releases/$(date -u +%Y%m%dT%H%M%SZ)-${commit:0:12}"
log "new commit $commit on $BRANCH; preparing $release"

# Steps before the switch: a failure only removes the unused release.
fail_before_switch() {
  log "FAILED: $1; removing $release; the running release is unchanged${previous:+ ($previous)}"
  rm -rf "$release"
  exit 1
}
git clone --quiet --no-checkout "$REPO" "$release" || fail_before_switch "git clone"
git -C "$release" checkout --quiet --detach "$commit" || fail_before_switch "git checkout $commit"
log "npm ci"
(cd "$release" && npm ci --no-audit --no-fund) || fail_before_switch "npm ci"
log "npm run build"
(cd "$release" && npm run build) || fail_before_switch "npm run build"
if [ "$SKIP_TESTS" != 1 ]; then
  log "npm run test:fast"
  (cd "$release" && npm run test:fast) || fail_before_switch "npm run test:fast"
fi
echo "$commit" >"$release/.deployed-commit"

# Atomic switch: a new symlink renamed over the old one.
switch_to() {
  ln -sfn "$1" "$ROOT/.current.new"
  mv -T "$ROOT/.current.new" "$ROOT/current"
}
log "switching current to $release"
switch_to "$release"

rollback() {
  log "FAILED: $1"
  if [ -z "$previous" ]; then
    log "no previous release to roll back to; leaving $release in place"
    exit 1
  fi
  log "rolling back to $previous"
  switch_to "$previous"
  if ! sh -c "$RESTART_CMD"; then log "restart after rollback failed too: check the service by hand"; fi
  rm -rf "$release"
  exit 1
}
log "restarting: $RESTART_CMD"
sh -c "$RESTART_CMD" || rollback "restart"
log "checking that the tracker answers"
sh -c "$CHECK_CMD" >/dev/null || rollback "the tracker did not answer an announce"

log "deployed $commit"
# Keep the newest $KEEP releases (and whatever current points at).
current_target=$(readlink "$ROOT/current")
find "$ROOT/releases" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort -r | tail -n +"$((KEEP + 1))" | while read -r old; do
  if [ "$ROOT/releases/$old" != "$current_target" ]; then
    log "pruning old release $old"
    rm -rf "${ROOT:?}/releases/$old"
  fi
done
