// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagemigctl: the operator's command line for pagemigd. One request per invocation over the
 * daemon's control socket (docs/control-protocol.md); human tables by default, the daemon's own
 * JSON with --json; exit status says what kind of failure it was.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pagemig/pagemig.h>

#include "client.h"
#include "render.h"
#include "table.h"

#define DEFAULT_TIMEOUT_S      10
#define DEFAULT_MOVE_TIMEOUT_S 600

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: pagemigctl [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Query and steer pagemigd, the NUMA page-placement daemon.\n"
		"\n"
		"Commands (read-only: root or members of the socket's group, default 'pagemig'):\n"
		"  status              mode, uptime, sampler sources (and why any is not loaded),\n"
		"                      nodes, totals of pages moved and failed, local-access "
		"share\n"
		"  nodes               NUMA nodes: CPUs, memory, free, distances, pages moved "
		"in/out\n"
		"  procs [--sort pid|moved|rss|local] [--limit N]\n"
		"                      managed processes: policy, home node, sampled pages per\n"
		"                      node, local-access share, pages moved; a home marked *\n"
		"                      is settled (nothing to do while it runs there), one\n"
		"                      marked + is held (a big plan for it still runs)\n"
		"  proc PID [--top N] [--limit N]\n"
		"                      one process: its mappings with resident pages per node,\n"
		"                      its hottest sampled pages (root, or the process's owner)\n"
		"  history [--pid PID] [--limit N]\n"
		"                      recent decisions: time, policy, pages, from -> to, "
		"outcome;\n"
		"                      failures name the documented migration step\n"
		"  audit [--limit N]   migration steps seen for recent moves, pages of every "
		"mover\n"
		"                      by reason\n"
		"  config [--changed]  the configuration in force, as pagemig.conf text\n"
		"  metrics             Prometheus text exposition\n"
		"\n"
		"Commands that change what the daemon does (root only):\n"
		"  move PID --to NODE [--range START-END]\n"
		"                      move the resident pages of PID (of the range only, with\n"
		"                      START and END hex addresses as in /proc/PID/maps) to NODE;\n"
		"                      rate-limited like the policies; waits for the library's\n"
		"                      report. Interrupting pagemigctl cancels the move.\n"
		"  pause               stop the policies from moving pages (manual moves still "
		"run)\n"
		"  resume              let the policies move pages again\n"
		"  reload              re-read the configuration file; a file with errors is\n"
		"                      refused with its messages and the running one stays\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH   the daemon's socket (default " CTL_DEFAULT_SOCKET ")\n"
		"  -j, --json          print the daemon's answer as one JSON document (errors "
		"too:\n"
		"                      {\"error\": {\"code\": ..., \"message\": ...}})\n"
		"  -t, --timeout SEC   give up after SEC seconds without an answer (default %d,\n"
		"                      %d for move; 0 waits forever)\n"
		"  -h, --help          print this help and exit\n"
		"  -V, --version       print the version and exit\n"
		"\n"
		"Exit status:\n"
		"  0  success\n"
		"  1  the daemon answered with an error, or a move stopped before its end\n"
		"  2  bad command line\n"
		"  3  pagemigd is not running (no socket, or nothing listens on it)\n"
		"  4  permission denied (the socket is not accessible, or the command needs root)\n"
		"  5  no usable answer: timeout, protocol error, or another protocol version\n"
		"\n"
		"Fields of --json output: docs/control-protocol.md.\n",
		DEFAULT_TIMEOUT_S, DEFAULT_MOVE_TIMEOUT_S);
}

enum {
	OPT_TO = 0x100,
	OPT_RANGE,
	OPT_PID,
	OPT_LIMIT,
	OPT_TOP,
	OPT_SORT,
	OPT_CHANGED,
};

/* Which command takes which option, and how many positional arguments (a PID). */
struct command {
	const char *name;
	unsigned int opts; /* bit (OPT_x - OPT_TO) */
	bool takes_pid;
	int64_t limit_max; /* --limit range: 1 (0 for proc, audit) .. limit_max */
	bool privileged;
};

#define O(x) (1u << ((x)-OPT_TO))

static const struct command commands[] = {
	{"status", 0, false, 0, false},
	{"nodes", 0, false, 0, false},
	{"procs", O(OPT_SORT) | O(OPT_LIMIT), false, 100000, false},
	{"proc", O(OPT_TOP) | O(OPT_LIMIT), true, 100000, false},
	{"history", O(OPT_PID) | O(OPT_LIMIT), false, 1088, false},
	{"audit", O(OPT_LIMIT), false, 64, false},
	{"config", O(OPT_CHANGED), false, 0, false},
	{"metrics", 0, false, 0, false},
	{"move", O(OPT_TO) | O(OPT_RANGE), true, 0, true},
	{"pause", 0, false, 0, true},
	{"resume", 0, false, 0, true},
	{"reload", 0, false, 0, true},
};

static const char *const opt_names[] = {"--to",	 "--range", "--pid",	"--limit",
					"--top", "--sort",  "--changed"};

struct args {
	const char *socket;
	bool json;
	int timeout_s; /* -1: the command's default */
	const struct command *cmd;
	unsigned int given; /* O() bits */
	int64_t pid, to, limit, top, opt_pid;
	const char *sort;
	uint64_t start, end;
	bool changed;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("pagemigctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; see 'pagemigctl --help'\n", stderr);
	return CTL_EXIT_USAGE;
}

/* A whole decimal number in [min, max]. */
static int parse_int(const char *s, int64_t min, int64_t max, int64_t *ret)
{
	char *end;
	long long v;

	if (!s || !*s || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Hex digits with or without 0x, as /proc/PID/maps prints addresses. */
static int parse_hex(const char *s, size_t len, uint64_t *ret)
{
	char buf[24];
	char *end;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (!len || len > 16)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (strspn(buf, "0123456789abcdefABCDEF") != len)
		return -EINVAL;
	errno = 0;
	*ret = strtoull(buf, &end, 16);
	return errno || *end ? -EINVAL : 0;
}

static int parse_range(const char *s, uint64_t *start, uint64_t *end)
{
	const char *dash = strchr(s, '-');

	if (!dash || parse_hex(s, (size_t)(dash - s), start) ||
	    parse_hex(dash + 1, strlen(dash + 1), end) || *start >= *end)
		return -EINVAL;
	return 0;
}

/* Returns -1 to go on, or an exit status (help, version, usage errors). */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"to", required_argument, NULL, OPT_TO},
		{"range", required_argument, NULL, OPT_RANGE},
		{"pid", required_argument, NULL, OPT_PID},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{"top", required_argument, NULL, OPT_TOP},
		{"sort", required_argument, NULL, OPT_SORT},
		{"changed", no_argument, NULL, OPT_CHANGED},
		{NULL, 0, NULL, 0},
	};
	const char *limit_arg = NULL;
	int64_t v;
	int c;

	*a = (struct args){.socket = CTL_DEFAULT_SOCKET, .timeout_s = -1, .limit = -1};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:jt:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->socket = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 't':
			if (parse_int(optarg, 0, 86400, &v))
				return usage_error("--timeout takes seconds from 0 to 86400, not "
						   "'%s'",
						   optarg);
			a->timeout_s = (int)v;
			break;
		case 'h':
			usage(stdout);
			return CTL_EXIT_OK;
		case 'V':
			printf("pagemigctl %s (control protocol %d, libpagemig %s)\n",
			       PAGEMIG_CTL_VERSION, PAGEMIG_PROTO_VERSION, pagemig_version());
			return CTL_EXIT_OK;
		case OPT_TO:
			if (parse_int(optarg, 0, 63, &a->to))
				return usage_error("--to takes a node number, not '%s'", optarg);
			a->given |= O(c);
			break;
		case OPT_RANGE:
			if (parse_range(optarg, &a->start, &a->end))
				return usage_error(
					"--range takes START-END, hex addresses with START "
					"below END (e.g. 7f0000000000-7f0000200000), not "
					"'%s'",
					optarg);
			a->given |= O(c);
			break;
		case OPT_PID:
			if (parse_int(optarg, 1, INT32_MAX, &a->opt_pid))
				return usage_error("--pid takes a process id, not '%s'", optarg);
			a->given |= O(c);
			break;
		case OPT_LIMIT:
			limit_arg = optarg;
			a->given |= O(c);
			break;
		case OPT_TOP:
			if (parse_int(optarg, 0, 100, &a->top))
				return usage_error("--top takes a number from 0 to 100, not '%s'",
						   optarg);
			a->given |= O(c);
			break;
		case OPT_SORT:
			if (strcmp(optarg, "pid") && strcmp(optarg, "moved") &&
			    strcmp(optarg, "rss") && strcmp(optarg, "local"))
				return usage_error(
					"--sort takes pid, moved, rss or local, not '%s'", optarg);
			a->sort = optarg;
			a->given |= O(c);
			break;
		case OPT_CHANGED:
			a->changed = true;
			a->given |= O(c);
			break;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no command given");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && !a->cmd; i++)
		if (!strcmp(argv[optind], commands[i].name))
			a->cmd = &commands[i];
	if (!a->cmd)
		return usage_error("unknown command '%s'", argv[optind]);
	optind++;
	if (a->cmd->takes_pid) {
		if (optind >= argc)
			return usage_error("'%s' needs a PID", a->cmd->name);
		if (parse_int(argv[optind], 1, INT32_MAX, &a->pid))
			return usage_error("'%s' is not a process id", argv[optind]);
		optind++;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s' for '%s'", argv[optind], a->cmd->name);
	for (unsigned int b = 0; b < sizeof(opt_names) / sizeof(opt_names[0]); b++)
		if ((a->given & (1u << b)) && !(a->cmd->opts & (1u << b)))
			return usage_error("'%s' takes no option %s", a->cmd->name, opt_names[b]);
	if (!strcmp(a->cmd->name, "move") && !(a->given & O(OPT_TO)))
		return usage_error("'move' needs --to NODE");
	if (limit_arg) {
		/* proc and audit take 0: totals without the list */
		int64_t min =
			!strcmp(a->cmd->name, "proc") || !strcmp(a->cmd->name, "audit") ? 0 : 1;

		if (parse_int(limit_arg, min, a->cmd->limit_max, &a->limit))
			return usage_error("--limit for '%s' takes a number from %" PRId64
					   " to %" PRId64 ", not '%s'",
					   a->cmd->name, min, a->cmd->limit_max, limit_arg);
	}
	return -1;
}

static struct json_object *build_args(const struct args *a)
{
	struct json_object *o = json_object_new_object();
	char buf[24];

	if (a->cmd->takes_pid)
		json_object_object_add(o, "pid", json_object_new_int64(a->pid));
	if (a->given & O(OPT_TO))
		json_object_object_add(o, "node", json_object_new_int64(a->to));
	if (a->given & O(OPT_RANGE)) {
		snprintf(buf, sizeof(buf), "0x%" PRIx64, a->start);
		json_object_object_add(o, "start", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "0x%" PRIx64, a->end);
		json_object_object_add(o, "end", json_object_new_string(buf));
	}
	if (a->given & O(OPT_PID))
		json_object_object_add(o, "pid", json_object_new_int64(a->opt_pid));
	if (a->given & O(OPT_LIMIT))
		json_object_object_add(o, "limit", json_object_new_int64(a->limit));
	if (a->given & O(OPT_TOP))
		json_object_object_add(o, "top", json_object_new_int64(a->top));
	if (a->given & O(OPT_SORT))
		json_object_object_add(o, "sort", json_object_new_string(a->sort));
	if (a->given & O(OPT_CHANGED))
		json_object_object_add(o, "changed", json_object_new_boolean(1));
	return o;
}

static void print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* An error as JSON on stdout (for --json) and as a sentence on stderr. */
static void report_error(const struct args *a, const char *code, const char *message)
{
	fprintf(stderr, "pagemigctl: %s\n", message);
	if (a->json) {
		struct json_object *o = json_object_new_object(), *e = json_object_new_object();

		json_object_object_add(e, "code", json_object_new_string(code));
		json_object_object_add(e, "message", json_object_new_string(message));
		json_object_object_add(o, "error", e);
		print_json(o);
		json_object_put(o);
	}
}

static const char *errno_code(int err)
{
	switch (err) {
	case ENOENT:
		return "ENOENT";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ENOTSOCK:
		return "ENOTSOCK";
	case EACCES:
		return "EACCES";
	case EPERM:
		return "EPERM";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case ECONNRESET:
		return "ECONNRESET";
	case EPIPE:
		return "EPIPE";
	case EPROTO:
		return "EPROTO";
	case EPROTONOSUPPORT:
		return "EPROTONOSUPPORT";
	case ENAMETOOLONG:
		return "ENAMETOOLONG";
	default:
		return "EIO";
	}
}

int main(int argc, char **argv)
{
	struct ctl_render_opts ro = {.width = ctl_output_width(stdout)};
	struct ctl_reply reply;
	struct json_object *args;
	struct args a;
	char msg[1024];
	int timeout_ms, err, status;

	status = parse_args(argc, argv, &a);
	if (status >= 0)
		return status;
	if (a.timeout_s < 0)
		a.timeout_s =
			!strcmp(a.cmd->name, "move") ? DEFAULT_MOVE_TIMEOUT_S : DEFAULT_TIMEOUT_S;
	timeout_ms = a.timeout_s * 1000;

	args = build_args(&a);
	err = ctl_call(a.socket, timeout_ms, a.cmd->name, args, &reply);
	json_object_put(args);
	if (err) {
		status = ctl_transport_error(err, a.socket, timeout_ms, msg, sizeof(msg));
		report_error(&a, errno_code(-err), msg);
		ctl_reply_free(&reply);
		return status;
	}
	if (!reply.ok) {
		status = ctl_reply_error(&reply, a.cmd->name, msg, sizeof(msg));
		report_error(&a, reply.error_code, msg);
		ctl_reply_free(&reply);
		return status;
	}
	if (a.json) {
		if (reply.result)
			print_json(reply.result);
		else
			puts("{}");
	} else if (ctl_render(a.cmd->name, reply.result, stdout, &ro) == -ENOENT) {
		print_json(reply.result);
	}
	/* a move that stopped before its end is an answer, but not a success */
	status = CTL_EXIT_OK;
	if (!strcmp(a.cmd->name, "move")) {
		struct json_object *v;

		if (!json_object_object_get_ex(reply.result, "completed", &v) ||
		    !json_object_get_boolean(v))
			status = CTL_EXIT_FAILED;
	}
	ctl_reply_free(&reply);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "pagemigctl: writing the output failed: %s\n", strerror(errno));
		return CTL_EXIT_FAILED;
	}
	return status;
}
