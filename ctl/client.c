// SPDX-License-Identifier: LGPL-2.1-or-later
/* pagemigctl's transport: one request, one reply, within a deadline. See client.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline (-1: no deadline), at least 0. */
static int left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - mono_ms();
	return left < 0 ? 0 : left > 1000000 ? 1000000 : (int)left;
}

/* Wait for events on fd; -ETIMEDOUT when the deadline passes first. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};

	for (;;) {
		int ms = left_ms(deadline);
		int n;

		if (ms == 0 && deadline >= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, ms);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * Connect without blocking: a listener whose backlog is full makes a non-blocking AF_UNIX
 * connect() fail with EAGAIN instead of waiting, so retry until the deadline.
 */
static int connect_socket(const char *path, int64_t deadline)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	for (;;) {
		int err;

		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		err = errno;
		if (err != EAGAIN && err != EINTR) {
			close(fd);
			return -err;
		}
		if (deadline >= 0 && left_ms(deadline) == 0) {
			close(fd);
			return -ETIMEDOUT;
		}
		usleep(10000);
	}
}

/* Send (out) or receive all len bytes at p by deadline; a peer that closes while we receive
 * is -ECONNRESET. */
static int transfer_all(int fd, uint8_t *p, size_t len, int64_t deadline, bool out)
{
	while (len) {
		ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT)
				: recv(fd, p, len, MSG_DONTWAIT);

		if (n == 0 && !out)
			return -ECONNRESET;
		if (n < 0) {
			int err;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			err = wait_fd(fd, out ? POLLOUT : POLLIN, deadline);
			if (err)
				return err;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_all(int fd, const uint8_t *p, size_t len, int64_t deadline)
{
	return transfer_all(fd, (uint8_t *)p, len, deadline, true);
}

static int recv_all(int fd, uint8_t *p, size_t len, int64_t deadline)
{
	return transfer_all(fd, p, len, deadline, false);
}

int ctl_call(const char *socket_path, int timeout_ms, const char *command, struct json_object *args,
	     struct ctl_reply *ret)
{
	int64_t deadline = timeout_ms > 0 ? mono_ms() + timeout_ms : -1;
	uint8_t hdr[CTL_FRAME_HEADER];
	uint8_t *req, *payload = NULL;
	size_t req_len;
	uint32_t len;
	int fd, err;

	memset(ret, 0, sizeof(*ret));
	req = ctl_request_encode(command, args, &req_len);
	if (!req)
		return -errno;
	fd = connect_socket(socket_path, deadline);
	if (fd < 0) {
		free(req);
		return fd;
	}
	err = send_all(fd, req, req_len, deadline);
	free(req);
	if (err)
		goto out_close;
	err = recv_all(fd, hdr, sizeof(hdr), deadline);
	if (err)
		goto out_close;
	len = ctl_frame_get_len(hdr);
	if (len == 0 || len > PAGEMIG_MAX_REPLY) {
		err = -EPROTO;
		goto out_close;
	}
	payload = malloc(len);
	if (!payload) {
		err = -ENOMEM;
		goto out_close;
	}
	err = recv_all(fd, payload, len, deadline);
	if (!err)
		err = ctl_reply_decode((const char *)payload, len, ret);
	free(payload);
out_close:
	close(fd);
	return err;
}

int ctl_transport_error(int err, const char *path, int timeout_ms, char *buf, size_t len)
{
	switch (-err) {
	case ENOENT:
		snprintf(buf, len,
			 "cannot connect to '%s': no such socket. Is pagemigd running? "
			 "Try 'systemctl status pagemigd', or pass --socket PATH if it listens "
			 "elsewhere.",
			 path);
		return CTL_EXIT_NOT_RUNNING;
	case ECONNREFUSED:
	case ENOTSOCK:
		snprintf(buf, len,
			 "cannot connect to '%s': %s. pagemigd is not running (the socket is "
			 "left over); start it with 'systemctl start pagemigd'.",
			 path, strerror(-err));
		return CTL_EXIT_NOT_RUNNING;
	case EACCES:
	case EPERM:
		snprintf(buf, len,
			 "cannot connect to '%s': permission denied. Run as root or join the "
			 "socket's group (default 'pagemig': 'usermod -aG pagemig $USER', then log "
			 "in again).",
			 path);
		return CTL_EXIT_DENIED;
	case ETIMEDOUT:
		snprintf(buf, len,
			 "pagemigd did not answer within %d ms on '%s'. It may be busy or hung: "
			 "check 'systemctl status pagemigd' and 'journalctl -u pagemigd', or retry "
			 "with a longer --timeout.",
			 timeout_ms, path);
		return CTL_EXIT_NO_ANSWER;
	case ECONNRESET:
	case EPIPE:
		snprintf(buf, len,
			 "pagemigd closed the connection on '%s' without answering. It may have "
			 "stopped or refused the request: check 'journalctl -u pagemigd'.",
			 path);
		return CTL_EXIT_NO_ANSWER;
	case EPROTO:
		snprintf(buf, len,
			 "the answer on '%s' is not pagemigd's control protocol. Is --socket the "
			 "right path? Check 'journalctl -u pagemigd'.",
			 path);
		return CTL_EXIT_NO_ANSWER;
	case EPROTONOSUPPORT:
		snprintf(buf, len,
			 "pagemigd on '%s' speaks another protocol version than this pagemigctl "
			 "(version %d). Install matching versions of pagemigctl and pagemigd.",
			 path, PAGEMIG_PROTO_VERSION);
		return CTL_EXIT_NO_ANSWER;
	case ENAMETOOLONG:
		snprintf(buf, len, "the socket path '%s' is too long (at most 107 bytes).", path);
		return CTL_EXIT_USAGE;
	case E2BIG:
		snprintf(buf, len, "the request is larger than the protocol allows (%d bytes).",
			 PAGEMIG_MAX_REQUEST);
		return CTL_EXIT_USAGE;
	default:
		snprintf(buf, len, "talking to pagemigd on '%s' failed: %s.", path, strerror(-err));
		return CTL_EXIT_NO_ANSWER;
	}
}

int ctl_reply_error(const struct ctl_reply *r, const char *command, char *buf, size_t len)
{
	const char *msg = r->error_message && *r->error_message ? r->error_message : "(no message)";

	switch (r->error_errno) {
	case EACCES:
		snprintf(buf, len,
			 "%s: %s (run as root or join the socket's group, default "
			 "'pagemig')",
			 command, msg);
		return CTL_EXIT_DENIED;
	case EPERM:
		snprintf(buf, len, "%s: %s", command, msg);
		return CTL_EXIT_DENIED;
	case ENOSYS:
		snprintf(buf, len, "%s: %s (the daemon may be older than this pagemigctl)", command,
			 msg);
		return CTL_EXIT_FAILED;
	default:
		snprintf(buf, len, "%s: %s", command, msg);
		return CTL_EXIT_FAILED;
	}
}
