#!/bin/bash
# The records writer in a cpu cgroup of its own (src/base/idlegroup.h):
# a real hearthd makes hearthd-idle-PID beside its own cpu cgroup, moves
# its records writer thread there (and nothing else), says so in its log,
# and removes the group when it stops; a group left by a hearthd killed
# with -9 is removed by the next one.  Needs root and cgroup v1's cpu
# controller: elsewhere hearthd keeps SCHED_IDLE alone and this says so
# (a skip, never a pass).
. "$(dirname "$0")/../lib.sh"

CPU=/sys/fs/cgroup/cpu
if [ "$(id -u)" != 0 ] || [ ! -e "$CPU/cpu.shares" ]; then
	echo "1..0 # SKIP needs root and cgroup v1's cpu controller ($CPU)"
	exit 0
fi
own=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3 }' /proc/self/cgroup)
[ "$own" = / ] && own=

# the cpu cgroup line of each of hearthd's threads: "TID PATH"
threads() {
	local t
	for t in /proc/"$HEARTH_PID"/task/*; do
		echo "${t##*/} $(awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3 }' "$t/cgroup")"
	done
}

hearth_start
group="$CPU$own/hearthd-idle-$HEARTH_PID"
ok "hearthd made $group" test -d "$group"
like "$(cat "$HEARTH_LOG")" "records: the writer runs in cgroup $group" "and says so in its log"
# (a cgroup file's size is 0 whatever it holds: read, not test -s)
has_thread() { [ -n "$(cat "$group/tasks" 2>/dev/null)" ]; }
ok "the writer thread moved into it" wait_until 5 has_thread
is "$(wc -l <"$group/tasks")" 1 "one thread in it"
is "$(threads | grep -c "hearthd-idle-$HEARTH_PID\$")" 1 "one of hearthd's threads in it"
is "$(threads | awk -v p="$HEARTH_PID" '$1 == p { print $2 }')" "${own:-/}" \
	"the loop's thread stays in hearthd's own cgroup"
is "$(cat "$group/cpu.idle")" 0 "not idle between flushes"

# killed: its group stays, and the next hearthd removes it
old=$group
hearth_kill9
ok "a hearthd killed with -9 leaves its group" test -d "$old"
hearth_start
ok "the next hearthd removed it" test ! -e "$old"
group="$CPU$own/hearthd-idle-$HEARTH_PID"
ok "and made its own" test -d "$group"
hearth_stop
ok "a hearthd that stops removes its group" test ! -e "$group"
done_testing
