#ifndef CKILN_SOCKET_H
#define CKILN_SOCKET_H
// The Linux event interfaces of the load generator's loop, under names of our own (Swift's Glibc
// module leaves epoll and eventfd out, and SwiftNIO's C module already claims their headers).
#include <stdint.h>

enum {
    CKILN_EVENT_IN = 0x001,   // EPOLLIN
    CKILN_EVENT_OUT = 0x004,  // EPOLLOUT
    CKILN_EVENT_ERR = 0x008,  // EPOLLERR
    CKILN_EVENT_HUP = 0x010,  // EPOLLHUP
};

typedef struct {
    uint32_t events;
    uint64_t key;
} ckiln_event;

/// epoll_create1(EPOLL_CLOEXEC).
int ckiln_poll_create(void);
/// Watches `fd` for `events` (replacing what was watched), reported with `key`; -1 and errno on failure.
int ckiln_poll_watch(int poll, int fd, uint32_t events, uint64_t key, int add);
/// Waits up to `timeout_ns` (< 0: no limit; nanosecond precision where the kernel has
/// epoll_pwait2) for up to `capacity` (at most 64) events; their count, or 0 when interrupted.
int ckiln_poll_wait(int poll, ckiln_event *events, int capacity, int64_t timeout_ns);
/// Timeouts of the calling thread end on time rather than up to 50 µs late (the default timer
/// slack), so that a scheduled request leaves when it is due.
void ckiln_thread_precise_timers(void);
/// Names the calling thread (at most 15 characters) for top, ps and perf.
void ckiln_thread_name(const char *name);
/// A non-blocking, close-on-exec eventfd.
int ckiln_wake_create(void);

#endif
