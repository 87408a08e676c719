/* C ABI tests: compiled with -std=c11 -Wall -Wextra -Werror -pedantic against include/kiln.h
 * and linked to libkiln.so. Prints one line per failure and "N passed, N failed" at the end. */
#include "kiln.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed = 0;
static int failed = 0;

#define CHECK(condition)                                                                   \
    do {                                                                                   \
        if (condition) {                                                                   \
            passed++;                                                                      \
        } else {                                                                           \
            failed++;                                                                      \
            fprintf(stderr, "FAIL %s:%d: %s (last error: %s)\n", __FILE__, __LINE__, #condition, \
                    kiln_last_error());                                                    \
        }                                                                                  \
    } while (0)

#define CHECK_STATUS(call, expected)                                                       \
    do {                                                                                   \
        kiln_status got_ = (call);                                                         \
        CHECK(got_ == (expected));                                                         \
        if ((expected) != KILN_OK) CHECK(strlen(kiln_last_error()) > 0);                   \
    } while (0)

static uint32_t lcg_state = 12345u;
static float random_float(void) {
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (float)(lcg_state >> 8) / 16777216.0f - 0.5f;
}

/* Scalar reference, in double: C = alpha op(A) op(B) + beta C. */
static void reference_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                            const float *b, int ldb, float beta, float *c, int ldc) {
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double sum = 0;
            for (int p = 0; p < k; p++) {
                double x = ta ? a[p * lda + i] : a[i * lda + p];
                double y = tb ? b[j * ldb + p] : b[p * ldb + j];
                sum += x * y;
            }
            c[i * ldc + j] = (float)(alpha * sum + beta * c[i * ldc + j]);
        }
    }
}

static void test_versions(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", KILN_VERSION_MAJOR, KILN_VERSION_MINOR, KILN_VERSION_PATCH);
    CHECK(strcmp(kiln_version(), expected) == 0);
    CHECK(kiln_abi_version() == KILN_ABI_VERSION);
}

static void test_status_strings(void) {
    CHECK(strcmp(kiln_status_string(KILN_OK), "ok") == 0);
    CHECK(strcmp(kiln_status_string(KILN_ERR_INVALID_ARGUMENT), "invalid argument") == 0);
    CHECK(strcmp(kiln_status_string(KILN_ERR_NULL_POINTER), "null pointer") == 0);
    CHECK(strcmp(kiln_status_string(12345), "unknown status") == 0);
    CHECK(strcmp(kiln_status_string(-1), "unknown status") == 0);
    kiln_free(NULL);
}

static void test_threads_and_info(void) {
    int32_t before = kiln_get_num_threads();
    CHECK(before >= 1);
    CHECK_STATUS(kiln_set_num_threads(1), KILN_OK);
    CHECK(kiln_get_num_threads() == 1);
    CHECK_STATUS(kiln_set_num_threads(-1), KILN_ERR_INVALID_ARGUMENT);
    CHECK(strstr(kiln_last_error(), "thread count") != NULL);
    CHECK_STATUS(kiln_set_num_threads(100000), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_set_num_threads(0), KILN_OK);
    CHECK(kiln_get_num_threads() >= 1);

    char *json = (char *)0x1;
    CHECK_STATUS(kiln_info_json(&json), KILN_OK);
    CHECK(json != NULL && json[0] == '{');
    CHECK(json != NULL && strstr(json, "\"openblas\"") != NULL);
    CHECK(json != NULL && strstr(json, "\"build_target_cpu\"") != NULL);
    kiln_free(json);
    CHECK_STATUS(kiln_info_json(NULL), KILN_ERR_NULL_POINTER);
}

static void check_sgemm_case(int ta, int tb, int m, int n, int k, float alpha, float beta, int pad) {
    int a_rows = ta ? k : m, a_cols = ta ? m : k;
    int b_rows = tb ? n : k, b_cols = tb ? k : n;
    int lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
    float *a = malloc(sizeof(float) * (size_t)(a_rows * lda));
    float *b = malloc(sizeof(float) * (size_t)(b_rows * ldb));
    float *c = malloc(sizeof(float) * (size_t)(m * ldc));
    float *expected = malloc(sizeof(float) * (size_t)(m * ldc));
    for (int i = 0; i < a_rows * lda; i++) a[i] = random_float();
    for (int i = 0; i < b_rows * ldb; i++) b[i] = random_float();
    for (int i = 0; i < m * ldc; i++) c[i] = expected[i] = random_float();
    reference_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
    CHECK_STATUS(kiln_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc), KILN_OK);
    double worst = 0;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < ldc; j++) {
            double error = fabs((double)c[i * ldc + j] - (double)expected[i * ldc + j]);
            double scale = 1e-5 * (1.0 + sqrt((double)k));
            if (error / scale > worst) worst = error / scale;
        }
    }
    if (worst > 1.0) fprintf(stderr, "sgemm ta=%d tb=%d m=%d n=%d k=%d: error ratio %g\n", ta, tb, m, n, k, worst);
    CHECK(worst <= 1.0);
    free(a);
    free(b);
    free(c);
    free(expected);
}

static void test_sgemm_values(void) {
    const int sizes[][3] = {{1, 1, 1}, {2, 3, 4}, {7, 5, 3}, {16, 16, 16}, {17, 33, 65}, {64, 100, 31}, {128, 7, 257}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (int ta = 0; ta < 2; ta++) {
            for (int tb = 0; tb < 2; tb++) {
                check_sgemm_case(ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 1.0f, 0.0f, 0);
                check_sgemm_case(ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], -0.5f, 2.0f, 3);
            }
        }
    }
}

static void test_sgemm_bad_input(void) {
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 2, 3, 4, 5, 6}, c[4] = {0};
    /* A valid 2x3 * 3x2 call first. */
    CHECK_STATUS(kiln_sgemm(KILN_NO_TRANS, KILN_NO_TRANS, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2), KILN_OK);
    CHECK(c[0] == 22 && c[1] == 28 && c[2] == 49 && c[3] == 64);

    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, NULL, 3, b, 2, 0, c, 2), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, a, 3, NULL, 2, 0, c, 2), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, a, 3, b, 2, 0, NULL, 2), KILN_ERR_NULL_POINTER);
    CHECK(strstr(kiln_last_error(), "C is NULL") != NULL);
    CHECK_STATUS(kiln_sgemm(0, 0, 0, 2, 3, 1, a, 3, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK(strstr(kiln_last_error(), "m must be positive") != NULL);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, -1, 3, 1, a, 3, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, -3, 1, a, 3, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(0, 0, (int64_t)1 << 40, 2, 3, 1, a, 3, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK(strstr(kiln_last_error(), "lda") != NULL);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, a, 3, b, 1, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, a, 3, b, 2, 0, c, 1), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, a, -3, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(0, 0, 2, 2, 3, 1, a, INT64_MAX, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(2, 0, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_sgemm(0, -1, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2), KILN_ERR_INVALID_ARGUMENT);
    /* Nothing was written by the failed calls. */
    CHECK(c[0] == 22 && c[1] == 28 && c[2] == 49 && c[3] == 64);
}

static void fill_input(kiln_tensor *input, float *data, int64_t batch) {
    memset(input, 0, sizeof *input);
    input->name = "image";
    input->dtype = KILN_DTYPE_FLOAT32;
    input->rank = 4;
    input->shape[0] = batch;
    input->shape[1] = 3;
    input->shape[2] = 16;
    input->shape[3] = 16;
    input->data = data;
    input->byte_size = sizeof(float) * (size_t)(batch * 3 * 16 * 16);
}

static void test_model(const char *path) {
    kiln_model *model = (kiln_model *)0x1;
    CHECK_STATUS(kiln_model_load("/nonexistent/model.onnx", &model), KILN_ERR_IO);
    CHECK(model == NULL);
    CHECK_STATUS(kiln_model_load(NULL, &model), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_model_load(path, NULL), KILN_ERR_NULL_POINTER);
    const char junk[] = "definitely not a protobuf";
    CHECK_STATUS(kiln_model_load_from_memory(junk, sizeof junk, &model), KILN_ERR_FORMAT);
    CHECK_STATUS(kiln_model_load_from_memory(NULL, 10, &model), KILN_ERR_NULL_POINTER);

    CHECK_STATUS(kiln_model_load(path, &model), KILN_OK);
    if (model == NULL) return;
    size_t inputs = 0, outputs = 0;
    CHECK_STATUS(kiln_model_input_count(model, &inputs), KILN_OK);
    CHECK_STATUS(kiln_model_output_count(model, &outputs), KILN_OK);
    CHECK(inputs == 1 && outputs == 1);
    kiln_tensor info;
    CHECK_STATUS(kiln_model_input_info(model, 0, &info), KILN_OK);
    CHECK(strcmp(info.name, "image") == 0 && info.dtype == KILN_DTYPE_FLOAT32 && info.rank == 4);
    CHECK(info.shape[0] == -1 && info.shape[1] == 3 && info.shape[2] == 16);
    CHECK_STATUS(kiln_model_input_info(model, 5, &info), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_model_output_info(model, 0, NULL), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_model_input_count(NULL, &inputs), KILN_ERR_NULL_POINTER);

    kiln_session_options options = kiln_session_default_options();
    CHECK(options.num_threads == 0);
    kiln_session *session = NULL;
    CHECK_STATUS(kiln_session_create(NULL, &options, &session), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_session_create(model, NULL, &session), KILN_OK);
    if (session == NULL) return;

    enum { BATCH = 3 };
    float image[BATCH * 3 * 16 * 16];
    for (size_t i = 0; i < sizeof image / sizeof image[0]; i++) image[i] = random_float();
    kiln_tensor input, output;
    fill_input(&input, image, BATCH);
    memset(&output, 0, sizeof output);
    /* The shape query first, then a buffer of that size. */
    CHECK_STATUS(kiln_session_output_shapes(session, &input, 1, &output, 1), KILN_OK);
    CHECK(output.rank == 2 && output.shape[0] == BATCH && output.shape[1] == 4 && output.dtype == KILN_DTYPE_FLOAT32);
    CHECK(output.name != NULL);
    float probabilities[BATCH * 4];
    output.data = probabilities;
    output.byte_size = sizeof probabilities;
    CHECK_STATUS(kiln_session_run(session, &input, 1, &output, 1), KILN_OK);
    for (int n = 0; n < BATCH; n++) {
        float sum = 0;
        for (int k = 0; k < 4; k++) sum += probabilities[n * 4 + k];
        CHECK(fabsf(sum - 1.0f) < 1e-5f);
    }

    /* Bad inputs: an error status and a message, outputs untouched. */
    float sentinel[BATCH * 4];
    for (int i = 0; i < BATCH * 4; i++) sentinel[i] = -7;
    output.data = sentinel;
    output.byte_size = sizeof sentinel;
    input.name = "images";
    CHECK_STATUS(kiln_session_run(session, &input, 1, &output, 1), KILN_ERR_NOT_FOUND);
    CHECK(strstr(kiln_last_error(), "image") != NULL);
    input.name = "image";
    input.shape[1] = 4;
    CHECK_STATUS(kiln_session_run(session, &input, 1, &output, 1), KILN_ERR_SHAPE_MISMATCH);
    input.shape[1] = 3;
    input.dtype = KILN_DTYPE_INT64;
    CHECK_STATUS(kiln_session_run(session, &input, 1, &output, 1), KILN_ERR_SHAPE_MISMATCH);
    input.dtype = 99;
    CHECK_STATUS(kiln_session_run(session, &input, 1, &output, 1), KILN_ERR_INVALID_ARGUMENT);
    input.dtype = KILN_DTYPE_FLOAT32;
    input.rank = 3;
    CHECK_STATUS(kiln_session_run(session, &input, 1, &output, 1), KILN_ERR_SHAPE_MISMATCH);
    input.rank = 42;
    CHECK_STATUS(kiln_session_run(session, &input, 1, &output, 1), KILN_ERR_INVALID_ARGUMENT);
    input.rank = 4;
    input.byte_size = 16;
    CHECK_STATUS(kiln_session_run(session, &input, 1, &output, 1), KILN_ERR_INVALID_ARGUMENT);
    input.byte_size = sizeof image;
    input.data = NULL;
    CHECK_STATUS(kiln_session_run(session, &input, 1, &output, 1), KILN_ERR_NULL_POINTER);
    input.data = image;
    output.byte_size = 8;
    CHECK_STATUS(kiln_session_run(session, &input, 1, &output, 1), KILN_ERR_INVALID_ARGUMENT);
    CHECK(strstr(kiln_last_error(), "needs 48 bytes") != NULL);
    output.byte_size = sizeof sentinel;
    CHECK_STATUS(kiln_session_run(session, &input, 1, &output, 2), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_session_run(session, NULL, 1, &output, 1), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_session_run(NULL, &input, 1, &output, 1), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_session_run(session, &input, 0, &output, 1), KILN_ERR_NOT_FOUND);
    int untouched = 1;
    for (int i = 0; i < BATCH * 4; i++) untouched = untouched && sentinel[i] == -7;
    CHECK(untouched);

    /* And it still runs afterwards. */
    CHECK_STATUS(kiln_session_run(session, &input, 1, &output, 1), KILN_OK);
    CHECK(fabsf(sentinel[0] - probabilities[0]) < 1e-6f);

    kiln_session_free(session);
    kiln_session_free(NULL);
    kiln_model_free(model);
    kiln_model_free(NULL);
}

/* Tables and transforms: build columns, analyze, apply, read back, and every bad input. */
static void test_transform(void) {
    kiln_table *table = NULL;
    CHECK_STATUS(kiln_table_create(&table), KILN_OK);
    const double age[6] = {63, 37, 41, 56, 57, 62};
    const int64_t hr[6] = {150, 187, 172, 0, 163, 95};
    const uint8_t hr_valid[6] = {1, 1, 1, 0, 1, 1};
    const char pain_bytes[] = "typicalatypicaltypicaltypicalasymptomaticnon-anginal";
    const int64_t pain_offsets[7] = {0, 7, 15, 22, 29, 41, 52};
    CHECK_STATUS(kiln_table_add_float(table, "age", age, NULL, 6), KILN_OK);
    CHECK_STATUS(kiln_table_add_int(table, "max HR", hr, hr_valid, 6), KILN_OK);
    CHECK_STATUS(kiln_table_add_string(table, "chest pain", pain_bytes, pain_offsets, NULL, 6), KILN_OK);
    /* Bad columns: wrong length, duplicate name, NULLs, offsets out of order. */
    CHECK_STATUS(kiln_table_add_float(table, "short", age, NULL, 5), KILN_ERR_SHAPE_MISMATCH);
    CHECK_STATUS(kiln_table_add_float(table, "age", age, NULL, 6), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_table_add_float(table, NULL, age, NULL, 6), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_table_add_float(table, "x", NULL, NULL, 6), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_table_add_float(NULL, "x", age, NULL, 6), KILN_ERR_NULL_POINTER);
    const int64_t bad_offsets[7] = {0, 7, 3, 22, 29, 41, 52};
    CHECK_STATUS(kiln_table_add_string(table, "bad", pain_bytes, bad_offsets, NULL, 6), KILN_ERR_INVALID_ARGUMENT);
    size_t count = 0;
    CHECK_STATUS(kiln_table_column_count(table, &count), KILN_OK);
    CHECK(count == 3);

    const char *spec =
        "{\"features\": ["
        "{\"output\": \"age_z\", \"op\": \"scale_to_z_score\", \"input\": \"age\"},"
        "{\"output\": \"hr_bucket\", \"op\": \"bucketize\", \"input\": \"max HR\", \"num_buckets\": 4},"
        "{\"output\": \"cp\", \"op\": \"one_hot\", \"input\": \"chest pain\", \"top_k\": 2}]}";
    kiln_transform_graph *graph = NULL;
    CHECK_STATUS(kiln_transform_analyze_table(spec, table, &graph), KILN_OK);
    size_t outputs = 0;
    CHECK_STATUS(kiln_transform_output_count(graph, &outputs), KILN_OK);
    CHECK(outputs == 3);
    const char *name = NULL;
    kiln_column_type type = 0;
    size_t width = 0;
    CHECK_STATUS(kiln_transform_output_info(graph, 2, &name, &type, &width), KILN_OK);
    CHECK(name != NULL && strcmp(name, "cp") == 0 && type == KILN_COLUMN_FLOAT && width == 2);
    CHECK_STATUS(kiln_transform_output_info(graph, 3, &name, &type, &width), KILN_ERR_INVALID_ARGUMENT);
    CHECK(name == NULL);

    kiln_table *result = NULL;
    CHECK_STATUS(kiln_transform_apply(graph, table, &result), KILN_OK);
    double z[6];
    CHECK_STATUS(kiln_table_get_float(result, 0, z, 6, NULL), KILN_OK);
    double mean = 0, variance = 0;
    for (int i = 0; i < 6; i++) mean += age[i] / 6;
    for (int i = 0; i < 6; i++) variance += (age[i] - mean) * (age[i] - mean) / 6;
    CHECK(fabs(z[0] - (63 - mean) / sqrt(variance)) < 1e-12);
    int64_t buckets[6];
    uint8_t valid[6];
    CHECK_STATUS(kiln_table_get_int(result, 1, buckets, 6, valid), KILN_OK);
    CHECK(buckets[0] == 1 && buckets[1] == 3 && buckets[5] == 0 && valid[3] == 0 && valid[0] == 1);
    double onehot[12];
    CHECK_STATUS(kiln_table_get_float(result, 2, onehot, 12, NULL), KILN_OK);
    /* Vocabulary: "typical" (3), then "asymptomatic" (ties by bytes); "atypical" is unseen. */
    CHECK(onehot[0] == 1 && onehot[1] == 0 && onehot[2] == 0 && onehot[3] == 0 && onehot[8] == 0 && onehot[9] == 1);
    CHECK_STATUS(kiln_table_get_float(result, 2, onehot, 11, NULL), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_table_get_int(result, 0, buckets, 6, NULL), KILN_ERR_SHAPE_MISMATCH);
    CHECK_STATUS(kiln_table_get_float(result, 9, z, 6, NULL), KILN_ERR_INVALID_ARGUMENT);

    /* The graph round-trips through JSON text. */
    char *json = NULL;
    CHECK_STATUS(kiln_transform_graph_to_json(graph, &json), KILN_OK);
    CHECK(json != NULL && strstr(json, "\"format\": \"kiln.transform_graph/1\"") != NULL);
    kiln_transform_graph *again = NULL;
    CHECK_STATUS(kiln_transform_graph_load_json(json, &again), KILN_OK);
    kiln_free(json);
    kiln_table *result2 = NULL;
    CHECK_STATUS(kiln_transform_apply(again, table, &result2), KILN_OK);
    double z2[6];
    CHECK_STATUS(kiln_table_get_float(result2, 0, z2, 6, NULL), KILN_OK);
    CHECK(memcmp(z, z2, sizeof z) == 0);

    /* A partial analysis merges into the same graph. */
    void *analysis = NULL;
    size_t partial_size = 0;
    CHECK_STATUS(kiln_transform_partial_table(spec, table, &analysis, &partial_size), KILN_OK);
    CHECK(analysis != NULL && partial_size > 0);
    const void *partials[2] = {analysis, analysis};
    const size_t sizes[2] = {partial_size, partial_size};
    kiln_transform_graph *merged = NULL;
    CHECK_STATUS(kiln_transform_merge(partials, sizes, 1, &merged), KILN_OK);
    kiln_table *result3 = NULL;
    CHECK_STATUS(kiln_transform_apply(merged, table, &result3), KILN_OK);
    double z3[6];
    CHECK_STATUS(kiln_table_get_float(result3, 0, z3, 6, NULL), KILN_OK);
    CHECK(memcmp(z, z3, sizeof z) == 0);
    kiln_table_free(result3);
    kiln_transform_graph_free(merged);
    merged = NULL;
    CHECK_STATUS(kiln_transform_merge(partials, sizes, 2, &merged), KILN_OK);
    kiln_transform_graph_free(merged);
    merged = NULL;
    CHECK_STATUS(kiln_transform_merge(NULL, sizes, 1, &merged), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_transform_merge(partials, sizes, 0, &merged), KILN_ERR_INVALID_ARGUMENT);
    const char junk[4] = {1, 2, 3, 4};
    const void *junk_partials[1] = {junk};
    const size_t junk_sizes[1] = {sizeof junk};
    CHECK_STATUS(kiln_transform_merge(junk_partials, junk_sizes, 1, &merged), KILN_ERR_FORMAT);
    CHECK(merged == NULL);
    kiln_free(analysis);

    /* Bad specs and data. */
    kiln_transform_graph *bad = NULL;
    CHECK_STATUS(kiln_transform_analyze_table("{\"features\": [{\"output\": \"a\", \"op\": \"nope\", \"input\": \"age\"}]}", table, &bad),
                 KILN_ERR_INVALID_ARGUMENT);
    CHECK(strstr(kiln_last_error(), "features[0].op") != NULL && bad == NULL);
    CHECK_STATUS(kiln_transform_analyze_table("{\"features\": [{\"output\": \"a\", \"op\": \"log1p\", \"input\": \"agee\"}]}", table, &bad),
                 KILN_ERR_NOT_FOUND);
    CHECK(strstr(kiln_last_error(), "'age' (float)") != NULL);
    CHECK_STATUS(kiln_transform_analyze_table("{not json", table, &bad), KILN_ERR_FORMAT);
    CHECK_STATUS(kiln_transform_analyze_table(NULL, table, &bad), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_transform_graph_load_json("{\"format\": \"kiln.transform_graph/9\"}", &bad), KILN_ERR_UNSUPPORTED);
    CHECK_STATUS(kiln_transform_graph_load("/nonexistent/graph.json", &bad), KILN_ERR_IO);
    CHECK_STATUS(kiln_transform_analyze_csv(spec, "/nonexistent.csv", NULL, &bad), KILN_ERR_IO);
    CHECK_STATUS(kiln_transform_analyze_csv(spec, "/nonexistent.csv", "{\"delimiter\": 5}", &bad), KILN_ERR_INVALID_ARGUMENT);
    kiln_table *partial = NULL;
    CHECK_STATUS(kiln_table_create(&partial), KILN_OK);
    CHECK_STATUS(kiln_table_add_float(partial, "age", age, NULL, 6), KILN_OK);
    kiln_table *none = NULL;
    CHECK_STATUS(kiln_transform_apply(graph, partial, &none), KILN_ERR_NOT_FOUND);
    CHECK(none == NULL);
    CHECK_STATUS(kiln_transform_apply(NULL, partial, &none), KILN_ERR_NULL_POINTER);

    kiln_table_free(partial);
    kiln_table_free(result);
    kiln_table_free(result2);
    kiln_table_free(table);
    kiln_table_free(NULL);
    kiln_transform_graph_free(graph);
    kiln_transform_graph_free(again);
    kiln_transform_graph_free(NULL);
}

/* Statistics from a table and from a CSV file, and bad input. */
static void test_statistics(void) {
    kiln_table *table = NULL;
    CHECK_STATUS(kiln_table_create(&table), KILN_OK);
    const double x[4] = {1, 2, 3, NAN};
    CHECK_STATUS(kiln_table_add_float(table, "x", x, NULL, 4), KILN_OK);
    char *json = NULL;
    CHECK_STATUS(kiln_statistics_from_table(table, NULL, &json), KILN_OK);
    CHECK(json != NULL && strstr(json, "\"format\": \"kiln.statistics/1\"") != NULL);
    CHECK(json != NULL && strstr(json, "\"mean\": 2.0") != NULL && strstr(json, "\"num_nan\": 1") != NULL);
    kiln_free(json);
    json = NULL;
    CHECK_STATUS(kiln_statistics_from_table(table, "nope", &json), KILN_ERR_NOT_FOUND);
    CHECK(json == NULL);
    CHECK_STATUS(kiln_statistics_from_table(NULL, NULL, &json), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_statistics_from_table(table, NULL, NULL), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_statistics_from_csv("/nonexistent.csv", NULL, NULL, &json), KILN_ERR_IO);
    CHECK_STATUS(kiln_statistics_from_csv("/nonexistent.csv", "[1]", NULL, &json), KILN_ERR_INVALID_ARGUMENT);

    /* Schema inference and validation on JSON text. */
    char *statistics = NULL;
    CHECK_STATUS(kiln_statistics_from_table(table, NULL, &statistics), KILN_OK);
    char *schema = NULL;
    CHECK_STATUS(kiln_schema_infer(statistics, "{\"infer_ranges\": true}", &schema), KILN_OK);
    CHECK(schema != NULL && strstr(schema, "\"kiln.schema/1\"") != NULL && strstr(schema, "\"range\"") != NULL);
    char *report = NULL;
    CHECK_STATUS(kiln_validate(statistics, schema, statistics, NULL, NULL, &report), KILN_OK);
    /* The NaN was seen, so the schema allows it: no anomalies, one drift value of 0. */
    CHECK(report != NULL && strstr(report, "\"num_anomalies\": 0") != NULL && strstr(report, "\"value\": 0.0") != NULL);
    kiln_free(report);
    report = NULL;
    CHECK_STATUS(kiln_validate(statistics, "{\"format\": \"kiln.schema/2\", \"features\": []}", NULL, NULL, NULL, &report),
                 KILN_ERR_UNSUPPORTED);
    CHECK_STATUS(kiln_validate("{}", schema, NULL, NULL, NULL, &report), KILN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kiln_validate(statistics, schema, NULL, NULL, "ELSEWHERE", &report), KILN_OK);
    kiln_free(report);
    report = NULL;
    char *unused = NULL;
    CHECK_STATUS(kiln_schema_infer("not json", NULL, &unused), KILN_ERR_FORMAT);
    CHECK(unused == NULL);
    CHECK_STATUS(kiln_schema_infer(statistics, "{\"bogus\": 1}", &report), KILN_ERR_INVALID_ARGUMENT);
    CHECK(report == NULL);
    kiln_free(schema);
    kiln_free(statistics);
    kiln_table_free(table);
}

/* Augmentation: a PNG made by Kiln decodes to the same pixels, a pipeline mirrors a negative-
 * stride view back, batches are written straight into caller memory, bad input is a status. */
static void test_augment(void) {
    enum { H = 6, W = 5, C = 3 };
    uint8_t pixels[H * W * C];
    for (int i = 0; i < H * W * C; i++) pixels[i] = (uint8_t)(i * 7);
    kiln_image_view view = {pixels, H, W, C, W * C, C, 1};
    void *png = NULL;
    size_t png_size = 0;
    CHECK_STATUS(kiln_image_encode(&view, "png", 95, &png, &png_size), KILN_OK);
    kiln_image *decoded = NULL;
    CHECK_STATUS(kiln_image_decode(png, png_size, &decoded), KILN_OK);
    int64_t h = 0, w = 0, c = 0;
    CHECK_STATUS(kiln_image_info(decoded, &h, &w, &c), KILN_OK);
    CHECK(h == H && w == W && c == C);
    uint8_t copy[H * W * C];
    CHECK_STATUS(kiln_image_copy(decoded, copy, sizeof copy), KILN_OK);
    CHECK(memcmp(copy, pixels, sizeof copy) == 0);
    CHECK_STATUS(kiln_image_copy(decoded, copy, 3), KILN_ERR_SHAPE_MISMATCH);
    kiln_image_free(decoded);
    CHECK_STATUS(kiln_image_decode(png, png_size / 2, &decoded), KILN_ERR_FORMAT);
    CHECK(decoded == NULL);
    /* Straight into caller memory: the size from the header, then the same pixels. */
    h = w = c = 0;
    CHECK_STATUS(kiln_image_decode_into(png, png_size, NULL, 0, &h, &w, &c), KILN_OK);
    CHECK(h == H && w == W && c == C);
    uint8_t into[H * W * C];
    memset(into, 0, sizeof into);
    CHECK_STATUS(kiln_image_decode_into(png, png_size, into, sizeof into, &h, &w, &c), KILN_OK);
    CHECK(memcmp(into, pixels, sizeof into) == 0);
    CHECK_STATUS(kiln_image_decode_into(png, png_size, into, sizeof into - 1, &h, &w, &c), KILN_ERR_SHAPE_MISMATCH);
    CHECK_STATUS(kiln_image_decode_into(png, png_size / 2, into, sizeof into, &h, &w, &c), KILN_ERR_FORMAT);
    CHECK_STATUS(kiln_image_decode_into(NULL, 0, into, sizeof into, &h, &w, &c), KILN_ERR_NULL_POINTER);
    void *jpeg = NULL;
    size_t jpeg_size = 0;
    CHECK_STATUS(kiln_image_encode(&view, "jpeg", 90, &jpeg, &jpeg_size), KILN_OK);
    CHECK_STATUS(kiln_image_decode(jpeg, jpeg_size, &decoded), KILN_OK);
    CHECK_STATUS(kiln_image_copy(decoded, copy, sizeof copy), KILN_OK);
    kiln_image_free(decoded);
    CHECK_STATUS(kiln_image_decode_into(jpeg, jpeg_size, into, sizeof into, &h, &w, &c), KILN_OK);
    CHECK(h == H && w == W && c == C && memcmp(into, copy, sizeof into) == 0);
    kiln_free(jpeg);
    kiln_free(png);

    kiln_augment_pipeline *pipeline = NULL;
    CHECK_STATUS(kiln_augment_pipeline_create("{\"transforms\": [{\"name\": \"Rotat\"}]}", &pipeline), KILN_ERR_INVALID_ARGUMENT);
    CHECK(strstr(kiln_last_error(), "Rotat") != NULL);
    CHECK_STATUS(kiln_augment_pipeline_create("{\"transforms\": [{\"name\": \"HorizontalFlip\", \"p\": 1}]}", &pipeline), KILN_OK);
    /* The view of the image mirrored left to right (negative pixel stride) flips back to the original. */
    kiln_image_view mirrored = {pixels + (W - 1) * C, H, W, C, W * C, -C, 1};
    kiln_image *flipped = NULL;
    char *replay = NULL;
    CHECK_STATUS(kiln_augment_apply(pipeline, &mirrored, 1, 0, &flipped, &replay), KILN_OK);
    CHECK_STATUS(kiln_image_copy(flipped, copy, sizeof copy), KILN_OK);
    CHECK(memcmp(copy, pixels, sizeof copy) == 0);
    CHECK(replay != NULL && strstr(replay, "HorizontalFlip") != NULL);
    kiln_free(replay);
    kiln_image_free(flipped);

    /* The same sample into caller memory: the shape always, the bytes only into memory of its size. */
    uint8_t into_flipped[H * W * C];
    int64_t single[3] = {0, 0, 0};
    CHECK_STATUS(kiln_augment_apply_into(pipeline, &mirrored, 1, 0, into_flipped, sizeof into_flipped, single), KILN_OK);
    CHECK(single[0] == H && single[1] == W && single[2] == C && memcmp(into_flipped, pixels, sizeof into_flipped) == 0);
    single[0] = 0;
    CHECK_STATUS(kiln_augment_apply_into(pipeline, &mirrored, 1, 0, into_flipped, 5, single), KILN_ERR_SHAPE_MISMATCH);
    CHECK(single[0] == H && strstr(kiln_last_error(), "out holds 5 bytes") != NULL);
    single[1] = 0;
    CHECK_STATUS(kiln_augment_apply_into(pipeline, &mirrored, 1, 0, NULL, 0, single), KILN_ERR_SHAPE_MISMATCH);
    CHECK(single[1] == W);
    CHECK_STATUS(kiln_augment_apply_into(pipeline, &mirrored, 1, 0, NULL, sizeof into_flipped, single), KILN_ERR_NULL_POINTER);
    CHECK_STATUS(kiln_augment_apply_into(pipeline, &mirrored, 1, 0, into_flipped, sizeof into_flipped, NULL), KILN_ERR_NULL_POINTER);

    kiln_image_view two[2] = {view, view};
    int64_t shape[4] = {0, 0, 0, 0};
    CHECK_STATUS(kiln_augment_batch(pipeline, two, 2, 1, 0, NULL, 0, shape), KILN_OK);
    CHECK(shape[0] == 2 && shape[1] == C && shape[2] == H && shape[3] == W);
    float batch[2 * C * H * W];
    CHECK_STATUS(kiln_augment_batch(pipeline, two, 2, 1, 0, batch, 2 * C * H * W, shape), KILN_OK);
    /* Without Normalize: value / 255 in CHW; sample 0 is flipped (p = 1). */
    CHECK(batch[0] == pixels[(W - 1) * C] / 255.0f);
    CHECK_STATUS(kiln_augment_batch(pipeline, two, 2, 1, 0, batch, 7, shape), KILN_ERR_SHAPE_MISMATCH);
    CHECK_STATUS(kiln_augment_batch(pipeline, NULL, 2, 1, 0, NULL, 0, shape), KILN_ERR_NULL_POINTER);
    kiln_image_view bad = {pixels, H, W, 2, W * 2, 2, 1};
    CHECK_STATUS(kiln_augment_apply(pipeline, &bad, 1, 0, &flipped, NULL), KILN_ERR_UNSUPPORTED);
    kiln_augment_pipeline_free(pipeline);
    kiln_augment_pipeline_free(NULL);
    kiln_image_free(NULL);
}

int main(int argc, char **argv) {
    test_versions();
    test_status_strings();
    test_threads_and_info();
    test_sgemm_values();
    test_sgemm_bad_input();
    test_transform();
    test_statistics();
    test_augment();
    if (argc > 1) {
        test_model(argv[1]);
    } else {
        fprintf(stderr, "usage: test_kiln path/to/tiny_cnn.onnx\n");
        failed++;
    }
    printf("c: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
