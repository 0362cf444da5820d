/*
 * Entrypoint of the forge-built Postgres image, which has no shell.
 *
 * On first start (no PG_VERSION in the data directory) it runs initdb with the
 * superuser and password from the environment, allows password logins over TCP,
 * and creates POSTGRES_DB through single-user mode (no server, no client needed).
 * Then it replaces itself with the postgres server, so signals (SIGTERM: smart
 * shutdown) reach postgres directly.
 *
 * Environment:
 *   POSTGRES_PASSWORD  required unless POSTGRES_HOST_AUTH_METHOD=trust
 *   POSTGRES_USER      superuser name (default "postgres")
 *   POSTGRES_DB        database created on first start (default: POSTGRES_USER)
 *   PGDATA             data directory (default /var/lib/postgresql/data/pgdata: a
 *                      subdirectory, because initdb must own the directory it fills
 *                      and a volume's root is owned by root)
 * Extra arguments are passed to postgres (e.g. "-c" "max_connections=50").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG_BIN "/usr/lib/postgresql/17/bin"
#define DEFAULT_PGDATA "/var/lib/postgresql/data/pgdata"
#define PWFILE "/tmp/pg-init.pwfile"
#define POPEN_NOSHELL "/usr/local/lib/libpopen-noshell.so"

static const char *env_or(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return (v && *v) ? v : fallback;
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "pg-init: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

/* mkdir -p with mode 0700 for every directory we create. */
static void make_dirs(const char *path) {
    char buf[4096];
    if (strlen(path) >= sizeof buf) die("PGDATA is too long", path);
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) die("cannot create directory", buf);
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) die("cannot create data directory", buf);
    if (chmod(buf, 0700) != 0) die("cannot set mode 0700 on data directory", buf);
}

/* Runs argv to completion, optionally feeding `input` on its stdin; dies on failure. */
static void run(char *const argv[], const char *input) {
    int fds[2];
    if (input && pipe(fds) != 0) die("pipe failed", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) die("fork failed", strerror(errno));
    if (pid == 0) {
        if (input) {
            dup2(fds[0], STDIN_FILENO);
            close(fds[0]);
            close(fds[1]);
        }
        execv(argv[0], argv);
        fprintf(stderr, "pg-init: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (input) {
        close(fds[0]);
        size_t left = strlen(input);
        const char *p = input;
        while (left > 0) {
            ssize_t n = write(fds[1], p, left);
            if (n < 0) die("writing to single-user postgres failed", strerror(errno));
            p += n;
            left -= (size_t)n;
        }
        close(fds[1]);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0) die("waitpid failed", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("step failed", argv[0]);
}

static void write_file(const char *path, const char *mode, const char *text) {
    FILE *f = fopen(path, mode);
    if (!f) die("cannot open", path);
    if (fputs(text, f) < 0 || fclose(f) != 0) die("cannot write", path);
}

/* Quotes an SQL identifier: "name" with embedded quotes doubled. */
static char *quote_ident(const char *name) {
    size_t n = strlen(name);
    char *out = malloc(2 * n + 3);
    if (!out) die("out of memory", NULL);
    char *o = out;
    *o++ = '"';
    for (const char *p = name; *p; p++) {
        if (*p == '"') *o++ = '"';
        *o++ = *p;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static void initialise(const char *pgdata, const char *user, const char *db) {
    const char *password = getenv("POSTGRES_PASSWORD");
    int trust = strcmp(env_or("POSTGRES_HOST_AUTH_METHOD", ""), "trust") == 0;
    if ((!password || !*password) && !trust)
        die("POSTGRES_PASSWORD is not set",
            "set it (e.g. from a Secret), or POSTGRES_HOST_AUTH_METHOD=trust for throwaway test databases");

    make_dirs(pgdata);
    char username_arg[512], pwfile_arg[64] = "--pwfile=" PWFILE;
    snprintf(username_arg, sizeof username_arg, "--username=%s", user);
    char *initdb[] = {PG_BIN "/initdb", "-D", (char *)pgdata, username_arg,
                      "--encoding=UTF8", "--locale=C", "--auth-local=trust",
                      trust ? "--auth-host=trust" : "--auth-host=scram-sha-256",
                      trust ? NULL : pwfile_arg, NULL};
    if (!trust) {
        umask(077);
        write_file(PWFILE, "w", password);
    }
    /* initdb runs the backend through popen(), i.e. /bin/sh, which this image does not
       have: the preloaded libpopen-noshell runs those commands directly. */
    if (setenv("LD_PRELOAD", POPEN_NOSHELL, 1) != 0) die("setenv failed", strerror(errno));
    run(initdb, NULL);
    unsetenv("LD_PRELOAD");
    if (!trust) unlink(PWFILE);

    char hba[4096];
    snprintf(hba, sizeof hba, "%s/pg_hba.conf", pgdata);
    write_file(hba, "a", trust ? "host all all all trust\n" : "host all all all scram-sha-256\n");

    if (strcmp(db, "postgres") != 0) {
        char *ident = quote_ident(db);
        char *sql = malloc(strlen(ident) + 32);
        if (!sql) die("out of memory", NULL);
        sprintf(sql, "CREATE DATABASE %s;\n", ident);
        char *single[] = {PG_BIN "/postgres", "--single", "-D", (char *)pgdata, "postgres", NULL};
        run(single, sql);
        free(sql);
        free(ident);
    }
    fprintf(stderr, "pg-init: initialised %s (user %s, database %s)\n", pgdata, user, db);
}

int main(int argc, char **argv) {
    const char *pgdata = env_or("PGDATA", DEFAULT_PGDATA);
    const char *user = env_or("POSTGRES_USER", "postgres");
    const char *db = env_or("POSTGRES_DB", user);

    char marker[4096];
    snprintf(marker, sizeof marker, "%s/PG_VERSION", pgdata);
    if (access(marker, F_OK) != 0) initialise(pgdata, user, db);

    /* postgres, the data directory, TCP on all addresses, its socket in the writable /tmp. */
    char **args = calloc((size_t)argc + 8, sizeof *args);
    if (!args) die("out of memory", NULL);
    int i = 0;
    args[i++] = PG_BIN "/postgres";
    args[i++] = "-D";
    args[i++] = (char *)pgdata;
    args[i++] = "-c";
    args[i++] = "listen_addresses=*";
    args[i++] = "-c";
    args[i++] = "unix_socket_directories=/tmp";
    for (int a = 1; a < argc; a++) args[i++] = argv[a];
    args[i] = NULL;
    execv(args[0], args);
    die("cannot start postgres", strerror(errno));
}
