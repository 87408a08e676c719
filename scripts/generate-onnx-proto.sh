#!/usr/bin/env bash
# Regenerates Sources/KilnNN/ONNX/onnx.pb.swift from proto/onnx.proto. Run once after editing
# the .proto; the generated file is committed, so builds need neither protoc nor the plugin.
# Needs: apt-get install protobuf-compiler, and protoc-gen-swift built from swift-protobuf 1.39.0
# (swift build -c release --product protoc-gen-swift in a checkout), on PATH or in PROTOC_GEN_SWIFT.
set -euo pipefail
cd "$(dirname "$0")/.."
plugin=${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift)}
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Internal \
    --swift_out=Sources/KilnNN/ONNX -Iproto proto/onnx.proto
echo "wrote Sources/KilnNN/ONNX/onnx.pb.swift"
