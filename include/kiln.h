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

/* Sets how many threads Kiln computes with (1...1024), GEMMs included (OpenBLAS itself runs
 * single-threaded; Kiln splits products over its own pool), or 0 for the default:
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

/* ---- Tables: columnar data in and out ----------------------------------------------- */

/* Columns of equal length, each with a name, a type and per-row validity (present/missing).
 * Built by the caller (kiln_table_add_*) or returned by Kiln (kiln_transform_apply). Mutable:
 * one thread at a time. */
typedef struct kiln_table kiln_table;

typedef int32_t kiln_column_type;
enum { KILN_COLUMN_FLOAT = 1, KILN_COLUMN_INT = 2, KILN_COLUMN_BOOL = 3, KILN_COLUMN_STRING = 4 };

/* An empty table. *out_table is owned: release it with kiln_table_free. */
kiln_status kiln_table_create(kiln_table **out_table);

/* Releases a table. Accepts NULL. */
void kiln_table_free(kiln_table *table);

/* Appends a column of `rows` values, copied. `valid` is NULL (every value present) or `rows`
 * bytes, 0 meaning missing. The first column fixes the row count; a later one with another
 * count, or a name already used, is KILN_ERR_SHAPE_MISMATCH / KILN_ERR_INVALID_ARGUMENT.
 * NaN in a float column is a value, not a missing entry. */
kiln_status kiln_table_add_float(kiln_table *table, const char *name, const double *values, const uint8_t *valid,
                                 size_t rows);
kiln_status kiln_table_add_int(kiln_table *table, const char *name, const int64_t *values, const uint8_t *valid,
                               size_t rows);
/* Booleans as bytes: 0 is false, anything else true. */
kiln_status kiln_table_add_bool(kiln_table *table, const char *name, const uint8_t *values, const uint8_t *valid,
                                size_t rows);
/* UTF-8 strings: value i is bytes[offsets[i] ... offsets[i + 1]); `offsets` has rows + 1
 * ascending entries starting at 0. */
kiln_status kiln_table_add_string(kiln_table *table, const char *name, const char *bytes, const int64_t *offsets,
                                  const uint8_t *valid, size_t rows);

/* Reads a whole CSV file. options_json may be NULL, or a JSON object with any of
 * "delimiter" (one character), "types" ({"column": "float"|"int"|"bool"|"string"}),
 * "missing" (array of tokens), "bad_rows" ("error" or "skip"), "header" (true/false).
 * Errors: KILN_ERR_IO, KILN_ERR_FORMAT (a malformed row: the message names line and column). */
kiln_status kiln_table_read_csv(const char *path, const char *options_json, kiln_table **out_table);

kiln_status kiln_table_row_count(const kiln_table *table, size_t *out_rows);
kiln_status kiln_table_column_count(const kiln_table *table, size_t *out_columns);

/* Column `index`: its name (borrowed, valid while the table lives), type, and width — 1, or
 * the number of values per row of a multi-valued transform output (one-hot, bag of words,
 * tf-idf, PCA), which are always KILN_COLUMN_FLOAT. */
kiln_status kiln_table_column_info(const kiln_table *table, size_t index, const char **out_name,
                                   kiln_column_type *out_type, size_t *out_width);

/* Copies column `index` into caller buffers: `values` holds rows x width elements (row-major
 * for multi-valued columns; capacity is its element count), `valid` is NULL or rows bytes
 * (1 present, 0 missing). A type other than the function's is KILN_ERR_SHAPE_MISMATCH. */
kiln_status kiln_table_get_float(const kiln_table *table, size_t index, double *values, size_t capacity, uint8_t *valid);
kiln_status kiln_table_get_int(const kiln_table *table, size_t index, int64_t *values, size_t capacity, uint8_t *valid);
kiln_status kiln_table_get_bool(const kiln_table *table, size_t index, uint8_t *values, size_t capacity, uint8_t *valid);
/* Strings: first call with bytes = NULL to get *out_byte_size; then with a buffer of that
 * capacity, offsets of rows + 1 entries and valid (NULL or rows bytes). */
kiln_status kiln_table_get_string(const kiln_table *table, size_t index, char *bytes, size_t capacity,
                                  int64_t *offsets, uint8_t *valid, size_t *out_byte_size);

/* ---- Feature preprocessing (TF-Transform style) ----------------------------------------- */

/* The artifact of an analysis: constants, vocabularies and schemas. Immutable: one graph may
 * be shared by many threads. */
typedef struct kiln_transform_graph kiln_transform_graph;

/* Analyses data with a transform spec (JSON text, `{"features": [...]}`) and returns the
 * graph. From a CSV file (options_json as kiln_table_read_csv; the file is streamed) or from a
 * table. Errors: KILN_ERR_INVALID_ARGUMENT (the spec: the message names the field; an
 * all-missing column), KILN_ERR_NOT_FOUND (a column the spec reads is absent: the message lists
 * the columns there are), KILN_ERR_SHAPE_MISMATCH (a column of the wrong type), KILN_ERR_IO,
 * KILN_ERR_FORMAT. *out_graph is owned: release it with kiln_transform_graph_free. */
kiln_status kiln_transform_analyze_csv(const char *spec_json, const char *csv_path, const char *options_json,
                                       kiln_transform_graph **out_graph);
kiln_status kiln_transform_analyze_table(const char *spec_json, const kiln_table *table,
                                         kiln_transform_graph **out_graph);

/* A partial analysis, in Kiln's compact binary form, of a CSV file or of a table: what a worker
 * of a distributed job computes on its shard. Partials of the same spec merge (in the order
 * given) into the graph one pass over all the data gives. *out_bytes is owned: kiln_free;
 * *out_size is its length. Errors as kiln_transform_analyze_*. */
kiln_status kiln_transform_partial_csv(const char *spec_json, const char *csv_path, const char *options_json,
                                       void **out_bytes, size_t *out_size);
kiln_status kiln_transform_partial_table(const char *spec_json, const kiln_table *table, void **out_bytes,
                                         size_t *out_size);

/* Merges `count` partial analyses (bytes and sizes borrowed) into a graph. KILN_ERR_FORMAT for
 * bytes that are not a partial analysis, KILN_ERR_INVALID_ARGUMENT for partials of different
 * specs. *out_graph is owned: kiln_transform_graph_free. */
kiln_status kiln_transform_merge(const void *const *partials, const size_t *sizes, size_t count,
                                 kiln_transform_graph **out_graph);

/* Loads a graph from a JSON file / from JSON text. KILN_ERR_UNSUPPORTED for a newer format. */
kiln_status kiln_transform_graph_load(const char *path, kiln_transform_graph **out_graph);
kiln_status kiln_transform_graph_load_json(const char *json, kiln_transform_graph **out_graph);

/* Releases a graph. Accepts NULL. */
void kiln_transform_graph_free(kiln_transform_graph *graph);

/* The graph as JSON text ("format": "kiln.transform_graph/1"). *out_json is owned: kiln_free. */
kiln_status kiln_transform_graph_to_json(const kiln_transform_graph *graph, char **out_json);

/* The output schema: the number of outputs, and output `index`'s name (borrowed, valid while
 * the graph lives), type and width (as kiln_table_column_info). Thread-safe. */
kiln_status kiln_transform_output_count(const kiln_transform_graph *graph, size_t *out_count);
kiln_status kiln_transform_output_info(const kiln_transform_graph *graph, size_t index, const char **out_name,
                                       kiln_column_type *out_type, size_t *out_width);

/* Applies the graph to a table holding (at least) its input columns; *out_table gets one
 * column per output, in order. Ints given as floats are accepted when integral. Thread-safe
 * for one graph. *out_table is owned: kiln_table_free. */
kiln_status kiln_transform_apply(const kiln_transform_graph *graph, const kiln_table *input, kiln_table **out_table);

/* ---- Data validation (TFDV style) ----------------------------------------------------- */

/* Statistics of a CSV file, streamed, as JSON text ("format": "kiln.statistics/1": counts,
 * moments, quantiles and histograms of numeric columns; distinct counts, top values and lengths
 * of string columns; malformed rows counted as invalid by reason, never dropped silently).
 * options_json as kiln_table_read_csv ("bad_rows" is always "skip" here); slice_column may be
 * NULL, else statistics are also computed per value of that column. *out_json is owned:
 * release it with kiln_free. Errors: KILN_ERR_IO, KILN_ERR_NOT_FOUND (slice column),
 * KILN_ERR_INVALID_ARGUMENT (options). */
kiln_status kiln_statistics_from_csv(const char *csv_path, const char *options_json, const char *slice_column,
                                     char **out_json);

/* The same for a table's single-valued columns. */
kiln_status kiln_statistics_from_table(const kiln_table *table, const char *slice_column, char **out_json);

/* Infers a schema ("format": "kiln.schema/1") from statistics JSON. options_json may be NULL or
 * {"infer_ranges": bool, "not_in_serving": ["label"], "max_domain_size": 50}. *out_json is
 * owned: kiln_free. KILN_ERR_FORMAT / KILN_ERR_UNSUPPORTED for statistics that do not parse or
 * come from another format version. */
kiln_status kiln_schema_infer(const char *statistics_json, const char *options_json, char **out_json);

/* Validates statistics against a schema ("format": "kiln.anomalies/1": anomalies, and drift and
 * skew values for every compared feature). baseline_json (previous span, for drift),
 * serving_json (serving data, for skew) and environment may be NULL. *out_json is owned:
 * kiln_free. KILN_ERR_SHAPE_MISMATCH when a baseline or serving dataset has other columns. */
kiln_status kiln_validate(const char *statistics_json, const char *schema_json, const char *baseline_json,
                          const char *serving_json, const char *environment, char **out_json);

/* ---- Images and augmentation ---------------------------------------------------------- */

/* A uint8 image in the caller's memory: height x width pixels of `channels` (1, 3 or 4) values.
 * Strides are in bytes and may be negative (a numpy view such as image[::-1, ::-1]). */
typedef struct kiln_image_view {
    const uint8_t *data;
    int64_t height, width, channels;
    int64_t row_stride, pixel_stride, channel_stride;
} kiln_image_view;

/* An image Kiln made (decoded or augmented): contiguous HWC uint8. */
typedef struct kiln_image kiln_image;

/* Decodes JPEG (libjpeg-turbo; EXIF orientation applied) or PNG (libpng) bytes. KILN_ERR_FORMAT
 * for corrupt or truncated data. *out_image is owned: kiln_image_free. */
kiln_status kiln_image_decode(const void *bytes, size_t size, kiln_image **out_image);

/* Decodes as kiln_image_decode straight into caller memory: `out` must hold exactly height *
 * width * channels bytes (HWC; else KILN_ERR_SHAPE_MISMATCH). With out NULL, only the size is
 * read (from the header). The size is written either way. */
kiln_status kiln_image_decode_into(const void *bytes, size_t size, uint8_t *out, size_t out_size, int64_t *out_height,
                                   int64_t *out_width, int64_t *out_channels);

/* The image's size, and a copy of its pixels into `out` (height * width * channels bytes). */
kiln_status kiln_image_info(const kiln_image *image, int64_t *out_height, int64_t *out_width, int64_t *out_channels);
kiln_status kiln_image_copy(const kiln_image *image, uint8_t *out, size_t size);

/* Releases an image. Accepts NULL. */
void kiln_image_free(kiln_image *image);

/* Encodes a view as "png" or "jpeg" (quality 1...100; alpha is dropped for JPEG). *out_bytes is
 * owned: kiln_free. */
kiln_status kiln_image_encode(const kiln_image_view *image, const char *format, int32_t quality, void **out_bytes,
                              size_t *out_size);

/* An augmentation pipeline from JSON with albumentations' names ({"transforms": [...]}).
 * KILN_ERR_INVALID_ARGUMENT names the field at fault. Immutable and thread-safe. */
typedef struct kiln_augment_pipeline kiln_augment_pipeline;
kiln_status kiln_augment_pipeline_create(const char *json, kiln_augment_pipeline **out_pipeline);
void kiln_augment_pipeline_free(kiln_augment_pipeline *pipeline);

/* Whether the pipeline ends with Normalize (its batch output is then normalized; else value/255),
 * and whether that output is CHW (1) or HWC (0). */
kiln_status kiln_augment_pipeline_info(const kiln_augment_pipeline *pipeline, int32_t *out_normalizes, int32_t *out_chw);

/* Augments one image as sample `index` of `seed` (the output depends on (seed, index) only):
 * the uint8 image before any Normalize. out_replay_json may be NULL, else it gets the sampled
 * parameters ([{"name", "applied", "parameters"}...]), owned: kiln_free. */
kiln_status kiln_augment_apply(const kiln_augment_pipeline *pipeline, const kiln_image_view *image, uint64_t seed,
                               int64_t index, kiln_image **out_image, char **out_replay_json);

/* kiln_augment_apply with the uint8 image written into caller memory, packed (H, W, C), with no
 * handle to free: out_shape gets its height, width and channels, and when out_size is not
 * their product nothing is written and the status is KILN_ERR_SHAPE_MISMATCH (call again with
 * memory of that size: the sample depends on (seed, index) only; out NULL with out_size 0
 * asks for the shape alone). One call where apply, info, copy and free are four. */
kiln_status kiln_augment_apply_into(const kiln_augment_pipeline *pipeline, const kiln_image_view *image, uint64_t seed,
                                    int64_t index, uint8_t *out, size_t out_size, int64_t out_shape[3]);

/* Augments `count` images as samples start_index, start_index + 1, ... on Kiln's threads,
 * straight into `out` as one float32 [N, C, H, W] tensor (or [N, H, W, C] for Normalize's HWC).
 * With out == NULL only the shape is computed (from the first sample); out_count is the floats
 * `out` holds. KILN_ERR_SHAPE_MISMATCH when samples come out in different sizes. */
kiln_status kiln_augment_batch(const kiln_augment_pipeline *pipeline, const kiln_image_view *images, size_t count,
                               uint64_t seed, int64_t start_index, float *out, size_t out_count, int64_t out_shape[4]);

/* A folder-per-class dataset (ROOT/<class>/<image>.png|jpg, classes in byte order): *out_json
 * is {"classes": [...], "paths": [...], "labels": [...]}, owned: kiln_free. */
kiln_status kiln_image_folder_scan(const char *root, char **out_json);

/* scikit-learn's "balanced" class weights, n_samples / (n_present_classes * count[c]), into
 * out_weights[class_count] (0 for an absent class). Labels are 0 ... class_count - 1. */
kiln_status kiln_class_weights(const int64_t *labels, size_t count, size_t class_count, double *out_weights);

/* Draws start ... start + out_count - 1 of a seeded class-balanced stream of sample indices: each
 * draw picks a class from `target` (class_count weights; NULL: uniform over present classes),
 * then one of its samples, from (seed, draw) only. */
kiln_status kiln_class_balanced_sample(const int64_t *labels, size_t count, size_t class_count, const double *target,
                                       uint64_t seed, int64_t start, int64_t *out_indices, size_t out_count);

#ifdef __cplusplus
}
#endif

#endif /* KILN_H */
