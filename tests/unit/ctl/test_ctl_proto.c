// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagemigctl's protocol layer: frame headers, request encoding, reply decoding, and the
 * transport against fake servers on a temporary socket (silent, garbage, oversized, closing),
 * with the exit status and the message each failure gives.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"
#include "proto.h"

static void test_frame_len(void **state)
{
	uint8_t h[4];

	ctl_frame_put_len(h, 0x01020304);
	assert_int_equal(h[0], 1);
	assert_int_equal(h[3], 4);
	assert_int_equal(ctl_frame_get_len(h), 0x01020304);
	ctl_frame_put_len(h, 0xffffffffu);
	assert_int_equal(ctl_frame_get_len(h), 0xffffffffu);
	ctl_frame_put_len(h, 0);
	assert_int_equal(ctl_frame_get_len(h), 0);
}

static void test_request_encode(void **state)
{
	struct json_object *args = json_object_new_object(), *req, *v;
	uint8_t *f;
	size_t len;

	json_object_object_add(args, "pid", json_object_new_int(42));
	f = ctl_request_encode("proc", args, &len);
	assert_non_null(f);
	assert_int_equal(ctl_frame_get_len(f), len - 4);
	req = json_tokener_parse(strndupa((const char *)f + 4, len - 4));
	assert_non_null(req);
	assert_true(json_object_object_get_ex(req, "version", &v));
	assert_int_equal(json_object_get_int(v), PAGEMIG_PROTO_VERSION);
	assert_true(json_object_object_get_ex(req, "command", &v));
	assert_string_equal(json_object_get_string(v), "proc");
	assert_true(json_object_object_get_ex(req, "args", &v));
	assert_true(json_object_object_get_ex(v, "pid", &v));
	assert_int_equal(json_object_get_int(v), 42);
	json_object_put(req);
	free(f);

	/* no args: no "args" member */
	f = ctl_request_encode("status", NULL, &len);
	assert_non_null(f);
	req = json_tokener_parse(strndupa((const char *)f + 4, len - 4));
	assert_false(json_object_object_get_ex(req, "args", NULL));
	json_object_put(req);
	free(f);

	errno = 0;
	assert_null(ctl_request_encode("", NULL, &len));
	assert_int_equal(errno, EINVAL);

	/* beyond the request limit */
	{
		size_t big = PAGEMIG_MAX_REQUEST;
		char *s = malloc(big + 1);

		memset(s, 'a', big);
		s[big] = 0;
		json_object_object_add(args, "blob", json_object_new_string(s));
		errno = 0;
		assert_null(ctl_request_encode("status", args, &len));
		assert_int_equal(errno, E2BIG);
		free(s);
	}
	json_object_put(args);
}

static int decode(const char *text, struct ctl_reply *r)
{
	return ctl_reply_decode(text, strlen(text), r);
}

static void test_reply_decode(void **state)
{
	struct ctl_reply r;

	assert_int_equal(decode("{\"version\":1,\"ok\":true,\"result\":{\"a\":1}}", &r), 0);
	assert_true(r.ok);
	assert_non_null(r.result);
	assert_true(json_object_object_get_ex(r.result, "a", NULL));
	ctl_reply_free(&r);

	/* ok without result is fine (an empty answer) */
	assert_int_equal(decode("{\"version\":1,\"ok\":true}", &r), 0);
	assert_null(r.result);
	ctl_reply_free(&r);

	assert_int_equal(decode("{\"version\":1,\"ok\":false,\"error\":{\"code\":\"EPERM\","
				"\"message\":\"run as root\"}}",
				&r),
			 0);
	assert_false(r.ok);
	assert_string_equal(r.error_code, "EPERM");
	assert_string_equal(r.error_message, "run as root");
	assert_int_equal(r.error_errno, EPERM);
	ctl_reply_free(&r);

	/* an error code this client does not know is still an error */
	assert_int_equal(decode("{\"version\":1,\"ok\":false,\"error\":{\"code\":\"EWHATEVER\","
				"\"message\":\"x\"}}",
				&r),
			 0);
	assert_int_equal(r.error_errno, EIO);
	ctl_reply_free(&r);

	/* malformed */
	static const char *const bad[] = {
		"",
		"[1,2]",
		"{\"version\":1}",
		"{\"ok\":true}",
		"{\"version\":\"1\",\"ok\":true}",
		"{\"version\":1,\"ok\":1}",
		"{\"version\":1,\"ok\":false}",
		"{\"version\":1,\"ok\":false,\"error\":\"EPERM\"}",
		"{\"version\":1,\"ok\":false,\"error\":{\"code\":\"EPERM\"}}",
		"{\"version\":1,\"ok\":true} trailing",
		"{\"version\":1,\"ok\":true}{\"version\":1,\"ok\":true}",
		"{\"version\":1,\"ok\":tru",
		"\xff\xfe",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(decode(bad[i], &r), -EPROTO);
		assert_null(r.root);
		ctl_reply_free(&r);
	}

	/* another version: told apart from garbage */
	assert_int_equal(decode("{\"version\":2,\"ok\":true,\"result\":{}}", &r), -EPROTONOSUPPORT);
	assert_int_equal(r.version, 2);
	ctl_reply_free(&r);
}

static void test_errno_names(void **state)
{
	assert_int_equal(ctl_errno_from_name("EACCES"), EACCES);
	assert_int_equal(ctl_errno_from_name("ENOTSUP"), ENOTSUP);
	assert_int_equal(ctl_errno_from_name("ECANCELED"), ECANCELED);
	assert_int_equal(ctl_errno_from_name("nope"), 0);
	assert_int_equal(ctl_errno_from_name(NULL), 0);
}

static void test_messages(void **state)
{
	char buf[512];
	struct ctl_reply r = {0};

	assert_int_equal(ctl_transport_error(-ENOENT, "/x", 1000, buf, sizeof(buf)),
			 CTL_EXIT_NOT_RUNNING);
	assert_non_null(strstr(buf, "systemctl status pagemigd"));
	assert_int_equal(ctl_transport_error(-ECONNREFUSED, "/x", 1000, buf, sizeof(buf)),
			 CTL_EXIT_NOT_RUNNING);
	assert_non_null(strstr(buf, "systemctl start pagemigd"));
	assert_int_equal(ctl_transport_error(-EACCES, "/x", 1000, buf, sizeof(buf)),
			 CTL_EXIT_DENIED);
	assert_non_null(strstr(buf, "Run as root or join"));
	assert_int_equal(ctl_transport_error(-ETIMEDOUT, "/x", 1000, buf, sizeof(buf)),
			 CTL_EXIT_NO_ANSWER);
	assert_non_null(strstr(buf, "--timeout"));
	assert_int_equal(ctl_transport_error(-EPROTONOSUPPORT, "/x", 1000, buf, sizeof(buf)),
			 CTL_EXIT_NO_ANSWER);
	assert_non_null(strstr(buf, "matching versions"));
	assert_int_equal(ctl_transport_error(-ENAMETOOLONG, "/x", 1000, buf, sizeof(buf)),
			 CTL_EXIT_USAGE);

	r.error_message = "'pause' changes what the daemon does: run it as root";
	r.error_errno = EPERM;
	assert_int_equal(ctl_reply_error(&r, "pause", buf, sizeof(buf)), CTL_EXIT_DENIED);
	assert_non_null(strstr(buf, "run it as root"));
	r.error_errno = EACCES;
	r.error_message = "reading needs the group";
	assert_int_equal(ctl_reply_error(&r, "status", buf, sizeof(buf)), CTL_EXIT_DENIED);
	assert_non_null(strstr(buf, "join the socket's group"));
	r.error_errno = ESRCH;
	assert_int_equal(ctl_reply_error(&r, "proc", buf, sizeof(buf)), CTL_EXIT_FAILED);
}

/* ---- the transport against fake servers --------------------------------------------------- */

enum fake { FAKE_SILENT, FAKE_GARBAGE, FAKE_HUGE, FAKE_CLOSE, FAKE_GOOD, FAKE_SLOW_GOOD };

static char sock_path[108];

/* Serve one client the way kind says, in a child; returns its pid. */
static pid_t fake_server(enum fake kind)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	unlink(sock_path);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static const char good[] = "{\"version\":1,\"ok\":true,\"result\":{\"x\":1}}";
		uint8_t buf[4096], h[4];
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			_exit(1);
		(void)!read(fd, buf, sizeof(buf));
		switch (kind) {
		case FAKE_SILENT:
			sleep(10);
			break;
		case FAKE_GARBAGE:
			ctl_frame_put_len(h, 5);
			(void)!write(fd, h, 4);
			(void)!write(fd, "hello", 5);
			sleep(1);
			break;
		case FAKE_HUGE:
			ctl_frame_put_len(h, PAGEMIG_MAX_REPLY + 1);
			(void)!write(fd, h, 4);
			sleep(1);
			break;
		case FAKE_CLOSE:
			break;
		case FAKE_SLOW_GOOD:
			/* a reply in pieces, with pauses: the client must reassemble it */
			ctl_frame_put_len(h, sizeof(good) - 1);
			(void)!write(fd, h, 2);
			usleep(100000);
			(void)!write(fd, h + 2, 2);
			(void)!write(fd, good, 10);
			usleep(100000);
			(void)!write(fd, good + 10, sizeof(good) - 11);
			sleep(1);
			break;
		case FAKE_GOOD:
			ctl_frame_put_len(h, sizeof(good) - 1);
			(void)!write(fd, h, 4);
			(void)!write(fd, good, sizeof(good) - 1);
			sleep(1);
			break;
		}
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_transport(void **state)
{
	struct ctl_reply r;
	char dir[] = "/tmp/pagemigctl-test-XXXXXX";
	int64_t t0;
	pid_t pid;

	assert_non_null(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/s", dir);

	/* nothing there */
	assert_int_equal(ctl_call(sock_path, 1000, "status", NULL, &r), -ENOENT);
	ctl_reply_free(&r);

	/* a socket file nobody listens on */
	{
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
		assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
		close(fd);
		assert_int_equal(ctl_call(sock_path, 1000, "status", NULL, &r), -ECONNREFUSED);
		ctl_reply_free(&r);
	}

	/* a silent daemon: the deadline holds */
	pid = fake_server(FAKE_SILENT);
	t0 = now_ms();
	assert_int_equal(ctl_call(sock_path, 300, "status", NULL, &r), -ETIMEDOUT);
	assert_true(now_ms() - t0 < 2000);
	ctl_reply_free(&r);
	reap(pid);

	pid = fake_server(FAKE_GARBAGE);
	assert_int_equal(ctl_call(sock_path, 2000, "status", NULL, &r), -EPROTO);
	ctl_reply_free(&r);
	reap(pid);

	pid = fake_server(FAKE_HUGE);
	assert_int_equal(ctl_call(sock_path, 2000, "status", NULL, &r), -EPROTO);
	ctl_reply_free(&r);
	reap(pid);

	pid = fake_server(FAKE_CLOSE);
	assert_int_equal(ctl_call(sock_path, 2000, "status", NULL, &r), -ECONNRESET);
	ctl_reply_free(&r);
	reap(pid);

	pid = fake_server(FAKE_GOOD);
	assert_int_equal(ctl_call(sock_path, 2000, "status", NULL, &r), 0);
	assert_true(r.ok);
	assert_true(json_object_object_get_ex(r.result, "x", NULL));
	ctl_reply_free(&r);
	reap(pid);

	pid = fake_server(FAKE_SLOW_GOOD);
	assert_int_equal(ctl_call(sock_path, 3000, "status", NULL, &r), 0);
	assert_true(r.ok);
	ctl_reply_free(&r);
	reap(pid);

	/* a path too long for sockaddr_un */
	{
		char longp[200];

		memset(longp, 'a', sizeof(longp) - 1);
		longp[0] = '/';
		longp[sizeof(longp) - 1] = 0;
		assert_int_equal(ctl_call(longp, 1000, "status", NULL, &r), -ENAMETOOLONG);
		ctl_reply_free(&r);
	}
	unlink(sock_path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_len),    cmocka_unit_test(test_request_encode),
		cmocka_unit_test(test_reply_decode), cmocka_unit_test(test_errno_names),
		cmocka_unit_test(test_messages),     cmocka_unit_test(test_transport),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
