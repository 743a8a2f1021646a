/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket: AF_UNIX stream, framed JSON messages (docs/control-protocol.md).
 *
 * Frame: a 4-byte big-endian payload length, then that many bytes of UTF-8 JSON. A request is
 * {"version": 1, "command": "status", "args": {...}}; a reply is {"version": 1, "ok": true,
 * "result": {...}} or {"version": 1, "ok": false, "error": {"code": "EPERM", "message": "..."}}.
 *
 * The server never blocks: sockets are non-blocking, each client has bounded input and output
 * buffers, a client that sends nothing whole within the idle timeout is dropped, and a client
 * that does not read its replies is dropped when its output buffer is full.
 */
#ifndef PAGEMIG_DAEMON_CONTROL_H
#define PAGEMIG_DAEMON_CONTROL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PAGEMIG_PROTO_VERSION	1
#define PAGEMIG_MAX_REQUEST	(64 * 1024)
#define PAGEMIG_MAX_REPLY	(4 * 1024 * 1024)
#define PAGEMIG_CONTROL_CLIENTS 32
#define PAGEMIG_CONTROL_IDLE_MS 10000
/* Requests per second a non-root uid may make, over all its connections, and the burst it may
 * make at once; beyond that requests are answered with EAGAIN (the connection stays). Root is
 * not limited: it may stop the daemon anyway. */
#define PAGEMIG_CONTROL_RATE  20
#define PAGEMIG_CONTROL_BURST 50

/* Who is asking, from SO_PEERCRED at accept time. */
struct control_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool privileged; /* root: may change things */
	bool reader;	 /* root or member of the socket's group: may read */
	uint64_t client; /* this connection, for control_reply(); never reused */
};

/*
 * A handler's return value when it answers later with control_reply() (a long-running command
 * such as a manual move). Until then the server reads nothing more from that client and does
 * not expire it; a client that hangs up is dropped (control_connected() then says false).
 */
#define CONTROL_DEFERRED 1

/*
 * A command handler fills *result (a new JSON object it owns) and returns 0, or returns -errno
 * and writes into msgbuf (msglen bytes) why and what to do, or returns CONTROL_DEFERRED and
 * keeps peer->client to answer later.
 */
typedef int (*control_handler_fn)(void *ctx, const struct control_peer *peer,
				  struct json_object *args, struct json_object **result,
				  char *msgbuf, size_t msglen);

struct control_command {
	const char *name;
	control_handler_fn handler;
	bool needs_privilege; /* changes something: root only */
};

struct control_server;

/*
 * Listen on path (an existing socket file is replaced if nothing answers on it) with mode 0660
 * and the given group; when the group does not exist the socket is root-only (0600) and
 * *group_missing is set so the caller can say so once. Returns 0 or -errno.
 */
int control_open(const char *path, const char *group, const struct control_command *commands,
		 void *ctx, struct control_server **ret, bool *group_missing);
void control_close(struct control_server *s);

/* The listening fd (for epoll). */
int control_listen_fd(const struct control_server *s);

/* Call when the listening fd is readable: accept every waiting client. */
void control_accept(struct control_server *s);

/* Add the client fds and their events to epfd (the caller passes fds back to control_io). The
 * server keeps its clients registered itself: pass the epoll fd once. */
void control_set_epoll(struct control_server *s, int epfd);

/* True when fd belongs to a client of this server. */
bool control_owns(const struct control_server *s, int fd);

/* Handle events on a client fd. */
void control_io(struct control_server *s, int fd, uint32_t events);

/* Drop clients idle for longer than PAGEMIG_CONTROL_IDLE_MS; call now and then. */
void control_expire(struct control_server *s, uint64_t now_ms);

/* Clients currently connected. */
unsigned int control_clients(const struct control_server *s);

/*
 * Answer a deferred request of client: with result (ownership passes to the server; NULL
 * means an empty object) when err is 0, else with the error -err and message. Returns 0, or
 * -ENOENT when the client is gone (result is released), or -ENOMEM/-ENOBUFS (the client is
 * dropped).
 */
int control_reply(struct control_server *s, uint64_t client, int err, struct json_object *result,
		  const char *message);

/* True while client is connected. */
bool control_connected(const struct control_server *s, uint64_t client);

/* The errno name of err ("EPERM") for replies; "EIO" for unknown values. */
const char *control_errno_name(int err);

/*
 * Check that the socket file is still there (a cleanup of /run, a removed directory); when it
 * is gone or replaced by something that does not answer, listen again on a new one. Returns 0
 * when nothing changed, 1 when the socket was created again, -errno when that failed (tried
 * again at the next call).
 */
int control_check_path(struct control_server *s);

/* ---- the pure parts, exposed for tests and fuzzing (tests/fuzz) ---------------------------- */

/*
 * The next frame in buf[0..len): 1 with *payload_len (the payload follows the 4-byte header),
 * 0 when more bytes are needed, -E2BIG when the header announces 0 bytes or more than
 * PAGEMIG_MAX_REQUEST (the stream cannot be resynchronised).
 */
int control_frame_next(const uint8_t *buf, size_t len, uint32_t *payload_len);

/* One request, decoded and checked. */
struct control_request {
	struct json_object *req;	   /* the whole request; control_request_free() */
	const struct control_command *cmd; /* the command asked for, from the table */
	struct json_object *args;	   /* its args object (borrowed from req), or NULL */
};

/*
 * Decode the len bytes of one frame's payload (anything) from peer: one JSON object, version 1,
 * a command of the NULL-terminated table commands, that peer may run, args absent or an object.
 * Returns 0 and *ret, or -EPROTO, -EINVAL, -ENOSYS, -EACCES, -EPERM, -ENOMEM with the reason in
 * msg (always NUL-terminated). No I/O, no global state.
 */
int control_decode_request(const char *payload, size_t len, const struct control_command *commands,
			   const struct control_peer *peer, struct control_request *ret, char *msg,
			   size_t msglen);
void control_request_free(struct control_request *r);

#endif
