/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client side of pagemigd's control protocol (docs/control-protocol.md): framing, request
 * encoding and reply decoding. Pure functions, no I/O, so unit tests cover them byte for byte.
 *
 * A frame is a 4-byte big-endian payload length followed by that many bytes of UTF-8 JSON. The
 * limits and the protocol version are the daemon's (daemon/control.h), shared so that client and
 * server cannot disagree.
 */
#ifndef PAGEMIG_CTL_PROTO_H
#define PAGEMIG_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "control.h" /* PAGEMIG_PROTO_VERSION, PAGEMIG_MAX_REQUEST, PAGEMIG_MAX_REPLY */

/* Bytes of the length prefix. */
#define CTL_FRAME_HEADER 4

/* Write len into hdr as a 4-byte big-endian number. */
void ctl_frame_put_len(uint8_t hdr[CTL_FRAME_HEADER], uint32_t len);

/* The payload length a frame header announces. */
uint32_t ctl_frame_get_len(const uint8_t hdr[CTL_FRAME_HEADER]);

/*
 * Encode a request frame: header and {"version":1,"command":command,"args":args} (args may be
 * NULL: no "args" member). Returns a malloc'ed buffer of *ret_len bytes, or NULL with errno
 * EINVAL (empty command), E2BIG (beyond PAGEMIG_MAX_REQUEST) or ENOMEM.
 */
uint8_t *ctl_request_encode(const char *command, struct json_object *args, size_t *ret_len);

/* A decoded reply. root owns everything; result and error_* point into it. */
struct ctl_reply {
	struct json_object *root;
	int version;		    /* the reply's "version" */
	bool ok;		    /* "ok" */
	struct json_object *result; /* "result" (ok replies; may be NULL if the daemon sent none) */
	const char *error_code;	    /* "error"."code": "EPERM", ... (failed replies) */
	const char *error_message;  /* "error"."message" */
	int error_errno;	    /* error_code as a positive errno value, EIO if unknown */
};

/*
 * Decode a reply payload (without its header) into *ret; release it with ctl_reply_free()
 * whatever this returns. Returns 0, -EPROTO when the text is not one JSON object with a boolean
 * "ok", an integer "version" and, for failures, an "error" object with string "code" and "message";
 * -EPROTONOSUPPORT when the version is not PAGEMIG_PROTO_VERSION (ret->version tells which);
 * -ENOMEM.
 */
int ctl_reply_decode(const char *text, size_t len, struct ctl_reply *ret);

/* Release a reply; a zeroed one is fine. */
void ctl_reply_free(struct ctl_reply *reply);

/* errno value of an errno name the daemon sends ("EPERM" -> EPERM); 0 when unknown. */
int ctl_errno_from_name(const char *name);

#endif
