#!/usr/bin/env bash
# The README's demo must run end to end and tell the whole story.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(cargo run -q -p quietline-demo)
pass=0; fail=0
check() {
  if grep -qF -- "$1" <<<"$out"; then pass=$((pass+1)); else fail=$((fail+1)); echo "demo output lacks: $1"; fi
}
check "helpline call dials *67"
check "OS call log: 0 entries, contacts: 0 entries"
check "SMS blocked"
check "call screened"
check "same SMS again: Replayed"
check '"performed": "full"'
check '"reason": "byod_selective_only"'
check "the same wipe SMS again: refused"
check "screen locked"
# The guidance screen for a survivor with a plan.
check "warning: This survivor asked not to be called now"
check 'voicemail script: "Hello, this is [your first name]'
check "review due: ask whether this plan still suits them"
# Every wipe SMS fits one GSM-7 message.
while read -r sms; do
  [ "${#sms}" -le 160 ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "SMS longer than 160: ${#sms}"; }
done < <(grep -o 'SMS: QL:[A-Za-z0-9_-]*' <<<"$out" | sed 's/^SMS: //')
echo "demo: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
