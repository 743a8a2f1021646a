// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagemigd: the NUMA page-placement daemon. One thread, one epoll loop over a signalfd, the
 * policy interval's timerfd, the watchdog's timerfd, the sampler's audit ring buffer and the
 * control socket; the executor runs between events in short slices.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "commands.h"
#include "log.h"
#include "pagemigd.h"
#include "privdrop.h"

#define DEFAULT_CONFIG "/etc/pagemig.conf"

enum { EXIT_CONFIG = 1, EXIT_SETUP = 2 };

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: pagemigd [OPTIONS]\n"
		"\n"
		"Place the memory of processes on the NUMA nodes that use it: sample accesses\n"
		"with eBPF, plan with the configured policies, move pages with libpagemig.\n"
		"\n"
		"  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
		"  -s, --socket PATH   control socket (overrides the configuration)\n"
		"  -f, --foreground    log to stderr, do not expect systemd (it never forks)\n"
		"  -o, --observe       decide and report, never move (overrides mode = enforce)\n"
		"      --check-config  validate the configuration: exit 0, or print every error\n"
		"                      as FILE:LINE: message and exit 1\n"
		"  -V, --version       print the version and exit\n"
		"  -h, --help          print this help and exit\n"
		"\n"
		"Signals: SIGHUP reloads the configuration (a bad file keeps the running one);\n"
		"SIGTERM and SIGINT stop within a second, leaving every process as it is.\n"
		"Exit status: 0 stopped cleanly, 1 bad configuration, 2 could not start.\n");
}

struct args {
	const char *config;
	const char *socket;
	bool foreground;
	bool observe;
	bool check;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"socket", required_argument, NULL, 's'},
		{"foreground", no_argument, NULL, 'f'},	  {"observe", no_argument, NULL, 'o'},
		{"check-config", no_argument, NULL, 'C'}, {"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	int c;

	*a = (struct args){.config = DEFAULT_CONFIG};
	while ((c = getopt_long(argc, argv, "c:s:foVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 's':
			a->socket = optarg;
			break;
		case 'f':
			a->foreground = true;
			break;
		case 'o':
			a->observe = true;
			break;
		case 'C':
			a->check = true;
			break;
		case 'V':
			printf("pagemigd %s (libpagemig %s)\n", PAGEMIG_DAEMON_VERSION,
			       pagemig_version());
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "Try 'pagemigd --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pagemigd: unexpected argument '%s'; try 'pagemigd --help'\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* ---- configuration ------------------------------------------------------------------------- */

/* Load path into cfg; on errors log each one (FILE:LINE: message) and leave cfg alone. *bytes
 * (may be NULL): the size of the text read. */
static int load_config(struct pagemigd *d, struct pagemig_config *cfg, size_t *bytes)
{
	struct pagemig_config_diag *diag = malloc(sizeof(*diag));
	struct pagemig_config next;
	char line[PAGEMIG_CONFIG_MSG_MAX + 300];
	int err;

	if (!diag)
		return -ENOMEM;
	err = pagemig_config_load_secure(d->config_path, &next, diag, bytes);
	for (unsigned int i = 0; i < diag->n; i++) {
		/* FILE:LINE: message; the log level carries the severity */
		if (diag->msg[i].line)
			snprintf(line, sizeof(line), "%s:%u: %s", diag->name, diag->msg[i].line,
				 diag->msg[i].text);
		else
			snprintf(line, sizeof(line), "%s: %s", diag->name, diag->msg[i].text);
		log_msg(diag->msg[i].severity == PAGEMIG_CONFIG_ERROR ? LOG_ERR : LOG_WARNING, NULL,
			"%s", line);
	}
	if (diag->errors + diag->warnings > diag->n)
		log_msg(LOG_ERR, NULL, "%s: %u more messages not shown", d->config_path,
			diag->errors + diag->warnings - diag->n);
	free(diag);
	if (err)
		return err;
	if (d->socket_override)
		snprintf(next.socket_path, sizeof(next.socket_path), "%s", d->socket_override);
	pagemig_config_free(cfg);
	*cfg = next;
	return 0;
}

static void apply_config(struct pagemigd *d)
{
	struct pagemig_opts o;
	struct itimerspec its = {
		.it_interval = ms_timespec(d->cfg.interval_ms),
		.it_value = ms_timespec(d->cfg.interval_ms),
	};

	pagemig_config_migrate_opts(&d->cfg, &o);
	o.rate_bytes_per_s = 0; /* the executor paces itself between slices */
	log_set_level(d->cfg.log_level);
	executor_configure(d->exec, &o, d->cfg.rate_bytes_per_s, d->cfg.rules, d->cfg.n_rules);
	if (d->timerfd >= 0)
		timerfd_settime(d->timerfd, 0, &its, NULL);
	d->soon_pending = false; /* the timer runs by the interval again */
}

static void update_status(struct pagemigd *d);

int pagemigd_reload(struct pagemigd *d)
{
	char old_socket[sizeof(d->cfg.socket_path)];
	struct stat before, after;
	int err;

	sd_notify(0, "RELOADING=1");
	snprintf(old_socket, sizeof(old_socket), "%s", d->cfg.socket_path);
	/* A file rewritten in place (an editor, a configuration tool) may be read empty or in
	 * part while it is written: an empty file, or one that changed while it was read, is not
	 * taken. Renaming a new file over it is atomic and always safe. */
	if (stat(d->config_path, &before) == 0 && before.st_size == 0) {
		log_error("'%s' is empty: is it being written? An empty configuration is taken at "
			  "start only",
			  d->config_path);
		err = -ENODATA;
	} else {
		struct pagemig_config next;
		size_t bytes = 0;

		pagemig_config_init(&next);
		err = load_config(d, &next, &bytes);
		/* read empty, or not what is there now (file times are too coarse to tell) */
		if (!err && (bytes == 0 || stat(d->config_path, &after) < 0 ||
			     after.st_ino != before.st_ino || (off_t)bytes != after.st_size ||
			     after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
			     after.st_mtim.tv_nsec != before.st_mtim.tv_nsec)) {
			log_error("'%s' changed while it was read: try again once it is written "
				  "(write a new file and rename it over the old one)",
				  d->config_path);
			pagemig_config_free(&next);
			err = -EAGAIN;
		}
		if (!err) {
			pagemig_config_free(&d->cfg);
			d->cfg = next;
		}
	}
	if (err) {
		log_error("reloading '%s' failed: the running configuration stays", d->config_path);
		d->reload_failed = true;
		update_status(d);
		sd_notify(0, "READY=1");
		return err;
	}
	d->reload_failed = false;
	if (strcmp(old_socket, d->cfg.socket_path))
		log_warning("socket_path changed to '%s': the daemon keeps '%s' until restarted",
			    d->cfg.socket_path, old_socket);
	/* processes are matched against the new rules by the next scan */
	pagemigd_unmanage_all(d);
	executor_cancel(d->exec);
	apply_config(d);
	log_notice("configuration reloaded from '%s': %zu policies, mode %s", d->config_path,
		   d->cfg.n_rules, pagemigd_observing(d) ? "observe" : "enforce");
	update_status(d);
	sd_notify(0, "READY=1");
	return 0;
}

/* ---- setup --------------------------------------------------------------------------------- */

static int add_fd(struct pagemigd *d, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void sampler_log(int level, const char *msg, void *ctx)
{
	log_msg(level, NULL, "sampler: %s", msg);
}

static int start_sampler(struct pagemigd *d)
{
	struct pagemig_sampler_config sc = d->cfg.sampler;
	int err;

	sc.sz = sizeof(sc);
	sc.log = sampler_log;
	sc.rearm_settled = pagemigd_rearm_settled;
	sc.rearm_ctx = d;
	err = pagemig_sampler_new(&sc, &d->sampler);
	if (err)
		return log_errno(LOG_WARNING, err, "the sampler could not start: running without "
						   "access statistics");
	/* the sampler has said, source by source, what it loaded and why not */
	return 0;
}

static int exec_lookup(void *ctx, pid_t tgid, const char **comm)
{
	struct managed *m = pagemigd_find_proc(ctx, tgid);

	if (!m)
		return -1;
	*comm = m->comm;
	return m->pidfd;
}

static int setup(struct pagemigd *d)
{
	sigset_t mask;
	bool group_missing = false;
	uint64_t wd_usec = 0;
	int err;

	d->start_ms = mono_ms();
	err = pagemig_topology_load(&d->topo);
	if (err)
		return log_errno(LOG_ERR, err, "reading the NUMA topology");
	d->history = pagemig_policy_history_new(1u << 20);
	d->exec = executor_new(exec_lookup, d, d->history);
	if (!d->history || !d->exec)
		return log_errno(LOG_ERR, ENOMEM, "starting");
	executor_set_wanted(d->exec, pagemigd_exec_wanted);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sigfd < 0 || d->timerfd < 0 || d->epfd < 0)
		return log_errno(LOG_ERR, errno, "creating the event loop");
	apply_config(d);
	if (add_fd(d, d->sigfd) || add_fd(d, d->timerfd))
		return log_errno(LOG_ERR, errno, "creating the event loop");

	start_sampler(d);
	if (d->sampler && pagemig_sampler_audit_fd(d->sampler) >= 0)
		add_fd(d, pagemig_sampler_audit_fd(d->sampler));

	err = control_open(d->cfg.socket_path, d->cfg.socket_group, pagemigd_commands, d, &d->ctl,
			   &group_missing);
	if (err)
		return log_errno(LOG_ERR, err, "listening on '%s'", d->cfg.socket_path);
	if (group_missing)
		log_notice("group '%s' does not exist: the control socket '%s' is for root only",
			   d->cfg.socket_group, d->cfg.socket_path);
	control_set_epoll(d->ctl, d->epfd);
	add_fd(d, control_listen_fd(d->ctl));
	if (pagemigd_ctl_open(d))
		return log_errno(LOG_ERR, ENOMEM, "starting");

	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec) {
		/* ping at half the watchdog's period (at least every millisecond) */
		uint64_t ping_ms = wd_usec >= 2000 ? wd_usec / 2000 : 1;
		struct itimerspec its = {.it_interval = ms_timespec(ping_ms),
					 .it_value = ms_timespec(ping_ms)};

		d->watchdogfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (d->watchdogfd >= 0) {
			timerfd_settime(d->watchdogfd, 0, &its, NULL);
			add_fd(d, d->watchdogfd);
		}
	}

	if (!d->cfg.n_rules)
		log_notice("'%s' has no [policy NAME] section: no process is managed",
			   d->config_path);
	if (d->topo.nr_memory < 2)
		log_notice("this machine has %d memory node%s: there is nothing to place; pagemigd "
			   "samples and reports only",
			   d->topo.nr_memory, d->topo.nr_memory == 1 ? "" : "s");
	log_notice("pagemigd %s started: %d nodes (%d with memory), %zu policies, mode %s, "
		   "socket '%s'",
		   PAGEMIG_DAEMON_VERSION, d->topo.nr_nodes, d->topo.nr_memory, d->cfg.n_rules,
		   pagemigd_observing(d) ? "observe" : "enforce", d->cfg.socket_path);
	return 0;
}

static void teardown(struct pagemigd *d)
{
	pagemigd_ctl_close(d);
	executor_cancel(d->exec);
	pagemigd_unmanage_all(d);
	control_close(d->ctl);
	pagemig_sampler_free(d->sampler);
	executor_free(d->exec);
	pagemig_policy_history_free(d->history);
	pagemig_plan_free(&d->plan);
	free(d->procs);
	procs_cache_free(&d->proc_cache);
	free(d->pin);
	free(d->pin_proc);
	free(d->resident);
	free(d->subset);
	pagemig_config_free(&d->cfg);
	if (d->watchdogfd >= 0)
		close(d->watchdogfd);
	if (d->timerfd >= 0)
		close(d->timerfd);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->epfd >= 0)
		close(d->epfd);
}

/* ---- the loop ------------------------------------------------------------------------------ */

static void update_status(struct pagemigd *d)
{
	const struct exec_counters *c = executor_counters(d->exec);
	char share[32] = "n/a";

	if (d->local_share >= 0)
		snprintf(share, sizeof(share), "%.0f%%", d->local_share * 100);
	/* A refused reload stays in the status until a reload succeeds: the operator may look
	 * only after several cycles. */
	snprintf(d->status_line, sizeof(d->status_line),
		 "%s%.255s%s%s%s: %zu processes, %llu pages moved, %llu failed, local access %s",
		 d->reload_failed ? "reload failed: '" : "", d->reload_failed ? d->config_path : "",
		 d->reload_failed ? "' has errors; running the previous configuration, " : "",
		 pagemigd_observing(d) ? "observing" : "enforcing", d->paused ? " (paused)" : "",
		 d->n_procs, (unsigned long long)c->pages_moved,
		 (unsigned long long)c->pages_failed, share);
	sd_notifyf(0, "STATUS=%s", d->status_line);
}

static void on_signal(struct pagemigd *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			pagemigd_reload(d);
		else
			d->stopping = true;
	}
}

static void drain_timer(int fd)
{
	uint64_t ticks;

	while (read(fd, &ticks, sizeof(ticks)) == sizeof(ticks))
		;
}

/* The control socket's file is still there, or is made again (a removed /run/pagemig, a
 * cleanup of the directory); said once per change. */
static void check_socket(struct pagemigd *d)
{
	static int last_err;
	int r = control_check_path(d->ctl);

	if (r == 1)
		log_warning("the control socket '%s' had vanished or been replaced: listening on a "
			    "new one",
			    d->cfg.socket_path);
	else if (r < 0 && r != last_err)
		log_errno(LOG_ERR, r, "the control socket '%s' vanished and cannot be made again "
				      "(retrying each cycle)",
			  d->cfg.socket_path);
	last_err = r < 0 ? r : 0;
}

static void dispatch(struct pagemigd *d, const struct epoll_event *ev)
{
	int fd = ev->data.fd;

	if (fd == d->sigfd) {
		on_signal(d);
	} else if (fd == d->timerfd) {
		drain_timer(fd);
		pagemigd_cycle(d);
		update_status(d);
		check_socket(d);
	} else if (fd == d->watchdogfd) {
		drain_timer(fd);
		sd_notify(0, "WATCHDOG=1");
	} else if (d->ctl && fd == control_listen_fd(d->ctl)) {
		control_accept(d->ctl);
	} else if (d->ctl && control_owns(d->ctl, fd)) {
		control_io(d->ctl, fd, ev->events);
	} else if (pagemigd_ctl_owns(d, fd)) {
		pagemigd_ctl_io(d, fd, ev->events);
	} else if (d->sampler && fd == pagemig_sampler_audit_fd(d->sampler)) {
		pagemig_sampler_audit_poll(d->sampler, 0);
	}
}

static int run(struct pagemigd *d)
{
	struct epoll_event evs[16];
	int wait_ms = -1;
	uint64_t now, watch_ms = 0; /* the departure watch's next turn */

	/* the first cycle right away, so status has data before the first interval ends */
	pagemigd_cycle(d);
	update_status(d);
	sd_notifyf(0, "READY=1\nSTATUS=%s", d->status_line);
	while (!d->stopping) {
		int n;

		n = epoll_wait(d->epfd, evs, 16, wait_ms);
		if (n < 0 && errno != EINTR)
			return log_errno(LOG_ERR, errno, "waiting for events");
		for (int i = 0; i < n && !d->stopping; i++)
			dispatch(d, &evs[i]);
		now = mono_ms();
		control_expire(d->ctl, now);
		if (now >= watch_ms)
			watch_ms = pagemigd_watch_departures(d, now);
		/* moves in slices of at most 50 ms: signals and clients wait no longer */
		wait_ms = d->stopping || d->paused ? -1 : executor_step(d->exec, 50);
		wait_ms = pagemigd_ctl_step(d, wait_ms); /* manual moves, metrics file */
		if (wait_ms < 0)
			wait_ms = 1000; /* idle: wake now and then to expire silent clients */
		now = mono_ms();
		if (watch_ms <= now)
			wait_ms = 0;
		else if ((uint64_t)wait_ms > watch_ms - now)
			wait_ms = (int)(watch_ms - now);
	}
	sd_notify(0, "STOPPING=1");
	log_notice("stopping: %llu pages left unmoved, every process as it is",
		   (unsigned long long)executor_pending(d->exec));
	return 0;
}

int main(int argc, char **argv)
{
	static struct pagemigd d = {.epfd = -1, .sigfd = -1, .timerfd = -1, .watchdogfd = -1};
	struct args a;
	int err;

	if (parse_args(argc, argv, &a))
		return EXIT_CONFIG;
	snprintf(d.config_path, sizeof(d.config_path), "%s", a.config);
	if (a.check) {
		struct pagemig_config_diag *diag = malloc(sizeof(*diag));
		struct pagemig_config cfg;

		if (!diag)
			return EXIT_SETUP;
		err = pagemig_config_load_secure(a.config, &cfg, diag, NULL);
		pagemig_config_diag_print(err ? stderr : stdout, diag);
		free(diag);
		if (err)
			return EXIT_CONFIG;
		printf("%s: OK (%zu policies)\n", a.config, cfg.n_rules);
		pagemig_config_free(&cfg);
		return 0;
	}
	d.socket_override = a.socket;
	d.force_observe = a.observe;
	d.foreground = a.foreground;
	log_setup(LOG_INFO, false);
	if (load_config(&d, &d.cfg, NULL)) {
		log_error("cannot start: fix '%s' (pagemigd --check-config -c '%s' lists every "
			  "error)",
			  d.config_path, d.config_path);
		return EXIT_CONFIG;
	}
	log_set_level(d.cfg.log_level);
	err = setup(&d);
	if (!err) {
		char caps[256];

		/* BPF is loaded and the socket bound: keep only what the running daemon needs */
		err = privdrop_after_setup(d.sampler, caps, sizeof(caps));
		if (err)
			log_errno(LOG_ERR, err, "dropping capabilities");
		else
			log_info("capabilities: %s", caps);
	}
	if (!err)
		err = run(&d);
	teardown(&d);
	return err ? EXIT_SETUP : 0;
}
