// SPDX-License-Identifier: LGPL-2.1-or-later
/* The control socket server: framing, peer credentials, dispatch. See control.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "clock.h"

struct client {
	int fd;
	struct control_peer peer;
	uint8_t *in; /* 4 + PAGEMIG_MAX_REQUEST bytes */
	size_t in_len;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	uint64_t last_ms;
	uint64_t id;   /* control_peer.client */
	bool closing;  /* close once the output is flushed */
	bool deferred; /* a handler answers later (control_reply): read nothing until then */
};

/* Requests of one non-root uid: a token bucket shared by all its connections, so that
 * reconnecting does not reset it. */
struct rate_bucket {
	uid_t uid;
	bool used;
	double tokens;
	uint64_t last_ms;
	uint64_t refused; /* requests refused since the last log line */
};

#define RATE_BUCKETS (2 * PAGEMIG_CONTROL_CLIENTS)

struct control_server {
	int fd;
	int epfd;
	char path[108];
	dev_t dev; /* the socket file we bound, to notice it vanish or be replaced */
	ino_t ino;
	gid_t gid;
	bool have_group;
	struct rate_bucket rate[RATE_BUCKETS];
	const struct control_command *commands;
	void *ctx;
	uint64_t next_id;
	struct client clients[PAGEMIG_CONTROL_CLIENTS];
};

static const struct {
	int err;
	const char *name;
} errno_names[] = {
	{EPERM, "EPERM"},
	{EACCES, "EACCES"},
	{ESRCH, "ESRCH"},
	{EINVAL, "EINVAL"},
	{ENOENT, "ENOENT"},
	{E2BIG, "E2BIG"},
	{EPROTO, "EPROTO"},
	{ENOSYS, "ENOSYS"},
	{EBUSY, "EBUSY"},
	{ENODEV, "ENODEV"},
	{ENOMEM, "ENOMEM"},
	{EAGAIN, "EAGAIN"},
	{EEXIST, "EEXIST"},
	{ERANGE, "ERANGE"},
	{EIO, "EIO"},
	{ECANCELED, "ECANCELED"},
	{ENOTSUP, "ENOTSUP"},
	{ETIMEDOUT, "ETIMEDOUT"},
	{ENOSPC, "ENOSPC"},
	{EFAULT, "EFAULT"},
	{ENOBUFS, "ENOBUFS"},
	{EXDEV, "EXDEV"},
	{ENOTRECOVERABLE, "ENOTRECOVERABLE"},
};

const char *control_errno_name(int err)
{
	err = err < 0 ? -err : err;
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (errno_names[i].err == err)
			return errno_names[i].name;
	return "EIO";
}

/* ---- listening ----------------------------------------------------------------------------- */

/* A socket file nobody answers on is left over from a daemon that died: remove it. A live one
 * means another daemon runs. */
static int claim_path(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	/* only a socket is ours to replace: a mistyped path must not delete a file */
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	if (r == 0)
		return -EADDRINUSE;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Create the socket's directory (not its parents) when missing, e.g. /run/pagemig without
 * systemd's RuntimeDirectory=. */
static void make_parent(const char *path)
{
	char dir[108];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = 0;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		log_debug("cannot create '%s': %s", dir, strerror(errno));
}

/* Bind and listen on s->path with the server's group and mode; *ret the new listening fd.
 * again: the daemon may have dropped CAP_CHOWN since it started; without it the socket is
 * root's only (0600) rather than not there at all. */
static int listen_on(struct control_server *s, int *ret, bool again)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	mode_t mode = s->have_group ? 0660 : 0600, old;
	struct stat st;
	int fd, err;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", s->path);
	make_parent(s->path);
	err = claim_path(s->path);
	if (err == -EEXIST && !again)
		log_error("control: '%s' exists and is not a socket: not replacing it", s->path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* the mode applies from the moment the name exists: no window where anyone may connect */
	old = umask(0777 & ~mode);
	err = bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
	umask(old);
	if (err)
		goto out_close;
	if (s->have_group && chown(s->path, 0, s->gid) < 0) {
		err = -errno;
		if (!again)
			goto out_unlink;
		log_warning("control: cannot give '%s' to group %u again (%s): root only until "
			    "restarted",
			    s->path, (unsigned int)s->gid, strerror(-err));
		mode = 0600;
	}
	if (chmod(s->path, mode) < 0 || listen(fd, 16) < 0 || lstat(s->path, &st) < 0) {
		err = -errno;
		goto out_unlink;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	*ret = fd;
	return 0;

out_unlink:
	unlink(s->path);
out_close:
	close(fd);
	return err;
}

int control_check_path(struct control_server *s)
{
	struct stat st;
	int fd, err;

	if (lstat(s->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == s->dev &&
	    st.st_ino == s->ino)
		return 0;
	err = listen_on(s, &fd, true);
	if (err)
		return err;
	if (s->epfd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->fd, NULL);
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			err = -errno;
			close(fd);
			unlink(s->path);
			return err;
		}
	}
	close(s->fd); /* clients already connected stay */
	s->fd = fd;
	return 1;
}

int control_open(const char *path, const char *group, const struct control_command *commands,
		 void *ctx, struct control_server **ret, bool *group_missing)
{
	struct control_server *s;
	struct group *g = group && *group ? getgrnam(group) : NULL;
	int err;

	if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
		return -ENAMETOOLONG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (int i = 0; i < PAGEMIG_CONTROL_CLIENTS; i++)
		s->clients[i].fd = -1;
	s->epfd = -1;
	s->commands = commands;
	s->ctx = ctx;
	s->have_group = g != NULL;
	s->gid = g ? g->gr_gid : 0;
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (group_missing)
		*group_missing = !g;

	err = listen_on(s, &s->fd, false);
	if (err) {
		free(s);
		return err;
	}
	*ret = s;
	return 0;
}

static void client_drop(struct control_server *s, struct client *c)
{
	if (c->fd < 0)
		return;
	if (s->epfd >= 0)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void control_close(struct control_server *s)
{
	if (!s)
		return;
	for (int i = 0; i < PAGEMIG_CONTROL_CLIENTS; i++) {
		struct client *c = &s->clients[i];

		/* one last try for replies already queued (e.g. a cancelled move's answer) */
		if (c->fd >= 0 && c->out_len > c->out_off)
			(void)!send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				    MSG_NOSIGNAL | MSG_DONTWAIT);
		client_drop(s, c);
	}
	if (s->fd >= 0) {
		struct stat st;

		close(s->fd);
		/* not someone else's file that took the name meanwhile */
		if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
			unlink(s->path);
	}
	free(s);
}

int control_listen_fd(const struct control_server *s)
{
	return s->fd;
}

void control_set_epoll(struct control_server *s, int epfd)
{
	s->epfd = epfd;
}

bool control_owns(const struct control_server *s, int fd)
{
	for (int i = 0; i < PAGEMIG_CONTROL_CLIENTS; i++)
		if (s->clients[i].fd == fd)
			return true;
	return false;
}

unsigned int control_clients(const struct control_server *s)
{
	unsigned int n = 0;

	for (int i = 0; i < PAGEMIG_CONTROL_CLIENTS; i++)
		n += s->clients[i].fd >= 0;
	return n;
}

/* Member of gid by primary or supplementary group: the groups the peer had when it connected
 * (SO_PEERGROUPS, Linux 4.13), or else per /proc/PID/status of the peer. */
static bool peer_in_group(int fd, pid_t pid, gid_t primary, gid_t gid)
{
	char path[64], line[1024];
	bool in = primary == gid;
	gid_t groups[256];
	socklen_t glen = sizeof(groups);
	FILE *f;

	if (in)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0 || errno == ERANGE) {
		gid_t *all = groups;

		if (glen > sizeof(groups)) { /* ERANGE: glen is the size needed */
			all = malloc(glen);
			if (!all || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, all, &glen) < 0) {
				free(all);
				return false;
			}
		}
		for (size_t i = 0; i < glen / sizeof(gid_t) && !in; i++)
			in = all[i] == gid;
		if (all != groups)
			free(all);
		return in;
	}

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	while (!in && f && fgets(line, sizeof(line), f)) {
		char *p, *end;

		if (strncmp(line, "Groups:", 7))
			continue;
		for (p = line + 7;; p = end) {
			unsigned long v = strtoul(p, &end, 10);

			if (end == p)
				break;
			if (v == gid)
				in = true;
		}
	}
	if (f)
		fclose(f);
	return in;
}

static void set_events(struct control_server *s, struct client *c)
{
	/* deferred: no EPOLLIN (its data waits in the socket), EPOLLHUP still says it is gone */
	struct epoll_event ev = {.events = c->deferred ? 0 : EPOLLIN | EPOLLRDHUP,
				 .data.fd = c->fd};

	if (c->out_len > c->out_off)
		ev.events |= EPOLLOUT;
	if (s->epfd >= 0 && epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0 && errno == ENOENT)
		epoll_ctl(s->epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

void control_accept(struct control_server *s)
{
	for (;;) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct client *c = NULL;
		int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return; /* EAGAIN: no more; anything else: try again on the next event */
		for (int i = 0; i < PAGEMIG_CONTROL_CLIENTS && !c; i++)
			if (s->clients[i].fd < 0)
				c = &s->clients[i];
		if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			log_debug("control: refusing a client (%s)",
				  c ? strerror(errno) : "too many");
			close(fd);
			continue;
		}
		c->in = malloc(4 + PAGEMIG_MAX_REQUEST);
		if (!c->in) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->id = ++s->next_id;
		c->peer.client = c->id;
		c->peer.pid = cred.pid;
		c->peer.uid = cred.uid;
		c->peer.gid = cred.gid;
		c->peer.privileged = cred.uid == 0;
		c->peer.reader = cred.uid == 0 ||
				 (s->have_group && peer_in_group(fd, cred.pid, cred.gid, s->gid));
		c->last_ms = mono_ms();
		{
			struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};

			if (s->epfd >= 0)
				epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
		}
	}
}

/* ---- replies ------------------------------------------------------------------------------- */

static int queue(struct client *c, const char *payload, size_t len)
{
	size_t need = c->out_len + 4 + len;

	if (need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		uint8_t *p;

		while (cap < need)
			cap *= 2;
		if (cap > 2 * (size_t)PAGEMIG_MAX_REPLY + 8)
			return -ENOBUFS; /* the client does not read: drop it */
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	c->out[c->out_len++] = (uint8_t)(len >> 24);
	c->out[c->out_len++] = (uint8_t)(len >> 16);
	c->out[c->out_len++] = (uint8_t)(len >> 8);
	c->out[c->out_len++] = (uint8_t)len;
	memcpy(c->out + c->out_len, payload, len);
	c->out_len += len;
	return 0;
}

static int queue_json(struct client *c, struct json_object *reply)
{
	size_t len;
	const char *text = json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN, &len);
	int err;

	if (len > PAGEMIG_MAX_REPLY) {
		struct json_object *e = json_object_new_object(), *d = json_object_new_object();

		json_object_object_add(e, "version", json_object_new_int(PAGEMIG_PROTO_VERSION));
		json_object_object_add(e, "ok", json_object_new_boolean(0));
		json_object_object_add(d, "code", json_object_new_string("E2BIG"));
		json_object_object_add(d, "message",
				       json_object_new_string("the reply exceeds the protocol's "
							      "size limit; ask for less"));
		json_object_object_add(e, "error", d);
		text = json_object_to_json_string_length(e, JSON_C_TO_STRING_PLAIN, &len);
		err = queue(c, text, len);
		json_object_put(e);
		return err;
	}
	return queue(c, text, len);
}

static int reply_error(struct client *c, int err, const char *message)
{
	struct json_object *r = json_object_new_object(), *e = json_object_new_object();
	int ret;

	json_object_object_add(r, "version", json_object_new_int(PAGEMIG_PROTO_VERSION));
	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(e, "code", json_object_new_string(control_errno_name(err)));
	json_object_object_add(e, "message", json_object_new_string(message ? message : ""));
	json_object_object_add(r, "error", e);
	ret = queue_json(c, r);
	json_object_put(r);
	return ret;
}

int control_decode_request(const char *text, size_t len, const struct control_command *commands,
			   const struct control_peer *peer, struct control_request *ret, char *msg,
			   size_t msglen)
{
	struct json_tokener *tok;
	struct json_object *req, *v, *args = NULL;
	const struct control_command *cmd = NULL;
	int err;

	memset(ret, 0, sizeof(*ret));
	if (msglen)
		msg[0] = 0;
	if (len > PAGEMIG_MAX_REQUEST) {
		snprintf(msg, msglen, "the request exceeds 64 KiB");
		return -E2BIG;
	}
	tok = json_tokener_new();
	if (!tok) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	req = json_tokener_parse_ex(tok, text, (int)len);
	if (!req || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)len || !json_object_is_type(req, json_type_object)) {
		json_tokener_free(tok);
		json_object_put(req);
		snprintf(msg, msglen, "the request is not one JSON object");
		return -EPROTO;
	}
	json_tokener_free(tok);

	if (!json_object_object_get_ex(req, "version", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != PAGEMIG_PROTO_VERSION) {
		snprintf(msg, msglen,
			 "protocol version %.32s is not supported; this daemon speaks "
			 "version %d (update pagemigctl)",
			 v ? json_object_get_string(v) : "(none)", PAGEMIG_PROTO_VERSION);
		err = -EPROTO;
		goto out;
	}
	if (!json_object_object_get_ex(req, "command", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		snprintf(msg, msglen, "the request names no command");
		err = -EINVAL;
		goto out;
	}
	for (const struct control_command *c = commands; c && c->name && !cmd; c++)
		if (!strcmp(c->name, json_object_get_string(v)))
			cmd = c;
	if (!cmd) {
		snprintf(msg, msglen, "unknown command '%.64s'; see pagemigctl --help",
			 json_object_get_string(v));
		err = -ENOSYS;
		goto out;
	}
	if (!peer->reader) {
		snprintf(msg, msglen,
			 "reading the daemon's state needs root or membership of the "
			 "socket's group");
		err = -EACCES;
		goto out;
	}
	if (cmd->needs_privilege && !peer->privileged) {
		snprintf(msg, msglen, "'%s' changes what the daemon does: run it as root",
			 cmd->name);
		err = -EPERM;
		goto out;
	}
	json_object_object_get_ex(req, "args", &args);
	if (args && !json_object_is_type(args, json_type_object)) {
		snprintf(msg, msglen, "args must be a JSON object");
		err = -EINVAL;
		goto out;
	}
	ret->req = req;
	ret->cmd = cmd;
	ret->args = args;
	return 0;
out:
	json_object_put(req);
	return err;
}

void control_request_free(struct control_request *r)
{
	json_object_put(r->req);
	memset(r, 0, sizeof(*r));
}

/* May peer make one more request now? Root always may; others share a bucket per uid. */
static bool rate_allow(struct control_server *s, const struct control_peer *peer)
{
	struct rate_bucket *b = NULL, *oldest = NULL;
	uint64_t now = mono_ms();

	if (peer->privileged)
		return true;
	for (int i = 0; i < RATE_BUCKETS && !b; i++) {
		struct rate_bucket *x = &s->rate[i];

		if (x->used && x->uid == peer->uid)
			b = x;
		else if (!oldest || (oldest->used && !x->used) ||
			 (oldest->used == x->used && x->last_ms < oldest->last_ms))
			oldest = x; /* a free bucket, else the one idle longest */
	}
	if (!b) {
		/* the one idle longest is full again by now, or nearly: forget it */
		b = oldest;
		*b = (struct rate_bucket){.uid = peer->uid,
					  .used = true,
					  .tokens = PAGEMIG_CONTROL_BURST,
					  .last_ms = now};
	}
	b->tokens += (double)(now - b->last_ms) * PAGEMIG_CONTROL_RATE / 1000.0;
	if (b->tokens > PAGEMIG_CONTROL_BURST)
		b->tokens = PAGEMIG_CONTROL_BURST;
	b->last_ms = now;
	if (b->tokens >= 1) {
		b->tokens -= 1;
		if (b->refused) {
			log_notice("control: %llu requests of uid %u were refused: more than %d a "
				   "second",
				   (unsigned long long)b->refused, (unsigned int)b->uid,
				   PAGEMIG_CONTROL_RATE);
			b->refused = 0;
		}
		return true;
	}
	if (!b->refused++)
		log_warning("control: uid %u (pid %d) makes more than %d requests a second: "
			    "refusing the excess with EAGAIN",
			    (unsigned int)peer->uid, (int)peer->pid, PAGEMIG_CONTROL_RATE);
	return false;
}

static int handle_request(struct control_server *s, struct client *c, const char *text, size_t len)
{
	struct control_request rq;
	struct json_object *result = NULL, *reply;
	char msg[1024] = ""; /* room for a reload's FILE:LINE messages */
	int err, ret;

	if (!rate_allow(s, &c->peer)) {
		snprintf(msg, sizeof(msg),
			 "too many requests: at most %d a second (bursts of %d) for uid %u; wait "
			 "and try again",
			 PAGEMIG_CONTROL_RATE, PAGEMIG_CONTROL_BURST, (unsigned int)c->peer.uid);
		return reply_error(c, EAGAIN, msg);
	}
	err = control_decode_request(text, len, s->commands, &c->peer, &rq, msg, sizeof(msg));
	if (err == -ENOMEM)
		return err;
	if (err)
		return reply_error(c, -err, msg);
	msg[0] = 0;
	err = rq.cmd->handler(s->ctx, &c->peer, rq.args, &result, msg, sizeof(msg));
	if (err == CONTROL_DEFERRED) {
		json_object_put(result);
		c->deferred = true;
		ret = 0;
		goto out;
	}
	if (err < 0) {
		json_object_put(result);
		ret = reply_error(c, -err, msg[0] ? msg : strerror(-err));
		goto out;
	}
	reply = json_object_new_object();
	json_object_object_add(reply, "version", json_object_new_int(PAGEMIG_PROTO_VERSION));
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	json_object_object_add(reply, "result", result ? result : json_object_new_object());
	ret = queue_json(c, reply);
	json_object_put(reply);
out:
	control_request_free(&rq);
	return ret;
}

/* ---- client I/O ---------------------------------------------------------------------------- */

static void client_flush(struct control_server *s, struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			client_drop(s, c);
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->closing) {
			client_drop(s, c);
			return;
		}
	}
	set_events(s, c);
}

int control_frame_next(const uint8_t *buf, size_t len, uint32_t *payload_len)
{
	uint32_t n;

	if (len < 4)
		return 0;
	n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	if (n == 0 || n > PAGEMIG_MAX_REQUEST)
		return -E2BIG;
	if (len - 4 < n)
		return 0;
	*payload_len = n;
	return 1;
}

/* Take every whole frame out of the input buffer. */
static void client_parse(struct control_server *s, struct client *c)
{
	size_t off = 0;

	while (!c->deferred) {
		const uint8_t *p = c->in + off;
		uint32_t len;
		int r = control_frame_next(p, c->in_len - off, &len);

		if (r < 0) {
			reply_error(c, E2BIG,
				    p[0] | p[1] | p[2] | p[3] ? "the request exceeds 64 KiB"
							      : "an empty request frame");
			c->closing = true; /* the stream cannot be resynchronised */
			c->in_len = 0;
			return;
		}
		if (!r)
			break;
		if (handle_request(s, c, (const char *)p + 4, len) < 0) {
			client_drop(s, c);
			return;
		}
		off += 4 + (size_t)len;
		c->last_ms = mono_ms();
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

void control_io(struct control_server *s, int fd, uint32_t events)
{
	struct client *c = NULL;

	for (int i = 0; i < PAGEMIG_CONTROL_CLIENTS && !c; i++)
		if (s->clients[i].fd == fd)
			c = &s->clients[i];
	if (!c)
		return;
	if (c->deferred) {
		if (events & (EPOLLHUP | EPOLLERR)) {
			client_drop(s, c);
			return;
		}
	} else if (events & EPOLLIN && !c->closing) {
		ssize_t n = recv(fd, c->in + c->in_len, 4 + PAGEMIG_MAX_REQUEST - c->in_len,
				 MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_drop(s, c);
			return;
		}
		if (n > 0) {
			c->in_len += (size_t)n;
			client_parse(s, c);
			if (c->fd < 0)
				return;
		}
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		client_drop(s, c);
		return;
	}
	client_flush(s, c);
}

void control_expire(struct control_server *s, uint64_t now)
{
	for (int i = 0; i < PAGEMIG_CONTROL_CLIENTS; i++) {
		struct client *c = &s->clients[i];

		if (c->fd >= 0 && !c->deferred && now - c->last_ms > PAGEMIG_CONTROL_IDLE_MS)
			client_drop(s, c);
	}
}

static struct client *find_client(const struct control_server *s, uint64_t id)
{
	for (int i = 0; i < PAGEMIG_CONTROL_CLIENTS; i++)
		if (s->clients[i].fd >= 0 && s->clients[i].id == id)
			return (struct client *)&s->clients[i];
	return NULL;
}

bool control_connected(const struct control_server *s, uint64_t client)
{
	return s && find_client(s, client);
}

int control_reply(struct control_server *s, uint64_t client, int err, struct json_object *result,
		  const char *message)
{
	struct client *c = s ? find_client(s, client) : NULL;
	struct json_object *reply;
	int ret;

	if (!c || !c->deferred) {
		json_object_put(result);
		return -ENOENT;
	}
	c->deferred = false;
	c->last_ms = mono_ms();
	if (err) {
		json_object_put(result);
		ret = reply_error(c, err,
				  message && *message ? message : strerror(err < 0 ? -err : err));
	} else {
		reply = json_object_new_object();
		json_object_object_add(reply, "version",
				       json_object_new_int(PAGEMIG_PROTO_VERSION));
		json_object_object_add(reply, "ok", json_object_new_boolean(1));
		json_object_object_add(reply, "result", result ? result : json_object_new_object());
		ret = queue_json(c, reply);
		json_object_put(reply);
	}
	if (ret < 0) {
		client_drop(s, c);
		return ret;
	}
	client_parse(s, c); /* requests the client sent meanwhile */
	if (c->fd >= 0)
		client_flush(s, c);
	return 0;
}
