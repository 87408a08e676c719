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

/* ---- Tensors -------------------------------------------------------------------------- */

typedef int32_t kiln_dtype;
enum { KILN_DTYPE_FLOAT32 = 1, KILN_DTYPE_UINT8 = 2, KILN_DTYPE_INT32 = 3, KILN_DTYPE_INT64 = 4 };

#define KILN_MAX_RANK 8

/* A dense, row-major (C order) tensor in caller memory. For an input, every field is read.
 * For an output, `data` and `byte_size` are read and the rest is written. */
typedef struct kiln_tensor {
    const char *name;               /* input name; for outputs, set to the output's name (borrowed from the model) */
    kiln_dtype dtype;
    int32_t rank;                   /* 0 ... KILN_MAX_RANK */
    int64_t shape[KILN_MAX_RANK];
    void *data;                     /* inputs: read; outputs: written */
    size_t byte_size;               /* bytes available at data */
} kiln_tensor;

/* ---- CNN inference ------------------------------------------------------------------- */

/* A loaded, optimised ONNX model. Immutable: one model may be shared by many threads. */
typedef struct kiln_model kiln_model;
/* Runs a model. Mutable: one session per thread; many sessions may share a model. */
typedef struct kiln_session kiln_session;

/* Loads an ONNX file. *out_model is owned: release it with kiln_model_free.
 * Returns KILN_ERR_IO (unreadable), KILN_ERR_FORMAT (not ONNX, truncated, missing initializer),
 * KILN_ERR_UNSUPPORTED (operator, opset or type; the message names the node), KILN_ERR_NULL_POINTER. */
kiln_status kiln_model_load(const char *path, kiln_model **out_model);

/* Loads an ONNX model from `size` bytes at `data` (borrowed; copied). As kiln_model_load. */
kiln_status kiln_model_load_from_memory(const void *data, size_t size, kiln_model **out_model);

/* Releases a model. Accepts NULL. Sessions made from it must be freed first. */
void kiln_model_free(kiln_model *model);

/* Number of graph inputs / outputs. Thread-safe. */
kiln_status kiln_model_input_count(const kiln_model *model, size_t *out_count);
kiln_status kiln_model_output_count(const kiln_model *model, size_t *out_count);

/* Declared name, dtype and shape of input / output `index`: info->name is borrowed (valid while
 * the model lives), info->shape holds -1 for a symbolic dimension (such as a dynamic batch);
 * data and byte_size are set to NULL and 0. Returns KILN_ERR_INVALID_ARGUMENT for an index out
 * of range. Thread-safe. */
kiln_status kiln_model_input_info(const kiln_model *model, size_t index, kiln_tensor *info);
kiln_status kiln_model_output_info(const kiln_model *model, size_t index, kiln_tensor *info);

typedef struct kiln_session_options {
    int32_t num_threads; /* 0: keep the thread count in force; N > 0: kiln_set_num_threads(N), process-wide */
} kiln_session_options;

kiln_session_options kiln_session_default_options(void);

/* Creates a session on `model` (borrowed: it must outlive the session). options may be NULL
 * for the defaults. *out_session is owned: release it with kiln_session_free. */
kiln_status kiln_session_create(const kiln_model *model, const kiln_session_options *options, kiln_session **out_session);

/* Releases a session. Accepts NULL. */
void kiln_session_free(kiln_session *session);

/* The shape query: for these inputs (names, dtypes and shapes are read, data is not), fills
 * name, dtype, rank and shape of each of the `num_outputs` outputs (in declaration order; must
 * equal the model's output count) without running. Plans for these shapes (cached). */
kiln_status kiln_session_output_shapes(kiln_session *session, const kiln_tensor *inputs, size_t num_inputs,
                                       kiln_tensor *outputs, size_t num_outputs);

/* Runs the model: every input by name (dense, C order), outputs in declaration order into
 * caller buffers (each needs byte_size >= its element count x dtype size; see
 * kiln_session_output_shapes). Errors: KILN_ERR_NOT_FOUND (unknown or missing input name),
 * KILN_ERR_SHAPE_MISMATCH (wrong dtype, rank or size: the message says what was expected),
 * KILN_ERR_INVALID_ARGUMENT (a buffer too small, a wrong count), KILN_ERR_NULL_POINTER.
 * Nothing is written to outputs on failure. Not thread-safe for one session. */
kiln_status kiln_session_run(kiln_session *session, const kiln_tensor *inputs, size_t num_inputs,
                             kiln_tensor *outputs, size_t num_outputs);

#ifdef __cplusplus
}
#endif

#endif /* KILN_H */
