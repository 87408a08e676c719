#define _GNU_SOURCE
#include <sched.h>
#include <unistd.h>

#include "ckiln_support.h"

const char *ckiln_build_target_cpu(void) { return KILN_TARGET_CPU_NAME; }

int32_t ckiln_available_cores(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int32_t)online : 1;
}

uint32_t ckiln_cpu_features(void) {
    uint32_t features = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) features |= CKILN_CPU_SSE42;
    if (__builtin_cpu_supports("avx")) features |= CKILN_CPU_AVX;
    if (__builtin_cpu_supports("avx2")) features |= CKILN_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) features |= CKILN_CPU_FMA;
    if (__builtin_cpu_supports("avx512f")) features |= CKILN_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) features |= CKILN_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512vl")) features |= CKILN_CPU_AVX512VL;
    if (__builtin_cpu_supports("avx512vnni")) features |= CKILN_CPU_AVX512VNNI;
    if (__builtin_cpu_supports("avx512bf16")) features |= CKILN_CPU_AVX512BF16;
    if (__builtin_cpu_supports("f16c")) features |= CKILN_CPU_F16C;
#endif
    return features;
}

int32_t ckiln_current_cpu(void) {
    return (int32_t)sched_getcpu();
}

int32_t ckiln_move_off_cpu(int32_t cpu) {
    cpu_set_t allowed, elsewhere;
    if (cpu < 0 || sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
    if (!CPU_ISSET(cpu, &allowed) || CPU_COUNT(&allowed) < 2) return -1;
    elsewhere = allowed;
    CPU_CLR(cpu, &elsewhere);
    if (sched_setaffinity(0, sizeof elsewhere, &elsewhere) != 0) return -1;
    return sched_setaffinity(0, sizeof allowed, &allowed) == 0 ? 0 : -1;
}
