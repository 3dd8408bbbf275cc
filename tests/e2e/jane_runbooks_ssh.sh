#!/usr/bin/env bash
# jane_runbooks.sh with the sandbox's hosts behind ssh (users jane and tremor, a private sshd).
JANE_E2E_SSH=1 exec bash "$(dirname "$0")/jane_runbooks.sh"
