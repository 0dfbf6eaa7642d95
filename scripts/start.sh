#!/bin/sh
# How `npm start` runs Node (`sh scripts/start.sh dist/main.js`): on jemalloc when Debian's libjemalloc2
# is installed, as deploy/antenna.service does. glibc's malloc keeps the memory of a listener peak
# (after 3,000 HTTPS listeners left: ~300 MB RSS against ~130 MB on jemalloc; README, "Memory after a
# listener peak"). Without the library this is plain `node "$@"`, so npm alone still starts the server.
# An LD_PRELOAD already set is left as it is; ANTENNA_MALLOC=glibc opts out. Start-up logs which
# allocator runs (src/util/allocator.ts).
if [ -z "${LD_PRELOAD:-}" ] && [ "${ANTENNA_MALLOC:-}" != glibc ]; then
  for lib in /usr/lib/*/libjemalloc.so.2 /usr/lib/libjemalloc.so.2 /usr/local/lib/libjemalloc.so.2; do
    if [ -e "$lib" ]; then
      LD_PRELOAD=$lib
      export LD_PRELOAD
      break
    fi
  done
fi
exec node "$@"
