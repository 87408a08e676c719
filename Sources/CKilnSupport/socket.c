#include "ckiln_socket.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>

int ckiln_poll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int ckiln_poll_watch(int poll, int fd, uint32_t events, uint64_t key, int add) {
    struct epoll_event event = {.events = events, .data.u64 = key};
    return epoll_ctl(poll, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event);
}

int ckiln_poll_wait(int poll, ckiln_event *events, int capacity, int64_t timeout_ns) {
    static atomic_int has_pwait2 = 1;  // shared by the loops' threads
    struct epoll_event ready[64];
    if (capacity > 64) capacity = 64;
    int count;
    if (timeout_ns < 0) {
        count = epoll_wait(poll, ready, capacity, -1);
    } else if (has_pwait2) {
        struct timespec timeout = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
        count = epoll_pwait2(poll, ready, capacity, &timeout, 0);
        if (count < 0 && errno != EINTR) {  // ENOSYS (kernel before 5.11), EPERM (a seccomp filter)
            has_pwait2 = 0;
            count = 0;
        }
    } else {
        count = epoll_wait(poll, ready, capacity, (int)((timeout_ns + 999999) / 1000000));
    }
    if (count < 0) return 0;
    for (int index = 0; index < count; index++) {
        events[index].events = ready[index].events;
        events[index].key = ready[index].data.u64;
    }
    return count;
}

int ckiln_wake_create(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

void ckiln_thread_precise_timers(void) { prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); }

void ckiln_thread_name(const char *name) { prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL); }
