/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pagemigctl's connection to pagemigd: connect to the control socket, send one request, wait
 * for its reply, all within a deadline so that a silent daemon never hangs the caller. And the
 * mapping from what went wrong to pagemigctl's exit status and to a message that says what to
 * do next.
 */
#ifndef PAGEMIG_CTL_CLIENT_H
#define PAGEMIG_CTL_CLIENT_H

#include <stddef.h>

#include "proto.h"

/* The daemon's default socket (the configuration's socket key can move it). */
#define CTL_DEFAULT_SOCKET "/run/pagemig/pagemigd.sock"

/* pagemigctl's exit status (documented in pagemigctl --help and docs/control-protocol.md). */
enum ctl_exit {
	CTL_EXIT_OK = 0,	  /* the command succeeded */
	CTL_EXIT_FAILED = 1,	  /* the daemon answered with an error (or a move did not finish) */
	CTL_EXIT_USAGE = 2,	  /* bad command line */
	CTL_EXIT_NOT_RUNNING = 3, /* no daemon at the socket: missing, refused */
	CTL_EXIT_DENIED = 4,	  /* permission denied: socket not accessible, EACCES/EPERM reply */
	CTL_EXIT_NO_ANSWER = 5,	  /* no usable answer in time: timeout, protocol error, version */
};

/*
 * Send command with args (may be NULL) to the daemon at socket_path and wait for the reply, at
 * most timeout_ms in all (connecting, sending, receiving; <= 0 waits forever). Returns 0 and a
 * decoded reply in *ret (ok or not: check ret->ok), or a negative errno for the transport:
 *   -ENOENT, -ECONNREFUSED, -ENOTSOCK  nobody listens there
 *   -EACCES, -EPERM                    the socket (or its directory) is not accessible
 *   -ETIMEDOUT                         no complete reply before the deadline
 *   -ECONNRESET, -EPIPE                the daemon closed the connection before replying
 *   -EPROTO                            the reply is not a protocol reply (or is too large)
 *   -EPROTONOSUPPORT                   the daemon speaks another protocol version
 *   -ENAMETOOLONG, -E2BIG, -ENOMEM     the request cannot be made
 * *ret must be released with ctl_reply_free() in every case.
 */
int ctl_call(const char *socket_path, int timeout_ms, const char *command, struct json_object *args,
	     struct ctl_reply *ret);

/*
 * For a transport failure err (negative, from ctl_call()): the exit status, and into buf a
 * message that says what went wrong and what to do next ("... is pagemigd running? systemctl
 * status pagemigd"). Returns the exit status.
 */
int ctl_transport_error(int err, const char *socket_path, int timeout_ms, char *buf, size_t len);

/*
 * For an error reply: the exit status (CTL_EXIT_DENIED for EACCES and EPERM, CTL_EXIT_FAILED
 * otherwise), and into buf the daemon's message followed by a hint where one helps ("run as
 * root or join group pagemig"). Returns the exit status.
 */
int ctl_reply_error(const struct ctl_reply *reply, const char *command, char *buf, size_t len);

#endif
