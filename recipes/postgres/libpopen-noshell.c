/*
 * popen()/pclose() without /bin/sh, preloaded (LD_PRELOAD) into initdb by pg-init.
 *
 * initdb starts the postgres backend through popen(), which runs "/bin/sh -c CMD"; the image
 * has no shell. The commands initdb (and the backend it starts) build are simple: a program
 * ("double-quoted" path or a bare name looked up in PATH), plain words, and at most a
 * ">FILE" and a "2>&1" redirection. This parses exactly
 * that and runs the program directly. Anything else (pipes, variables, single quotes, ;, &,
 * backquotes...) is refused with EINVAL rather than guessed at.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 64
#define MAX_STREAMS 16

static struct {
    FILE *file;
    pid_t pid;
} streams[MAX_STREAMS];

/* Splits cmd into argv (in buf); sets *out_file for ">FILE" and *err_to_out for "2>&1". */
static int parse(const char *cmd, char *buf, size_t size, char **argv, char **out_file, int *err_to_out) {
    size_t used = 0;
    int argc = 0;
    const char *p = cmd;
    *out_file = NULL;
    *err_to_out = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        if (strncmp(p, "2>&1", 4) == 0 && (p[4] == '\0' || p[4] == ' ')) {
            *err_to_out = 1;
            p += 4;
            continue;
        }
        int is_redirect = *p == '>';
        if (is_redirect) {
            p++;
            while (*p == ' ') p++;
        }
        char *word = buf + used;
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' || *p == '$' || *p == '`' || used + 2 >= size) return -1;
                buf[used++] = *p;
            }
            if (*p != '"') return -1;
            p++;
        } else {
            for (; *p && *p != ' ' && *p != '\t'; p++) {
                if (strchr("|;&$`'\"<>()\\*?", *p) || used + 2 >= size) return -1;
                buf[used++] = *p;
            }
        }
        buf[used++] = '\0';
        if (is_redirect) {
            if (*out_file || !*word) return -1;
            *out_file = word;
        } else {
            if (argc + 1 >= MAX_ARGS) return -1;
            argv[argc++] = word;
        }
    }
    argv[argc] = NULL;
    return argc > 0 ? 0 : -1;
}

FILE *popen(const char *cmd, const char *mode) {
    char buf[8192], *argv[MAX_ARGS], *out_file;
    int err_to_out, fds[2], slot = -1;
    int reading = mode[0] == 'r';
    if ((mode[0] != 'r' && mode[0] != 'w') || parse(cmd, buf, sizeof buf, argv, &out_file, &err_to_out) != 0) {
        fprintf(stderr, "popen-noshell: refusing command (no shell in this image): %s\n", cmd);
        errno = EINVAL;
        return NULL;
    }
    for (int i = 0; i < MAX_STREAMS; i++)
        if (!streams[i].file) { slot = i; break; }
    if (slot < 0) { errno = EMFILE; return NULL; }
    if (pipe2(fds, O_CLOEXEC) != 0) return NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    if (pid == 0) {
        dup2(reading ? fds[1] : fds[0], reading ? STDOUT_FILENO : STDIN_FILENO);
        if (out_file) {
            int fd = open(out_file, O_WRONLY | O_CREAT | O_TRUNC, 0666);
            if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) _exit(127);
            close(fd);
        }
        if (err_to_out) dup2(STDOUT_FILENO, STDERR_FILENO);
        /* As sh does: a program that is not there is exit status 127. (The backend asks for
           `locale -a` when importing collations; this image has no locale data, so none.) */
        execvp(argv[0], argv);
        fprintf(stderr, "popen-noshell: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(reading ? fds[1] : fds[0]);
    FILE *f = fdopen(reading ? fds[0] : fds[1], reading ? "r" : "w");
    if (!f) {
        close(reading ? fds[0] : fds[1]);
        waitpid(pid, NULL, 0);
        return NULL;
    }
    streams[slot].file = f;
    streams[slot].pid = pid;
    return f;
}

int pclose(FILE *f) {
    for (int i = 0; i < MAX_STREAMS; i++) {
        if (streams[i].file != f) continue;
        pid_t pid = streams[i].pid;
        streams[i].file = NULL;
        fclose(f);
        int status;
        while (waitpid(pid, &status, 0) < 0)
            if (errno != EINTR) return -1;
        return status;
    }
    errno = ECHILD;
    return -1;
}
