// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz target: the control socket's input side (daemon/control.c), i.e. what any process that
 * can connect may send: the byte stream is cut into frames (control_frame_next) and each payload
 * decoded and checked (control_decode_request) as the server does before calling a handler.
 *
 * Input: one byte of peer flags (bit 0 reader, bit 1 root), then the stream.
 * Checks besides the sanitizers: frames stay inside the input and within the size limit; a
 * decoded request names a command of the table and carries an object (or no) args; a peer that
 * is not a reader never gets a request through, a reader that is not root never one of the
 * commands that need privilege; every refusal comes with a message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

#define FAIL(...)                                              \
	do {                                                   \
		fprintf(stderr, "fuzz_control: " __VA_ARGS__); \
		fputc('\n', stderr);                           \
		abort();                                       \
	} while (0)

/* The daemon's table (daemon/commands.c, pagemigd_commands): names and privilege. */
static const struct control_command commands[] = {
	{"status", NULL, false}, {"nodes", NULL, false},  {"procs", NULL, false},
	{"proc", NULL, false},	 {"history", NULL, false}, {"audit", NULL, false},
	{"config", NULL, false}, {"metrics", NULL, false}, {"move", NULL, true},
	{"pause", NULL, true},	 {"resume", NULL, true},   {"reload", NULL, true},
	{NULL, NULL, false},
};

static void decode(const char *payload, size_t len, const struct control_peer *peer)
{
	struct control_request rq;
	char msg[1024];
	int err;

	memset(msg, 0x5a, sizeof(msg));
	err = control_decode_request(payload, len, commands, peer, &rq, msg, sizeof(msg));
	if (!memchr(msg, 0, sizeof(msg)))
		FAIL("the message is not terminated");
	if (err) {
		if (err != -EPROTO && err != -EINVAL && err != -ENOSYS && err != -EACCES &&
		    err != -EPERM && err != -ENOMEM && err != -E2BIG)
			FAIL("unexpected error %d", err);
		if (!msg[0])
			FAIL("error %d without a message", err);
		if (rq.req || rq.cmd || rq.args)
			FAIL("a refused request left something behind");
		/* the reply quotes the message: it must be printable as JSON (json-c escapes) */
		return;
	}
	if (!rq.req || !rq.cmd || !rq.cmd->name)
		FAIL("an accepted request without a command");
	if (rq.cmd < commands || rq.cmd >= commands + sizeof(commands) / sizeof(commands[0]) - 1)
		FAIL("the command is not from the table");
	if (!peer->reader)
		FAIL("a peer that is not a reader got '%s' through", rq.cmd->name);
	if (rq.cmd->needs_privilege && !peer->privileged)
		FAIL("a reader that is not root got '%s' through", rq.cmd->name);
	if (rq.args && !json_object_is_type(rq.args, json_type_object))
		FAIL("args that are not an object got through");
	/* what a handler does with args: walk them */
	if (rq.args) {
		json_object_object_foreach(rq.args, key, val)
		{
			(void)key;
			(void)json_object_get_string(val);
		}
	}
	control_request_free(&rq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_peer peer = {.pid = 4242, .uid = 1000, .gid = 1000};
	size_t off = 1;

	if (!size)
		return 0;
	peer.reader = data[0] & 1;
	peer.privileged = data[0] & 2;
	if (peer.privileged) {
		peer.reader = true;
		peer.uid = 0;
	}
	while (off < size) {
		uint32_t len = 0;
		int r = control_frame_next(data + off, size - off, &len);

		if (r < 0)
			break; /* the server answers E2BIG and closes */
		if (r == 0) {
			if (size - off >= 4 + (size_t)PAGEMIG_MAX_REQUEST)
				FAIL("a whole frame was not recognised");
			break; /* waits for more */
		}
		if (r != 1 || !len || len > PAGEMIG_MAX_REQUEST || 4 + (size_t)len > size - off)
			FAIL("frame of %u bytes at %zu of %zu", len, off, size);
		decode((const char *)data + off + 4, len, &peer);
		off += 4 + (size_t)len;
	}
	/* the payload as a whole, whatever its framing: the decoder takes any bytes */
	if (size - 1 <= PAGEMIG_MAX_REQUEST)
		decode((const char *)data + 1, size - 1, &peer);
	return 0;
}
