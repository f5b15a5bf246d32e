#!/usr/bin/env bash
# The node every payam service runs under (scripts/services.sh, the Docker image, the benchmarks),
# so that what is measured is what is run.
#
# --max-semi-space-size=32 (MiB; V8's default tops out at 16): a send worker allocates a few
# hundred KiB per message (rendering, tracking links, the SDK's request), and with the default
# young generation short-lived objects survive into the old one and are collected there at a
# far higher price. In bench:sender (both sides run under this script) it cut the CPU per
# message of the worker path and of the raw SDK loop alike, by about a quarter; the cost is at
# most 3 x 32 MiB of young generation per process.
exec node --max-semi-space-size=32 "$@"
