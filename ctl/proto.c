// SPDX-License-Identifier: LGPL-2.1-or-later
/* The control protocol's encoding for clients. See proto.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

void ctl_frame_put_len(uint8_t hdr[CTL_FRAME_HEADER], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

uint32_t ctl_frame_get_len(const uint8_t hdr[CTL_FRAME_HEADER])
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
}

uint8_t *ctl_request_encode(const char *command, struct json_object *args, size_t *ret_len)
{
	struct json_object *req;
	const char *text;
	uint8_t *frame = NULL;
	size_t len;

	if (!command || !*command) {
		errno = EINVAL;
		return NULL;
	}
	req = json_object_new_object();
	if (!req) {
		errno = ENOMEM;
		return NULL;
	}
	json_object_object_add(req, "version", json_object_new_int(PAGEMIG_PROTO_VERSION));
	json_object_object_add(req, "command", json_object_new_string(command));
	if (args)
		json_object_object_add(req, "args", json_object_get(args));
	text = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &len);
	if (!text) {
		errno = ENOMEM;
		goto out;
	}
	if (len > PAGEMIG_MAX_REQUEST) {
		errno = E2BIG;
		goto out;
	}
	frame = malloc(CTL_FRAME_HEADER + len);
	if (!frame) {
		errno = ENOMEM;
		goto out;
	}
	ctl_frame_put_len(frame, (uint32_t)len);
	memcpy(frame + CTL_FRAME_HEADER, text, len);
	*ret_len = CTL_FRAME_HEADER + len;
out:
	json_object_put(req);
	return frame;
}

static const struct {
	const char *name;
	int err;
} errno_names[] = {
	{"EPERM", EPERM},	  {"EACCES", EACCES},	{"ESRCH", ESRCH},
	{"EINVAL", EINVAL},	  {"ENOENT", ENOENT},	{"E2BIG", E2BIG},
	{"EPROTO", EPROTO},	  {"ENOSYS", ENOSYS},	{"EBUSY", EBUSY},
	{"ENODEV", ENODEV},	  {"ENOMEM", ENOMEM},	{"EAGAIN", EAGAIN},
	{"EEXIST", EEXIST},	  {"ERANGE", ERANGE},	{"EIO", EIO},
	{"ECANCELED", ECANCELED}, {"ENOTSUP", ENOTSUP}, {"ETIMEDOUT", ETIMEDOUT},
	{"ENOSPC", ENOSPC},	  {"EFAULT", EFAULT},	{"ENOTRECOVERABLE", ENOTRECOVERABLE},
	{"EXDEV", EXDEV},	  {"ENOBUFS", ENOBUFS},
};

int ctl_errno_from_name(const char *name)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (!strcmp(errno_names[i].name, name))
			return errno_names[i].err;
	return 0;
}

static const char *member_string(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int ctl_reply_decode(const char *text, size_t len, struct ctl_reply *ret)
{
	struct json_tokener *tok;
	struct json_object *root, *v, *e;
	int err = -EPROTO;

	memset(ret, 0, sizeof(*ret));
	if (len > PAGEMIG_MAX_REPLY)
		return -EPROTO;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, text, (int)len);
	/* exactly one object, nothing after it */
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len || !json_object_is_type(root, json_type_object))
		goto out_put;
	if (!json_object_object_get_ex(root, "version", &v) ||
	    !json_object_is_type(v, json_type_int))
		goto out_put;
	ret->version = json_object_get_int(v);
	if (!json_object_object_get_ex(root, "ok", &v) ||
	    !json_object_is_type(v, json_type_boolean))
		goto out_put;
	ret->ok = json_object_get_boolean(v);
	if (ret->ok) {
		if (json_object_object_get_ex(root, "result", &v))
			ret->result = v;
	} else {
		if (!json_object_object_get_ex(root, "error", &e) ||
		    !json_object_is_type(e, json_type_object))
			goto out_put;
		ret->error_code = member_string(e, "code");
		ret->error_message = member_string(e, "message");
		if (!ret->error_code || !ret->error_message)
			goto out_put;
		ret->error_errno = ctl_errno_from_name(ret->error_code);
		if (!ret->error_errno)
			ret->error_errno = EIO;
	}
	/* a daemon of another protocol version still says so in this shape */
	err = ret->version == PAGEMIG_PROTO_VERSION ? 0 : -EPROTONOSUPPORT;
	ret->root = root;
	json_tokener_free(tok);
	return err;

out_put:
	json_object_put(root);
	json_tokener_free(tok);
	{
		int version = ret->version;

		memset(ret, 0, sizeof(*ret));
		ret->version = version;
	}
	return err;
}

void ctl_reply_free(struct ctl_reply *reply)
{
	if (!reply)
		return;
	json_object_put(reply->root);
	memset(reply, 0, sizeof(*reply));
}
