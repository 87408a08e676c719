/*
 * kiln.h — the C interface of Kiln, a production-ML toolkit with a fast native core.
 *
 * Link with -lkiln (libkiln.so). Conventions, for every declaration below:
 * - A fallible call returns a kiln_status: KILN_OK (0) or an error code. The codes are pinned
 *   and only ever appended. kiln_last_error() then gives a message for the calling thread.
 * - Pointers are borrowed unless the documentation says "owned": the library keeps no
 *   reference after the call returns. What the library allocates for the caller (strings,
 *   JSON) is owned by the caller and released with kiln_free().
 * - Out-parameters are set to zero/NULL on entry, so they are defined even on failure.
 * - Every pointer, size and stride is checked: a NULL or an out-of-range value is an error
 *   code, never a crash.
 */
#ifndef KILN_H
#define KILN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions ------------------------------------------------------------------------ */

#define KILN_VERSION_MAJOR 0
#define KILN_VERSION_MINOR 1
#define KILN_VERSION_PATCH 0
/* Changes whenever a declaration changes incompatibly; bindings compare it at load time. */
#define KILN_ABI_VERSION 1

/* The library's version, "MAJOR.MINOR.PATCH". Static string; thread-safe. */
const char *kiln_version(void);

/* The KILN_ABI_VERSION the library was built with. Thread-safe. */
int32_t kiln_abi_version(void);

/* ---- Status codes and errors ---------------------------------------------------------- */

typedef int32_t kiln_status;

enum {
    KILN_OK = 0,
    KILN_ERR_INVALID_ARGUMENT = 1, /* an argument is outside its documented range */
    KILN_ERR_NULL_POINTER = 2,     /* a required pointer was NULL */
    KILN_ERR_OUT_OF_MEMORY = 3,    /* a size overflowed or an allocation failed */
    KILN_ERR_IO = 4,               /* a file could not be opened, read or written */
    KILN_ERR_FORMAT = 5,           /* malformed input bytes (file or buffer) */
    KILN_ERR_UNSUPPORTED = 6,      /* well-formed input that Kiln does not support */
    KILN_ERR_SHAPE_MISMATCH = 7,   /* shapes, ranks or dtypes do not fit together */
    KILN_ERR_NOT_FOUND = 8,        /* a named input, model or feature does not exist */
    KILN_ERR_INTERNAL = 9          /* a bug in Kiln */
};

/* A short static description of a status code ("ok", "invalid argument", ...; "unknown
 * status" for a code this version does not know). Never NULL; thread-safe. */
const char *kiln_status_string(kiln_status status);

/* The message of the last failed call on the calling thread ("" if none). Borrowed: valid
 * until the next failing kiln call on this thread. Never NULL. */
const char *kiln_last_error(void);

/* Releases memory the library allocated for the caller (owned strings and buffers).
 * Accepts NULL. */
void kiln_free(void *pointer);

/* ---- Threads and build information ---------------------------------------------------- */

/* Sets how many threads Kiln and its OpenBLAS use (1...1024), or 0 for the default:
 * KILN_NUM_THREADS from the environment, else the number of cores.
 * Returns KILN_ERR_INVALID_ARGUMENT for a negative or larger count. Process-wide; call it
 * before starting work, not while other threads compute. */
kiln_status kiln_set_num_threads(int32_t num_threads);

/* The thread count in force. Thread-safe. */
int32_t kiln_get_num_threads(void);

/* Build, CPU, thread and OpenBLAS information as one JSON object (the same as `kiln info
 * --json`). *out_json is owned by the caller: release it with kiln_free. Thread-safe.
 * Returns KILN_ERR_NULL_POINTER if out_json is NULL. */
kiln_status kiln_info_json(char **out_json);

/* ---- Dense linear algebra ------------------------------------------------------------- */

typedef int32_t kiln_transpose;
enum { KILN_NO_TRANS = 0, KILN_TRANS = 1 };

/* Row-major single-precision matrix multiply: C <- alpha * op(A) * op(B) + beta * C, where
 * op(A) is m x k, op(B) is k x n and C is m x n. lda, ldb, ldc are the row strides (in
 * elements) of A, B and C as stored: lda >= (trans_a ? m : k), ldb >= (trans_b ? k : n),
 * ldc >= n. a, b are borrowed and read; c is borrowed and written.
 * Returns KILN_ERR_INVALID_ARGUMENT for a dimension <= 0 or > INT32_MAX, a leading dimension
 * too small, or a trans value other than KILN_NO_TRANS / KILN_TRANS; KILN_ERR_NULL_POINTER if
 * a, b or c is NULL; KILN_ERR_OUT_OF_MEMORY if a buffer size overflows.
 * Runs on kiln_get_num_threads() threads. Thread-safe for distinct C buffers. */
kiln_status kiln_sgemm(kiln_transpose trans_a, kiln_transpose trans_b, int64_t m, int64_t n, int64_t k,
                       float alpha, const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                       float *c, int64_t ldc);

#ifdef __cplusplus
}
#endif

#endif /* KILN_H */
