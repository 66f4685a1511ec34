// SPDX-License-Identifier: ISC
/* sftunneld -- the sftunnel daemon: mutual-TLS tunnels, heartbeats, push */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "conf.h"
#include "log.h"
#include "sfile.h"
#include "version.h"
#include "xmalloc.h"
#include "sftunneld.h"
#include "root.h"
#include "banned.h"

#define GEN_ENV	"SFTUNNELD_GEN"

struct sftd sd;

static volatile sig_atomic_t got_hup, got_term;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f, "usage: sftunneld [-dhV] [-a address] [-i heartbeat] "
	    "[-m max-backoff] [-r root]\n"
	    "                 [-t push-timeout]\n");
	exit(status);
}

/* Identity of this appliance from ims.conf. */
static int
load_conf(const char *addr)
{
	struct conf *cf = NULL;
	struct utsname un;
	const char *v;
	char *path;
	int rc = -1;

	path = root_path(RP_IMS_CONF);
	if (conf_load(path, &cf) == -1)
		goto out;
	if ((v = conf_get(cf, "APPLIANCE_UUID")) == NULL) {
		log_warnx("%s: no APPLIANCE_UUID", path);
		goto out;
	}
	strlcpy(sd.uuid, v, sizeof(sd.uuid));
	if ((v = conf_get(cf, "HOSTNAME")) == NULL)
		v = uname(&un) == 0 ? un.nodename : "localhost";
	strlcpy(sd.host, v, sizeof(sd.host));
	if (addr == NULL && (addr = conf_get(cf, "MGMT_IP")) == NULL) {
		log_warnx("%s: no MGMT_IP (use -a)", path);
		goto out;
	}
	strlcpy(sd.addr, addr, sizeof(sd.addr));
	v = conf_get(cf, "HA_ROLE");
	sd.secondary = v != NULL && strcmp(v, "secondary") == 0;
	switch (root_kind()) {
	case ROOT_FMC:
		strlcpy(sd.kind, "fmc", sizeof(sd.kind));
		break;
	case ROOT_FTD:
		strlcpy(sd.kind, "ftd", sizeof(sd.kind));
		break;
	default:
		log_warnx("%s: neither an FMC nor an FTD", root_dir());
		goto out;
	}
	rc = 0;
 out:
	conf_free(cf);
	free(path);
	return rc;
}

/* One daemon per root.  A re-exec of ourselves finds its own pid. */
static int
pidfile_take(void)
{
	char *path, *dir, *buf = NULL, line[32];
	size_t len;
	long pid;
	int fd, tries, n, rc = -1;

	path = root_path(RP_PIDFILE);
	dir = root_path(RP_RUN);
	if (sfile_mkdirs(dir, 0700) == -1) {
		free(dir);
		goto out;
	}
	free(dir);
	for (tries = 0; tries < 3; tries++) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
		if (fd != -1) {
			n = snprintf(line, sizeof(line), "%ld\n",
			    (long)getpid());
			if (write(fd, line, (size_t)n) != n) {
				log_warn("%s", path);
				close(fd);
				goto out;
			}
			close(fd);
			rc = 0;
			goto out;
		}
		if (errno != EEXIST) {
			log_warn("%s", path);
			goto out;
		}
		free(buf);
		buf = NULL;
		pid = 0;
		if (sfile_read(path, 64, &buf, &len) == 0)
			pid = strtol(buf, NULL, 10);
		if (pid == (long)getpid()) {
			rc = 0;		/* restarted by SIGHUP */
			goto out;
		}
		if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) {
			log_warnx("already running (pid %ld, %s)", pid, path);
			goto out;
		}
		(void)unlink(path);	/* stale */
	}
	log_warnx("%s: cannot take the pidfile", path);
 out:
	free(buf);
	free(path);
	return rc;
}

static int
listen_tunnel(void)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(SFTUNNEL_PORT);
	if (inet_pton(AF_INET, sd.addr, &sin.sin_addr) != 1) {
		log_warnx("%s: not an IPv4 address", sd.addr);
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("socket");
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 1024) == -1) {
		log_warn("%s:%d", sd.addr, SFTUNNEL_PORT);
		close(fd);
		return -1;
	}
	sd.lfd = fd;
	return 0;
}

static void
loop(void)
{
	struct pollfd *pfd = NULL;
	struct conn **pc = NULL;
	struct control_client **pk = NULL;
	size_t cap = 0, n, i, nc, nk, base;
	time_t now;

	while (!got_hup && !got_term) {
		nc = sd.nconns;
		nk = sd.nctls;
		if (cap < nc + nk + 2) {
			cap = (nc + nk + 2) * 2;
			pfd = xreallocarray(pfd, cap, sizeof(*pfd));
			pc = xreallocarray(pc, cap, sizeof(*pc));
			pk = xreallocarray(pk, cap, sizeof(*pk));
		}
		/* poll(2) skips a negative fd: no accept while paused */
		now = time(NULL);
		pfd[0].fd = now < sd.accept_pause ? -1 : sd.lfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = now < sd.accept_pause ? -1 : sd.cfd;
		pfd[1].events = POLLIN;
		base = 2;
		for (i = 0; i < nc; i++) {
			pc[i] = sd.conns[i];
			pfd[base + i].fd = pc[i]->fd;
			pfd[base + i].events = conn_events(pc[i]);
		}
		for (i = 0; i < nk; i++) {
			pk[i] = sd.ctls[i];
			pfd[base + nc + i].fd = control_fd(pk[i]);
			pfd[base + nc + i].events = control_events(pk[i]);
		}
		n = base + nc + nk;
		for (i = 0; i < n; i++)
			pfd[i].revents = 0;
		if (poll(pfd, n, 200) == -1 && errno != EINTR) {
			log_warn("poll");
			break;
		}
		now = time(NULL);
		if (pfd[0].revents & POLLIN)
			conn_accept(sd.lfd, now);
		if (pfd[1].revents & POLLIN)
			control_accept(now);
		for (i = 0; i < nc; i++)
			if (pfd[base + i].revents != 0)
				conn_io(pc[i], pfd[base + i].revents, now);
		for (i = 0; i < nk; i++)
			if (pfd[base + nc + i].revents != 0)
				control_io(pk[i], pfd[base + nc + i].revents,
				    now);
		conn_timers(now);
		control_timers(now);
		conn_reap();
		control_reap();
	}
	free(pfd);
	free(pc);
	free(pk);
}

static void
teardown(const char *why)
{
	conn_close_all(why);
	control_shutdown();
	if (sd.lfd != -1)
		close(sd.lfd);
	sd.lfd = -1;
}

/* SIGHUP: drop every session and start over as a new image, same pid. */
static void
restart(void)
{
	char gen[16], self[PATH_MAX];
	ssize_t n;

	sflog(&sd.log, SFLOG_INFO, "Restarting sftunnel");
	teardown("daemon restart");
	tpeers_free();
	sflog_close(&sd.log);
	snprintf(gen, sizeof(gen), "%u", sd.gen + 1);
	setenv(GEN_ENV, gen, 1);
	/* The binary by its name (so ps still says sftunneld), unless it
	 * was replaced on disk since: then the image we run. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || strstr((self[n] = '\0', self), " (deleted)") != NULL)
		strlcpy(self, "/proc/self/exe", sizeof(self));
	execv(self, sd.argv);
	log_warn("re-exec");
}

static int
run(int foreground, const char *addr)
{
	struct sigaction sa;
	const char *g, *errstr;
	char *path;
	int rc = -1, have_pid = 0;

	if (load_conf(addr) == -1)
		return -1;
	path = root_path(RP_MESSAGES);
	if (sflog_open(&sd.log, path, sd.host) == -1) {
		free(path);
		return -1;
	}
	free(path);
	if (!foreground && daemon(0, 0) == -1) {
		log_warn("daemon");
		goto out;
	}
	(void)prctl(PR_SET_DUMPABLE, 0);
	if (pidfile_take() == -1)
		goto out;
	have_pid = 1;
	if ((g = getenv(GEN_ENV)) != NULL) {
		sd.gen = (unsigned)strtonum(g, 0, 1000000, &errstr);
		unsetenv(GEN_ENV);
	}
	sd.started = time(NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (tpeers_init() == -1 || control_listen() == -1)
		goto out;
	if (strcmp(sd.kind, "fmc") == 0 && listen_tunnel() == -1)
		goto out;
	sflog(&sd.log, SFLOG_INFO, "sftunnel started on %s (%s, %zu peers)",
	    sd.addr, sd.kind, sd.npeers);
	loop();
	if (got_hup) {
		restart();	/* returns only when exec failed */
		goto out;
	}
	sflog(&sd.log, SFLOG_INFO, "sftunnel stopped");
	rc = 0;
 out:
	teardown("daemon stopped");
	tpeers_free();
	if (have_pid) {
		path = root_path(RP_PIDFILE);
		(void)unlink(path);
		free(path);
	}
	sflog_close(&sd.log);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "address",	required_argument,	NULL, 'a' },
		{ "foreground",	no_argument,		NULL, 'd' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "heartbeat",	required_argument,	NULL, 'i' },
		{ "max-backoff", required_argument,	NULL, 'm' },
		{ "root",	required_argument,	NULL, 'r' },
		{ "push-timeout", required_argument,	NULL, 't' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	const char *root = NULL, *addr = NULL, *errstr;
	int ch, fg = 0;

	log_init(argv[0]);
	sd.argv = argv;
	sd.hb = 30;
	sd.push_timeout = 10;
	sd.backoff_cap = 30;
	sd.lfd = sd.cfd = -1;
	while ((ch = getopt_long(argc, argv, "Va:dhi:m:r:t:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'V':
			printf("sftunneld (sfca) %s\n", SFCA_VERSION);
			return 0;
		case 'a':
			addr = optarg;
			break;
		case 'd':
			fg = 1;
			break;
		case 'h':
			usage(0);
		case 'i':
			sd.hb = (int)strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(2, "-i %s: %s", optarg, errstr);
			break;
		case 'm':
			sd.backoff_cap = (int)strtonum(optarg, 1, 3600,
			    &errstr);
			if (errstr != NULL)
				errx(2, "-m %s: %s", optarg, errstr);
			break;
		case 'r':
			root = optarg;
			break;
		case 't':
			sd.push_timeout = (int)strtonum(optarg, 1, 3600,
			    &errstr);
			if (errstr != NULL)
				errx(2, "-t %s: %s", optarg, errstr);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (root_set(root) == -1)
		return 2;
	return run(fg, addr) == 0 ? 0 : 1;
}
