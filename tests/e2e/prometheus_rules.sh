#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The shipped Prometheus rules are valid and behave as their unit tests say:
# promtool check rules + promtool test rules.   Usage: prometheus_rules.sh PROMTOOL DIR
set -e
cd "$2"
"$1" check rules edgeprobe-rules.yml
"$1" test rules edgeprobe-rules.test.yml
