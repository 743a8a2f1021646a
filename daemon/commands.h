/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control side of pagemigd beyond the socket itself: the command handlers
 * (pagemigd_commands[], in commands.c), manual moves run in slices by the main loop, pages moved
 * per managed process, and the metrics outputs (a file written each cycle, an optional HTTP
 * listener on a loopback address).
 *
 * The main loop calls, in this order of a daemon's life:
 *   pagemigd_ctl_open()   once the control socket is open (setup)
 *   pagemigd_ctl_owns() / pagemigd_ctl_io()   for epoll events on fds it registered
 *   pagemigd_ctl_step()   after every loop iteration's executor slice
 *   pagemigd_ctl_close()  first thing in teardown (answers a running move, writes the final
 *                         metrics file)
 */
#ifndef PAGEMIG_DAEMON_COMMANDS_H
#define PAGEMIG_DAEMON_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>

struct pagemigd;

/* Slice of the loop a manual move may use per iteration. */
#define PAGEMIGD_MOVE_SLICE_MS 25
/* Resident pages of a manual move handed to libpagemig at once (one pagemig_move() call). */
#define PAGEMIGD_MOVE_CHUNK_PAGES 2048
/* /proc/PID/pagemap entries a manual move reads at most at once (while memory is sparse). */
#define PAGEMIGD_MOVE_SCAN_PAGES 65536
/* Decisions of manual moves kept for `history`. */
#define PAGEMIGD_MANUAL_HISTORY 64
/* Pages of a manual move whose migration steps `audit` shows. */
#define PAGEMIGD_MOVE_AUDIT_PAGES 32

/*
 * Set up the control side's state: register pagemigd as an audited mover with the sampler (so
 * its own migrations are followed step by step), open the metrics HTTP listener when
 * configured. Failures of optional parts are logged and leave them off. Returns 0 or -ENOMEM.
 */
int pagemigd_ctl_open(struct pagemigd *d);

/* Cancel a running manual move (its client is answered with ECANCELED and the pages moved so
 * far), close the metrics listener, write the metrics file one last time with pagemig_up 0, and
 * free the state. NULL state is fine. */
void pagemigd_ctl_close(struct pagemigd *d);

/* True when fd is one the control side registered in the daemon's epoll set. */
bool pagemigd_ctl_owns(const struct pagemigd *d, int fd);

/* Handle events on such an fd. */
void pagemigd_ctl_io(struct pagemigd *d, int fd, uint32_t events);

/*
 * Work between events: account decisions of the executor per process, write the metrics file
 * after each new cycle, run a slice of a manual move. wait_ms is what the loop would wait for
 * otherwise (-1 = forever); returns what it should wait for now.
 */
int pagemigd_ctl_step(struct pagemigd *d, int wait_ms);

#endif
