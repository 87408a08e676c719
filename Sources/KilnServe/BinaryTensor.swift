import KilnCore
import KilnNN

/// A predict body of raw tensor bytes (`Content-Type: application/octet-stream`): one input's
/// values in row-major order, little-endian, in the input's dtype; the shape in the
/// `Kiln-Shape` header (`2,28,28,1`), the input named by `Kiln-Input` when the model has
/// several. No text to parse: the bytes are the tensor.
enum BinaryTensor {
    static func input(_ body: [UInt8], shape header: String?, name: String?, model: Model) throws -> (name: String, tensor: Tensor) {
        guard let header else {
            throw KilnError.invalidArgument("an application/octet-stream body needs the tensor's shape in a Kiln-Shape header, e.g. Kiln-Shape: 1,28,28,1")
        }
        let parts = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.filter { $0 != " " } }
        let shape = parts.compactMap { Int($0) }
        guard !parts.isEmpty, shape.count == parts.count, shape.allSatisfy({ $0 > 0 }) else {
            throw KilnError.invalidArgument("Kiln-Shape must be positive sizes separated by commas, e.g. 1,28,28,1; got '\(header)'")
        }
        let info: TensorInfo
        if let name {
            guard let named = model.inputs.first(where: { $0.name == name }) else {
                throw KilnError.invalidArgument("Kiln-Input: the model has no input '\(name)' (inputs: \(model.inputs.map(\.name).joined(separator: ", ")))")
            }
            info = named
        } else {
            guard model.inputs.count == 1 else {
                throw KilnError.invalidArgument("the model has \(model.inputs.count) inputs; name one in a Kiln-Input header (\(model.inputs.map(\.name).joined(separator: ", ")))")
            }
            info = model.inputs[0]
        }
        try TensorJSON.check(shape, info)
        let (count, overflow) = shape.reduce((1, false)) { partial, size in
            let (product, overflow) = partial.0.multipliedReportingOverflow(by: size)
            return (product, partial.1 || overflow)
        }
        guard !overflow, count.multipliedReportingOverflow(by: info.dtype.size) == (body.count, false) else {
            throw KilnError.shapeMismatch(
                "input '\(info.name)': shape [\(header)] of \(info.dtype) needs \(overflow ? "more than Int.max" : String(count * info.dtype.size)) bytes, the body has \(body.count)")
        }
        var tensor = try Tensor(zeros: shape, dtype: info.dtype)
        func fill<T: TensorElement>(_ type: T.Type) throws {
            try tensor.withUnsafeMutableBufferPointer(as: T.self) { destination in
                body.withUnsafeBytes { UnsafeMutableRawBufferPointer(destination).copyMemory(from: $0) }
            }
        }
        switch info.dtype {
        case .float32: try fill(Float.self)
        case .int64: try fill(Int64.self)
        case .int32: try fill(Int32.self)
        case .uint8: try fill(UInt8.self)
        }
        return (info.name, tensor)
    }
}
