import KilnCore
import KilnNN
import KilnTabular
import KilnTransform

/// TensorFlow Serving's predict API on a served model.
enum Predict {
    /// `{"instances": [...]}` (row format: one example per item; an object per example for
    /// several inputs) → `{"predictions": [...]}`; `{"inputs": ...}` (columnar: the batch per
    /// input) → `{"outputs": ...}`. One output gives bare values, several an object by name.
    static func run(_ body: JSONValue, on served: ServedModel) async throws -> JSONValue {
        guard let members = body.objectMembers else {
            throw KilnError.invalidArgument("the request body must be a JSON object with \"instances\" or \"inputs\"")
        }
        let inputs = served.model.inputs
        if let instances = body["instances"] {
            guard members.count == 1 || (members.count == 2 && body["signature_name"] != nil) else {
                throw KilnError.invalidArgument("give either \"instances\" or \"inputs\", not both")
            }
            guard let rows = instances.arrayValue, !rows.isEmpty else {
                throw KilnError.invalidArgument("\"instances\" must be a non-empty list")
            }
            if inputs.count == 1, let images = try imageInstances(rows, input: inputs[0].name) {
                return try await runImages(images, on: served)
            }
            var tensors: [String: Tensor] = [:]
            if let graph = served.transform {
                tensors = try transformed(rows, graph, served.model)
            }
            for info in inputs where served.transform == nil {
                var flat: [Double] = []
                var exampleShape: [Int]? = nil
                for (index, row) in rows.enumerated() {
                    let value: JSONValue
                    if inputs.count == 1, row.objectMembers == nil {
                        value = row
                    } else {
                        guard let named = row[info.name] else {
                            throw KilnError.invalidArgument("instances[\(index)]: missing input '\(info.name)' (inputs: \(inputs.map(\.name).joined(separator: ", ")))")
                        }
                        value = named
                    }
                    let (values, shape) = try TensorJSON.flatten(value, what: "instances[\(index)]")
                    if let exampleShape, exampleShape != shape {
                        throw KilnError.shapeMismatch("instances[\(index)]: shape \(shape) differs from the first instance's \(exampleShape)")
                    }
                    exampleShape = shape
                    flat += values
                }
                tensors[info.name] = try TensorJSON.tensor(flat, shape: [rows.count] + (exampleShape ?? []), info: info)
            }
            return try self.rows(try await served.infer(tensors), count: rows.count, served)
        }
        if let columnar = body["inputs"] {
            var tensors: [String: Tensor] = [:]
            if inputs.count == 1, columnar.objectMembers == nil {
                let (values, shape) = try TensorJSON.flatten(columnar, what: "inputs")
                tensors[inputs[0].name] = try TensorJSON.tensor(values, shape: shape, info: inputs[0])
            } else {
                for info in inputs {
                    guard let value = columnar[info.name] else {
                        throw KilnError.invalidArgument("inputs: missing '\(info.name)' (inputs: \(inputs.map(\.name).joined(separator: ", ")))")
                    }
                    let (values, shape) = try TensorJSON.flatten(value, what: "inputs.\(info.name)")
                    tensors[info.name] = try TensorJSON.tensor(values, shape: shape, info: info)
                }
            }
            return try columns(try await served.infer(tensors), served)
        }
        throw KilnError.invalidArgument("the request body needs \"instances\" (row format) or \"inputs\" (columnar format)")
    }

    /// Row format's response: `{"predictions": [...]}`, bare values for one output, an object
    /// by output name for several.
    static func rows(_ results: [String: Tensor], count: Int, _ served: ServedModel) throws -> JSONValue {
        let outputs = served.model.outputs
        let predictions: [JSONValue] = try (0..<count).map { index in
            if outputs.count == 1 { return try TensorJSON.json(results[outputs[0].name]!, index: index) }
            return .object(try outputs.map { ($0.name, try TensorJSON.json(results[$0.name]!, index: index)) })
        }
        return .object([("predictions", .array(predictions))])
    }

    /// Columnar format's response: `{"outputs": ...}`.
    static func columns(_ results: [String: Tensor], _ served: ServedModel) throws -> JSONValue {
        let outputs = served.model.outputs
        if outputs.count == 1 { return .object([("outputs", try TensorJSON.json(results[outputs[0].name]!))]) }
        return .object([("outputs", .object(try outputs.map { ($0.name, try TensorJSON.json(results[$0.name]!)) }))])
    }

    /// Raw feature records through the model's transform graph (what was analysed at training
    /// time), then into the model: by name when the model's inputs are named like the graph's
    /// outputs, else all outputs side by side (multi-valued ones expanded) in one float input.
    static func transformed(_ rows: [JSONValue], _ graph: TransformGraph, _ model: Model) throws -> [String: Tensor] {
        let result = try graph.apply(try graph.table(fromInstances: rows))
        let count = rows.count
        func values(_ output: OutputColumn) throws -> (values: [Double], width: Int) {
            switch output {
            case .single(let column):
                return (try (0..<count).map { row in
                    guard let value = column.number(row) else {
                        throw KilnError.invalidArgument(
                            "instances[\(row)]: feature '\(column.name)' is missing or not numeric after the transform (impute it in the transform spec)")
                    }
                    return value
                }, 1)
            case .multi(let sparse):
                return ((0..<count).flatMap { sparse.dense($0) }, sparse.width)
            }
        }
        var tensors: [String: Tensor] = [:]
        if model.inputs.allSatisfy({ info in result.outputs.contains { $0.name == info.name } }) {
            for info in model.inputs {
                let (flat, width) = try values(try result.output(info.name))
                let shape = info.shape.count == 1 ? [count] : [count, width]
                tensors[info.name] = try TensorJSON.tensor(flat, shape: shape, info: info)
            }
            return tensors
        }
        guard model.inputs.count == 1 else {
            throw KilnError.shapeMismatch(
                "the model has \(model.inputs.count) inputs; name them like the transform's outputs (\(result.outputs.map(\.name).joined(separator: ", ")))")
        }
        let columns = try result.outputs.map(values)
        let width = columns.reduce(0) { $0 + $1.width }
        var flat = [Double](repeating: 0, count: count * width)
        var offset = 0
        for column in columns {
            for row in 0..<count {
                for index in 0..<column.width { flat[row * width + offset + index] = column.values[row * column.width + index] }
            }
            offset += column.width
        }
        tensors[model.inputs[0].name] = try TensorJSON.tensor(flat, shape: [count, width], info: model.inputs[0])
        return tensors
    }

    /// `:classify`: the top `top_k` (default 5) labels of the first output, with scores, per
    /// instance (TensorFlow Serving's `{"results": [[["label", score], ...], ...]}`).
    static func classify(_ body: JSONValue, on served: ServedModel) async throws -> JSONValue {
        guard let labels = served.labels else {
            throw KilnError(.notFound, "model '\(served.name)' has no labels.txt, so it cannot classify; use :predict")
        }
        let topK = body["top_k"]?.intValue ?? 5
        guard topK >= 1 else { throw KilnError.invalidArgument("top_k must be at least 1") }
        var request = body
        if case .object(let members) = body { request = .object(members.filter { $0.0 != "top_k" }) }
        let predictions = try await run(request, on: served)["predictions"]?.arrayValue ?? []
        return .object([("results", .array(try predictions.enumerated().map { index, prediction in
            var scores = prediction.arrayValue?.compactMap(\.doubleValue) ?? []
            if case .object = prediction { scores = prediction.objectMembers?.first?.1.arrayValue?.compactMap(\.doubleValue) ?? [] }
            guard scores.count == labels.count else {
                throw KilnError(.internalError, "instances[\(index)]: the model gives \(scores.count) scores for \(labels.count) labels")
            }
            let ranked = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(topK)
            return .array(ranked.map { .array([.string(labels[$0]), .double(scores[$0])]) })
        }))])
    }

    /// TensorFlow Serving's model metadata: the serving_default signature.
    static func metadata(_ served: ServedModel) -> JSONValue {
        func describe(_ info: TensorInfo) -> (String, JSONValue) {
            let dtype: String = switch info.dtype {
            case .float32: "DT_FLOAT"
            case .int64: "DT_INT64"
            case .int32: "DT_INT32"
            case .uint8: "DT_UINT8"
            }
            let dims: [JSONValue] = info.shape.map { dimension in
                if case .fixed(let size) = dimension { return .object([("size", .string(String(size)))]) }
                return .object([("size", .string("-1"))])
            }
            return (info.name, .object([("dtype", .string(dtype)), ("tensor_shape", .object([("dim", .array(dims))])), ("name", .string(info.name))]))
        }
        return .object([
            ("model_spec", .object([("name", .string(served.name)), ("version", .string(String(served.version)))])),
            ("metadata", .object([("signature_def", .object([("signature_def", .object([("serving_default", .object([
                ("inputs", .object(served.model.inputs.map(describe))),
                ("outputs", .object(served.model.outputs.map(describe))),
                ("method_name", .string("tensorflow/serving/predict")),
            ]))]))]))])),
        ])
    }

    /// TensorFlow Serving's version status: AVAILABLE, LOADING, or END (retired, or failed to
    /// load with the reason in `status`).
    static func status(_ versions: [(version: Int, state: ModelRepository.VersionState)]) -> JSONValue {
        .object([("model_version_status", .array(versions.map { version, state in
            let (name, code, message): (String, String, String) = switch state {
            case .loading: ("LOADING", "OK", "")
            case .available: ("AVAILABLE", "OK", "")
            case .end: ("END", "OK", "")
            case .failed(let reason, _): ("END", "UNKNOWN", reason)
            }
            return .object([("version", .string(String(version))), ("state", .string(name)),
                            ("status", .object([("error_code", .string(code)), ("error_message", .string(message))]))])
        }))])
    }
}
