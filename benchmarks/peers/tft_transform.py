"""The TF Transform peer of `kiln bench transform --cases analyze_transform`: the same work as a
`preprocessing_fn` run by `tft_beam.AnalyzeAndTransformDataset` on Apache Beam's DirectRunner (as
TFT runs by default), reading the CSV with tfx-bsl's CsvTFXIO: scale_to_z_score and 10 quantile
buckets of every float, scale_to_0_1 of the ints, a top-1000 vocabulary + 1 OOV bucket and a
1000-bucket hash of every categorical, tf-idf of the text over a 1000-term vocabulary. Missing
cells stay missing (sparse inputs), as Kiln skips them. The transformed rows are counted, so the
transform runs over every row. `--threads N` gives the DirectRunner N worker processes."""
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import apache_beam as beam  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_transform as tft  # noqa: E402
import tensorflow_transform.beam as tft_beam  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402
from tensorflow_metadata.proto.v0 import schema_pb2  # noqa: E402
from tfx_bsl.public import tfxio  # noqa: E402

from tabular_common import CATEGORICALS, FLOATS, INTS, TEXT, arguments, parent_only, report, timed_rows  # noqa: E402

COLUMNS = FLOATS + INTS + CATEGORICALS + [TEXT, "label"]


def schema():
    proto = schema_pb2.Schema()
    types = {**{c: schema_pb2.FLOAT for c in FLOATS}, **{c: schema_pb2.INT for c in INTS + ["label"]},
             **{c: schema_pb2.BYTES for c in CATEGORICALS + [TEXT]}}
    for name in COLUMNS:
        feature = proto.feature.add()
        feature.name = name
        feature.type = types[name]
    return proto


def preprocessing_fn(inputs, floats=tuple(FLOATS), ints=tuple(INTS), categoricals=tuple(CATEGORICALS), text=TEXT):
    # Self-contained (imports and columns inside): Beam's worker processes unpickle it alone.
    import tensorflow as tf
    import tensorflow_transform as tft
    outputs = {}
    for name in floats:
        outputs[f"{name}_z"] = tft.scale_to_z_score(inputs[name])
        outputs[f"{name}_bucket"] = tft.bucketize(inputs[name], num_buckets=10)
    for name in ints:
        outputs[f"{name}_01"] = tft.scale_to_0_1(tf.cast(inputs[name], tf.float32))
    for name in categoricals:
        outputs[f"{name}_id"] = tft.compute_and_apply_vocabulary(inputs[name], top_k=1000, num_oov_buckets=1)
        outputs[f"{name}_hash"] = tft.hash_strings(inputs[name], hash_buckets=1000)
    documents = tf.squeeze(tf.sparse.to_dense(inputs[text], default_value=b""), axis=1)
    words = tf.strings.split(tf.strings.lower(documents)).to_sparse()
    ids = tft.compute_and_apply_vocabulary(words, top_k=1000, num_oov_buckets=1)
    term_ids, weights = tft.tfidf(ids, 1001)
    outputs["text_tfidf_ids"] = term_ids
    outputs["text_tfidf_weights"] = weights
    return outputs


def analyze_transform(path, threads):
    source = tfxio.CsvTFXIO(file_pattern=path, column_names=COLUMNS, schema=schema(), skip_header_lines=1)
    options = PipelineOptions(flags=[], direct_num_workers=threads,
                              direct_running_mode="multi_processing" if threads > 1 else "in_memory")
    with tempfile.TemporaryDirectory() as folder:
        with beam.Pipeline(options=options) as pipeline, tft_beam.Context(temp_dir=folder):
            data = pipeline | "Read" >> source.BeamSource()
            (transformed, _), _ = ((data, source.TensorAdapterConfig())
                                   | tft_beam.AnalyzeAndTransformDataset(preprocessing_fn, output_record_batches=True))
            _ = (transformed
                 | "Rows" >> beam.Map(lambda batch_and_keys: batch_and_keys[0].num_rows)
                 | "Total" >> beam.CombineGlobally(sum)
                 | "Write" >> beam.io.WriteToText(os.path.join(folder, "rows"), shard_name_template=""))
        with open(os.path.join(folder, "rows")) as file:
            return int(file.read())


def main():
    args = arguments(runs=1)
    samples, cpu, rows = timed_rows(lambda: analyze_transform(args.path, args.threads), args.runs, args.warmup)
    kernel = parent_only(f"tensorflow-transform {tft.__version__} (Beam DirectRunner, {args.threads} worker(s)", args.threads)
    report("analyze_transform", samples, "rows_per_s", rows, cpu, args.threads, kernel)


if __name__ == "__main__":
    main()
