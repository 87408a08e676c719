import KilnCore
import KilnNN

/// TensorFlow Serving's predict API on a served model.
enum Predict {
    /// `{"instances": [...]}` (row format: one example per item; an object per example for
    /// several inputs) → `{"predictions": [...]}`; `{"inputs": ...}` (columnar: the batch per
    /// input) → `{"outputs": ...}`. One output gives bare values, several an object by name.
    static func run(_ body: JSONValue, on served: ServedModel) throws -> JSONValue {
        guard let members = body.objectMembers else {
            throw KilnError.invalidArgument("the request body must be a JSON object with \"instances\" or \"inputs\"")
        }
        let inputs = served.model.inputs
        let outputs = served.model.outputs
        if let instances = body["instances"] {
            guard members.count == 1 || (members.count == 2 && body["signature_name"] != nil) else {
                throw KilnError.invalidArgument("give either \"instances\" or \"inputs\", not both")
            }
            guard let rows = instances.arrayValue, !rows.isEmpty else {
                throw KilnError.invalidArgument("\"instances\" must be a non-empty list")
            }
            var tensors: [String: Tensor] = [:]
            for info in inputs {
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
            let results = try served.run(tensors)
            let predictions: [JSONValue] = try (0..<rows.count).map { index in
                if outputs.count == 1 { return try TensorJSON.json(results[outputs[0].name]!, index: index) }
                return .object(try outputs.map { ($0.name, try TensorJSON.json(results[$0.name]!, index: index)) })
            }
            return .object([("predictions", .array(predictions))])
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
            let results = try served.run(tensors)
            if outputs.count == 1 { return .object([("outputs", try TensorJSON.json(results[outputs[0].name]!))]) }
            return .object([("outputs", .object(try outputs.map { ($0.name, try TensorJSON.json(results[$0.name]!)) }))])
        }
        throw KilnError.invalidArgument("the request body needs \"instances\" (row format) or \"inputs\" (columnar format)")
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

    static func status(_ models: [ServedModel]) -> JSONValue {
        .object([("model_version_status", .array(models.map { model in
            .object([("version", .string(String(model.version))), ("state", .string("AVAILABLE")),
                     ("status", .object([("error_code", .string("OK")), ("error_message", .string(""))]))])
        }))])
    }
}
