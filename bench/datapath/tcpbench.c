// tcpbench: a small epoll TCP load generator and server for the data-path benchmark. Bounded in
// time and count; it only talks to the addresses it is given (the bench passes addresses inside
// the scratch namespaces it created).
//
//   tcpbench serve --port P --timeout S [--netns-file FILE]
//       One listening socket on 0.0.0.0:P in every network namespace listed in FILE (one path a
//       line; the current namespace without a file). A connection whose first byte is 'c' gets
//       that byte back and is closed by the server (so TIME_WAIT stays on the server side); one
//       whose first byte is 's' is read to EOF and answered with the byte count (8 bytes, host
//       order). Exits after S seconds or on SIGTERM/SIGINT.
//   tcpbench rate --to ADDR:PORT --duration S [--conc C] [--max N] [--netns PATH]
//       New connections per second: C connections in flight, each connect, send 'c', read the
//       byte back, read EOF, close. Stops after S seconds or N completed connections. Prints
//       "conns=… errors=… seconds=… rate=…".
//   tcpbench stream --to ADDR:PORT --bytes N [--netns PATH]
//       One connection: 's' then N bytes, read the server's count back and check it. Prints
//       "bytes=… seconds=… gbit_per_s=…".
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;
static void onSignal(int sig) {
    (void)sig;
    g_stop = 1;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char* what) {
    fprintf(stderr, "tcpbench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void enterNetns(const char* path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) die(path);
    close(fd);
}

static struct sockaddr_in parseAddr(const char* s) {
    struct sockaddr_in a = {.sin_family = AF_INET};
    char host[64];
    const char* colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host) {
        fprintf(stderr, "tcpbench: --to wants ADDR:PORT, got %s\n", s);
        exit(2);
    }
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "tcpbench: bad address %s\n", host);
        exit(2);
    }
    a.sin_port = htons((uint16_t)atoi(colon + 1));
    return a;
}

// ---- server ----------------------------------------------------------------------------------

enum { kListen = 1, kConn = 2 };
struct Conn {
    int fd;
    int kind;
    int mode; // 0 unknown, 'c' or 's' (the first byte)
    uint64_t bytes;
};

static int listenOn(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (bind(fd, (struct sockaddr*)&a, sizeof a) < 0) die("bind");
    if (listen(fd, 4096) < 0) die("listen");
    return fd;
}

static void addFd(int ep, int fd, int kind) {
    struct Conn* c = calloc(1, sizeof *c);
    if (!c) die("calloc");
    c->fd = fd;
    c->kind = kind;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
}

static void closeConn(struct Conn* c) {
    close(c->fd);
    free(c);
}

// Reads what is there; returns 1 when the connection is finished (and closed).
static int serveRead(struct Conn* c) {
    char buf[65536];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 0;
        if (n <= 0) {
            if (n == 0 && c->mode == 's') {
                uint64_t count = c->bytes;
                if (write(c->fd, &count, sizeof count) < 0) { /* the client will see it */
                }
            }
            closeConn(c);
            return 1;
        }
        size_t payload = (size_t)n;
        if (!c->mode) {
            c->mode = buf[0];
            payload--;
        }
        if (c->mode == 'c') {
            if (write(c->fd, "c", 1) < 0) { /* reset by peer: nothing to do */
            }
            closeConn(c);
            return 1;
        }
        c->bytes += payload;
    }
}

static int cmdServe(int port, double timeout, const char* nsFile) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    int listeners = 0;
    if (nsFile) {
        int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        FILE* f = fopen(nsFile, "r");
        if (self < 0 || !f) die(nsFile);
        char line[4096];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = 0;
            if (!line[0]) continue;
            enterNetns(line); // the socket stays in the namespace it was created in
            addFd(ep, listenOn(port), kListen);
            if (setns(self, CLONE_NEWNET) < 0) die("setns back");
            listeners++;
        }
        fclose(f);
        close(self);
    } else {
        addFd(ep, listenOn(port), kListen);
        listeners = 1;
    }
    printf("listening=%d port=%d\n", listeners, port);
    fflush(stdout);
    double end = now() + timeout;
    struct epoll_event evs[256];
    while (!g_stop && now() < end) {
        int n = epoll_wait(ep, evs, 256, 200);
        for (int i = 0; i < n; i++) {
            struct Conn* c = evs[i].data.ptr;
            if (c->kind == kListen) {
                for (;;) {
                    int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break;
                    addFd(ep, fd, kConn);
                }
            } else {
                serveRead(c);
            }
        }
    }
    return 0;
}

// ---- connection rate -------------------------------------------------------------------------

enum { kConnecting, kAwaitByte, kAwaitEof };
struct Client {
    int fd;
    int state;
};

static int startClient(int ep, struct Client* cl, const struct sockaddr_in* to) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr*)to, sizeof *to) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    cl->fd = fd;
    cl->state = kConnecting;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = cl};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    return 0;
}

// Advances one client; returns 1 when done (ok), -1 on error, 0 when still going.
static int stepClient(int ep, struct Client* cl, uint32_t events) {
    char b[16];
    if (cl->state == kConnecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(cl->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (events & EPOLLERR) || write(cl->fd, "c", 1) != 1) return -1;
        cl->state = kAwaitByte;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = cl};
        epoll_ctl(ep, EPOLL_CTL_MOD, cl->fd, &ev);
        return 0;
    }
    for (;;) {
        ssize_t n = read(cl->fd, b, sizeof b);
        if (n < 0 && errno == EAGAIN) return 0;
        if (n < 0) return -1;
        if (n == 0) return cl->state == kAwaitEof ? 1 : -1;
        cl->state = kAwaitEof;
    }
}

static int cmdRate(const struct sockaddr_in* to, double duration, int conc, long max) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    struct Client* cls = calloc((size_t)conc, sizeof *cls);
    if (!cls) die("calloc");
    long done = 0, errors = 0, started = 0;
    int inflight = 0;
    double t0 = now(), end = t0 + duration;
    for (int i = 0; i < conc && started < max; i++) {
        if (startClient(ep, &cls[i], to) == 0) {
            inflight++;
            started++;
        } else {
            errors++;
        }
    }
    struct epoll_event evs[256];
    while (inflight > 0 && !g_stop) {
        int n = epoll_wait(ep, evs, 256, 1000);
        if (n == 0 && now() > end + 2) break; // stuck connections: count them as errors below
        for (int i = 0; i < n; i++) {
            struct Client* cl = evs[i].data.ptr;
            int r = stepClient(ep, cl, evs[i].events);
            if (r == 0) continue;
            close(cl->fd);
            inflight--;
            if (r > 0)
                done++;
            else
                errors++;
            if (now() < end && started < max && errors < 1000) {
                if (startClient(ep, cl, to) == 0) {
                    inflight++;
                    started++;
                } else {
                    errors++;
                }
            }
        }
    }
    double secs = now() - t0;
    errors += inflight;
    printf("conns=%ld errors=%ld seconds=%.3f rate=%.0f\n", done, errors, secs,
           (double)done / secs);
    return errors ? 1 : 0;
}

// ---- stream ----------------------------------------------------------------------------------

static int cmdStream(const struct sockaddr_in* to, uint64_t bytes) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    struct timeval tv = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (const struct sockaddr*)to, sizeof *to) < 0) die("connect");
    static char buf[1 << 17];
    memset(buf, 'x', sizeof buf);
    double t0 = now();
    if (write(fd, "s", 1) != 1) die("write");
    uint64_t sent = 0;
    while (sent < bytes && !g_stop) {
        size_t want = bytes - sent < sizeof buf ? (size_t)(bytes - sent) : sizeof buf;
        ssize_t n = write(fd, buf, want);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("write");
        sent += (uint64_t)n;
    }
    shutdown(fd, SHUT_WR);
    uint64_t count = 0;
    size_t got = 0;
    while (got < sizeof count) {
        ssize_t n = read(fd, (char*)&count + got, sizeof count - got);
        if (n <= 0) die("read count");
        got += (size_t)n;
    }
    double secs = now() - t0;
    close(fd);
    if (count != sent) {
        fprintf(stderr, "tcpbench: server counted %llu of %llu bytes\n", (unsigned long long)count,
                (unsigned long long)sent);
        return 1;
    }
    printf("bytes=%llu seconds=%.3f gbit_per_s=%.2f\n", (unsigned long long)sent, secs,
           (double)sent * 8 / secs / 1e9);
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: tcpbench serve --port P --timeout S [--netns-file FILE]\n"
                    "       tcpbench rate --to ADDR:PORT --duration S [--conc C] [--max N] "
                    "[--netns PATH]\n"
                    "       tcpbench stream --to ADDR:PORT --bytes N [--netns PATH]\n");
    exit(2);
}

int main(int argc, char** argv) {
    if (argc < 2) usage();
    const char *mode = argv[1], *to = NULL, *netns = NULL, *nsFile = NULL;
    int port = 0, conc = 16;
    double seconds = 5;
    long max = 10000000;
    unsigned long long bytes = 1ULL << 30;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--to"))
            to = v;
        else if (!strcmp(k, "--netns"))
            netns = v;
        else if (!strcmp(k, "--netns-file"))
            nsFile = v;
        else if (!strcmp(k, "--port"))
            port = atoi(v);
        else if (!strcmp(k, "--conc"))
            conc = atoi(v);
        else if (!strcmp(k, "--max"))
            max = atol(v);
        else if (!strcmp(k, "--timeout") || !strcmp(k, "--duration"))
            seconds = atof(v);
        else if (!strcmp(k, "--bytes"))
            bytes = strtoull(v, NULL, 10);
        else
            usage();
    }
    if (seconds <= 0 || seconds > 3600 || conc < 1 || conc > 4096) usage();
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, onSignal);
    signal(SIGINT, onSignal);
    if (!strcmp(mode, "serve")) {
        if (port <= 0) usage();
        return cmdServe(port, seconds, nsFile);
    }
    if (!to) usage();
    if (netns) enterNetns(netns);
    struct sockaddr_in a = parseAddr(to);
    if (!strcmp(mode, "rate")) return cmdRate(&a, seconds, conc, max);
    if (!strcmp(mode, "stream")) return cmdStream(&a, bytes);
    usage();
    return 2;
}
