// Small C helpers for KilnCore: what Swift cannot ask the compiler directly.
// Names carry the `ckiln_` prefix so that they never mix with the public `kiln_` C ABI.
#ifndef CKILN_SUPPORT_H
#define CKILN_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// The `-target-cpu` the package was built for (`native`, `x86-64-v3`, ...).
const char *ckiln_build_target_cpu(void);

/// The number of cores this process may run on (its affinity mask), at least 1.
int32_t ckiln_available_cores(void);

/// The CPU the calling thread runs on now, or -1.
int32_t ckiln_current_cpu(void);

/// Moves the calling thread to another CPU of its affinity mask, then restores the mask (so it
/// is free to move again later): a nudge, not a pin. 0 on success, -1 if there is nowhere to go.
int32_t ckiln_move_off_cpu(int32_t cpu);

/// Copies `count` floats with non-temporal stores where the CPU has them: for output that is
/// written once and not read again soon (a batch tensor larger than the caches), which then
/// neither evicts the working set nor reads each destination line before writing it. Call
/// `ckiln_stream_fence` before another thread may read what was written.
void ckiln_stream_floats(float *destination, const float *source, size_t count);

/// Orders the non-temporal stores made so far before any later store (`sfence`).
void ckiln_stream_fence(void);

/// `target[i] = table[source[i]]` for i < count (`table`: 256 bytes): 64 bytes a step with
/// AVX-512 VBMI's byte permutes where the CPU has them, else one byte at a time. `source` and
/// `target` may be the same.
void ckiln_lookup_bytes(const uint8_t *source, uint8_t *target, size_t count, const uint8_t *table);

/// Whether `ckiln_lookup_bytes` takes the AVX-512 VBMI path on this CPU (1) or not (0).
int32_t ckiln_lookup_is_vectorised(void);

/// Makes OpenBLAS compute on the calling thread only and stops the idle threads it started when
/// it was loaded (they would otherwise spin on a core for a tenth of a second).
void ckiln_openblas_single_threaded(void);

/// Bit set of the SIMD features the running CPU has (see `ckiln_cpu_feature`).
uint32_t ckiln_cpu_features(void);

enum ckiln_cpu_feature {
    CKILN_CPU_SSE42 = 1u << 0,
    CKILN_CPU_AVX = 1u << 1,
    CKILN_CPU_AVX2 = 1u << 2,
    CKILN_CPU_FMA = 1u << 3,
    CKILN_CPU_AVX512F = 1u << 4,
    CKILN_CPU_AVX512BW = 1u << 5,
    CKILN_CPU_AVX512VL = 1u << 6,
    CKILN_CPU_AVX512VNNI = 1u << 7,
    CKILN_CPU_AVX512BF16 = 1u << 8,
    CKILN_CPU_F16C = 1u << 9,
};

#endif
