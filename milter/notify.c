/*
 * notify.c - the on_flag hook
 *
 * Thread safety: each call copies what it needs into a job owned by its
 * own detached thread.
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "duration.h"
#include "escape.h"
#include "log.h"
#include "notify.h"
#include "policy.h"

#define NOTIFY_FACTS 7
#define NOTIFY_ENV   9

struct job {
	char   **argv;		/* owned, NULL-terminated; strings owned */
	char    *envp[NOTIFY_ENV + 1];	/* owned */
	uint32_t timeout;
	char     euser[3 * 321];
};

static void
job_free(struct job *j)
{
	size_t i;

	if (j == NULL)
		return;
	if (j->argv != NULL)
		for (i = 0; j->argv[i] != NULL; i++)
			free(j->argv[i]);
	free(j->argv);
	for (i = 0; i < NOTIFY_ENV && j->envp[i] != NULL; i++)
		free(j->envp[i]);
	free(j);
}

/* env - "NAME=value" */
static char *
env(const char *name, const char *value)
{
	char *s;

	if (asprintf(&s, "%s=%s", name, value) == -1)
		return NULL;
	return s;
}

/* run - fork, exec, wait with a deadline */
static void *
run(void *arg)
{
	struct job *j = arg;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	time_t deadline;
	pid_t pid, r;
	int st = 0, fd, timed_out = 0;

	if ((pid = fork()) == -1) {
		log_warn("on_flag: user=%s: fork", j->euser);
		job_free(j);
		return NULL;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		for (fd = 3; fd < 1024; fd++)
			close(fd);
		execve(j->argv[0], j->argv, j->envp);
		_exit(127);
	}
	deadline = time(NULL) + (time_t) j->timeout;
	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid || (r == -1 && errno != EINTR))
			break;
		if (time(NULL) >= deadline && !timed_out) {
			kill(pid, SIGKILL);
			timed_out = 1;
		}
		nanosleep(&ts, NULL);
	}
	if (timed_out)
		log_warnx("on_flag: user=%s: %s killed after %us", j->euser,
		    j->argv[0], j->timeout);
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		log_info("on_flag: user=%s: %s done", j->euser, j->argv[0]);
	else
		log_warnx("on_flag: user=%s: %s failed (status %d)", j->euser,
		    j->argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	job_free(j);
	return NULL;
}

/* notify_flag - start the on_flag command of c for user */
void
notify_flag(const struct conf *c, const char *user,
    const struct account_flag *f, const char *reason, const char *client,
    const char *queue_id)
{
	char count[16], max[16], win[32];
	const char *facts[NOTIFY_FACTS];
	struct job *j;
	pthread_t t;
	size_t n = 0, i, k;

	if (c->on_flag.argv == NULL || c->on_flag.argv[0] == NULL)
		return;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return;
	escape_value(j->euser, sizeof(j->euser), user);
	snprintf(count, sizeof(count), "%u", f->count);
	snprintf(max, sizeof(max), "%u", f->max);
	duration_format(f->window, win, sizeof(win));
	facts[0] = user;
	facts[1] = policy_limit_name(f->limit);
	facts[2] = count;
	facts[3] = max;
	facts[4] = win;
	facts[5] = client != NULL ? client : "";
	facts[6] = queue_id != NULL ? queue_id : "";
	while (c->on_flag.argv[n] != NULL)
		n++;
	if ((j->argv = calloc(n + NOTIFY_FACTS + 1, sizeof(char *))) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if ((j->argv[i] = strdup(c->on_flag.argv[i])) == NULL)
			goto fail;
	for (k = 0; k < NOTIFY_FACTS; k++)
		if ((j->argv[i++] = strdup(facts[k])) == NULL)
			goto fail;
	j->envp[0] = env("SASLGUARD_USER", user);
	j->envp[1] = env("SASLGUARD_LIMIT", facts[1]);
	j->envp[2] = env("SASLGUARD_COUNT", count);
	j->envp[3] = env("SASLGUARD_MAX", max);
	j->envp[4] = env("SASLGUARD_WINDOW", win);
	j->envp[5] = env("SASLGUARD_CLIENT", facts[5]);
	j->envp[6] = env("SASLGUARD_QUEUE_ID", facts[6]);
	j->envp[7] = env("SASLGUARD_REASON", reason != NULL ? reason : "");
	j->envp[8] = env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
	    "/usr/bin:/sbin:/bin");
	for (k = 0; k < NOTIFY_ENV; k++)
		if (j->envp[k] == NULL)
			goto fail;
	j->timeout = c->on_flag.timeout ? c->on_flag.timeout : 10;
	if (pthread_create(&t, NULL, run, j) != 0)
		goto fail;
	pthread_detach(t);
	return;
fail:
	log_warnx("on_flag: user=%s: cannot start the command", j->euser);
	job_free(j);
}
